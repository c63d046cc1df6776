#!/usr/bin/python3
"""Writes the virtio-gpu scenarios (scenarios/gpu, scenarios/gpu-edges and the
gpu mutant proofs in scenarios/mutants) from the command layouts of
<linux/virtio_gpu.h>, so that every byte a scenario sends is computed, not
typed by hand. Run it from the repository root after changing it:

    /usr/bin/python3 tools/gpu_scenarios_gen.py [--root DIR]

(--root writes under DIR/scenarios instead: tests/py/test_gpu.py checks that
the committed files are what this script writes.)

Scenario format: scenarios/README.md ("Requests of any device type").
"""
import json
import os
import struct
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))

# enum virtio_gpu_ctrl_type (<linux/virtio_gpu.h>)
GET_DISPLAY_INFO, CREATE_2D, UNREF, SET_SCANOUT, FLUSH, TRANSFER, ATTACH, DETACH = range(0x100, 0x108)
GET_CAPSET_INFO, GET_CAPSET, GET_EDID, ASSIGN_UUID, CREATE_BLOB, SET_SCANOUT_BLOB = range(0x108, 0x10E)
CTX_CREATE, CTX_DESTROY, CTX_ATTACH, CTX_DETACH, CREATE_3D, XFER_TO_3D, XFER_FROM_3D, SUBMIT_3D = range(0x200, 0x208)
MAP_BLOB, UNMAP_BLOB = 0x208, 0x209
UPDATE_CURSOR, MOVE_CURSOR = 0x300, 0x301
BLOB_MEM_GUEST = 1
BLOB_ALIGN = 16384  # device_config blob_alignment of the blob scenarios: a 16 KiB blob fits the scratch area
OK_NODATA, OK_DISPLAY_INFO, OK_CAPSET_INFO, OK_CAPSET, OK_EDID, OK_UUID = range(0x1100, 0x1106)
ERR_UNSPEC, ERR_OOM, ERR_SCANOUT, ERR_RESOURCE, ERR_CONTEXT, ERR_PARAM = range(0x1200, 0x1206)
FLAG_FENCE = 1
B8G8R8A8, B8G8R8X8 = 1, 2

HDR = 24
SCRATCH = 0xF0000  # the driver model's scratch area with the default 1 MiB arena


def hdr(typ, fence=None, ctx=0):
    return struct.pack("<IIQIB3x", typ, FLAG_FENCE if fence is not None else 0, fence or 0, ctx, 0)


def hexs(b):
    return b.hex()


def create_2d(rid, w, h, fmt=B8G8R8A8, fence=None):
    return hdr(CREATE_2D, fence) + struct.pack("<IIII", rid, fmt, w, h)


def unref(rid, fence=None):
    return hdr(UNREF, fence) + struct.pack("<II", rid, 0)


def rect(x, y, w, h):
    return struct.pack("<IIII", x, y, w, h)


def set_scanout(sid, rid, x, y, w, h, fence=None):
    return hdr(SET_SCANOUT, fence) + rect(x, y, w, h) + struct.pack("<II", sid, rid)


def flush(rid, x, y, w, h, fence=None):
    return hdr(FLUSH, fence) + rect(x, y, w, h) + struct.pack("<II", rid, 0)


def transfer(rid, x, y, w, h, offset=0, fence=None):
    return hdr(TRANSFER, fence) + rect(x, y, w, h) + struct.pack("<QII", offset, rid, 0)


def attach(rid, entries, nr=None, fence=None):
    body = hdr(ATTACH, fence) + struct.pack("<II", rid, len(entries) if nr is None else nr)
    for addr, length in entries:
        body += struct.pack("<QII", addr, length, 0)
    return body


def create_blob(rid, size, entries, mem=BLOB_MEM_GUEST, fence=None):
    body = hdr(CREATE_BLOB, fence) + struct.pack("<IIIIQQ", rid, mem, 0, len(entries), 0, size)
    for addr, length in entries:
        body += struct.pack("<QII", addr, length, 0)
    return body


def map_blob(rid, offset, fence=None):
    return hdr(MAP_BLOB, fence) + struct.pack("<IIQ", rid, 0, offset)


def detach(rid, fence=None):
    return hdr(DETACH, fence) + struct.pack("<II", rid, 0)


def get_edid(sid, fence=None):
    return hdr(GET_EDID, fence) + struct.pack("<II", sid, 0)


def cursor(typ, sid, x, y, rid=0, hot=(0, 0)):
    return hdr(typ) + struct.pack("<IIII", sid, x, y, 0) + struct.pack("<IIII", rid, hot[0], hot[1], 0)


def req(data, expect_type, length=HDR, used=None, queue=None, comment=None, fence=None, extra=()):
    st = {"op": "req.raw"}
    if queue is not None:
        st["queue"] = queue
    if comment:
        st["comment"] = comment
    st["data"] = hexs(data)
    st["len"] = length
    checks = [{"name": "hdr.type", "offset": 0, "width": 4, "value": expect_type}]
    if fence is not None:
        checks.append({"name": "hdr.flags", "offset": 4, "width": 4, "value": FLAG_FENCE})
        checks.append({"name": "hdr.fence_id", "offset": 8, "width": 8, "equals_sent": 8})
    checks.extend(extra)
    st["expect_reply"] = checks
    if used is not None:
        st["expect_used_len"] = used
    return st


def ok(data, comment=None, fence=None):
    return req(data, OK_NODATA, used=HDR, comment=comment, fence=fence)


def err(data, code, comment=None, length=HDR):
    return req(data, code, used=HDR, comment=comment, length=length)


def pixels(w, h, seed=0):
    """A deterministic picture: B, G, R, A bytes from the pixel's position."""
    out = bytearray()
    for y in range(h):
        for x in range(w):
            out += bytes([(x * 16 + seed) & 0xFF, (y * 16 + seed) & 0xFF, (x + y + seed) & 0xFF, 0xFF])
    return bytes(out)


def sub(pic, w, x, y, rw, rh):
    out = bytearray()
    for j in range(rh):
        start = ((y + j) * w + x) * 4
        out += pic[start:start + rw * 4]
    return bytes(out)


def scenario(name, description, steps, violations=(), completed=None, extra=None, device_config=None):
    doc = {"name": name, "description": description, "device": "gpu"}
    if extra:
        doc.update(extra)
    if device_config:
        doc["device_config"] = device_config
    doc["steps"] = steps
    exp = {"violations": list(violations)}
    # every request a well-formed scenario sends completes
    exp["completed"] = sum(1 for st in steps if st["op"] == "req.raw")
    doc["expect"] = exp
    return doc


def framebuffer(rid=1, w=8, h=8, seed=0, fence=None, at=SCRATCH):
    """create, write the picture into guest memory, attach, transfer: the well-formed sequence."""
    pic = pixels(w, h, seed)
    return pic, [
        ok(create_2d(rid, w, h, fence=fence), f"RESOURCE_CREATE_2D {rid}: {w}x{h} B8G8R8A8", fence=fence),
        {"op": "raw.write", "addr": hex(at), "data": hexs(pic)},
        ok(attach(rid, [(at, len(pic))]), "RESOURCE_ATTACH_BACKING: one entry over the picture"),
        ok(transfer(rid, 0, 0, w, h), "TRANSFER_TO_HOST_2D of the whole resource"),
    ]


def write(dirname, doc):
    # a mutant's scenario is scenarios/mutants/MUTANT.json (tests/py/test_mutants.py)
    base = doc["name"][len("mutant-"):] if dirname == "mutants" else doc["name"]
    path = os.path.join(ROOT, "scenarios", dirname, base + ".json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")


def display_info_checks(n, w=1024, h=768):
    # the displays past num_scanouts are the check's to judge (gpu.dev-display-info)
    checks = []
    for i in range(n):
        base = HDR + i * 24
        checks.append({"name": f"pmodes[{i}].enabled", "offset": base + 16, "width": 4, "value": 1})
        checks.append({"name": f"pmodes[{i}].r.width", "offset": base + 8, "width": 4, "value": w})
        checks.append({"name": f"pmodes[{i}].r.height", "offset": base + 12, "width": 4, "value": h})
    return checks


def well_formed():
    out = []
    pic, fb = framebuffer()
    out.append(scenario(
        "scanout-basic", "the spec's framebuffer sequence: display info, create, attach, transfer, set_scanout, "
        "flush; the scanout shows the picture byte for byte",
        [req(hdr(GET_DISPLAY_INFO), OK_DISPLAY_INFO, length=408, used=408, comment="GET_DISPLAY_INFO",
             extra=display_info_checks(1))] + fb + [
            ok(set_scanout(0, 1, 0, 0, 8, 8), "SET_SCANOUT 0 -> resource 1"),
            ok(flush(1, 0, 0, 8, 8), "RESOURCE_FLUSH"),
            {"op": "wait"},
            {"op": "gpu.expect_scanout", "index": 0, "expect_data": hexs(pic)},
        ], completed=7))

    # a transfer of a sub-rectangle lands at its place; the scanout shows a sub-rectangle
    w = h = 8
    pic = pixels(w, h, 3)
    stride = w * 4
    steps = [ok(create_2d(2, w, h)), {"op": "raw.write", "addr": hex(SCRATCH), "data": hexs(pic)},
             ok(attach(2, [(SCRATCH, len(pic))])),
             ok(transfer(2, 2, 3, 4, 2, offset=3 * stride + 2 * 4), "TRANSFER of the 4x2 rect at (2,3): offset = y*stride + x*4"),
             ok(set_scanout(0, 2, 2, 3, 4, 2), "the scanout shows exactly that rect"),
             ok(flush(2, 2, 3, 4, 2)), {"op": "wait"},
             {"op": "gpu.expect_scanout", "index": 0, "expect_data": hexs(sub(pic, w, 2, 3, 4, 2))}]
    out.append(scenario("transfer-subrect", "a transfer of a sub-rectangle copies those rows only, from the "
                        "offset of its top-left pixel; the scanout shows that rectangle", steps, completed=6))

    # backing in several entries (a scatter list across a page boundary, out of order in memory)
    w, h = 16, 16
    pic = pixels(w, h, 9)
    half = len(pic) // 2
    a1, a2 = SCRATCH + 0x2000, SCRATCH + 0x800
    steps = [ok(create_2d(3, w, h)),
             {"op": "raw.write", "addr": hex(a1), "data": hexs(pic[:half])},
             {"op": "raw.write", "addr": hex(a2), "data": hexs(pic[half:])},
             ok(attach(3, [(a1, half - 20), (a1 + half - 20, 20), (a2, half)]),
                "three entries: rows split inside an entry, the second half below the first in memory"),
             ok(transfer(3, 0, 0, w, h)), ok(set_scanout(0, 3, 0, 0, w, h)), ok(flush(3, 0, 0, w, h)),
             {"op": "wait"}, {"op": "gpu.expect_scanout", "index": 0, "expect_data": hexs(pic)}]
    out.append(scenario("backing-scatter", "backing as a scatter list: entries not contiguous in guest memory, a "
                        "row split across two entries", steps, completed=6))

    # fences: echo of fence_id, flag set, ctx_id copied
    pic, fb = framebuffer(rid=4, w=4, h=4, fence=77)
    steps = fb + [ok(set_scanout(0, 4, 0, 0, 4, 4, fence=78), "fenced SET_SCANOUT", fence=78),
                  ok(flush(4, 0, 0, 4, 4, fence=0xFFFFFFFFFFFFFFF0), "fenced flush, a fence_id using all 64 bits",
                     fence=0xFFFFFFFFFFFFFFF0),
                  {"op": "wait"}, {"op": "gpu.expect_scanout", "index": 0, "expect_data": hexs(pic)}]
    out.append(scenario("fence-echo", "every fenced command is answered with VIRTIO_GPU_FLAG_FENCE and its "
                        "fence_id, after it was processed", steps, completed=6))

    # detach / unref / recreate; unref of a scanout resource disables the scanout
    pic, fb = framebuffer(rid=5, w=4, h=4)
    steps = fb + [ok(set_scanout(0, 5, 0, 0, 4, 4)),
                  ok(detach(5), "RESOURCE_DETACH_BACKING"),
                  err(transfer(5, 0, 0, 4, 4), ERR_UNSPEC, "a transfer after detach has no backing"),
                  err(detach(5), ERR_UNSPEC, "detach twice"),
                  ok(unref(5), "RESOURCE_UNREF of the resource on the scanout"),
                  err(flush(5, 0, 0, 4, 4), ERR_RESOURCE, "the resource is gone"),
                  ok(create_2d(5, 4, 4), "the id can be used again"),
                  ok(set_scanout(0, 0, 0, 0, 0, 0), "resource_id 0 disables the scanout"),
                  {"op": "wait"}]
    out.append(scenario("resource-lifecycle", "detach, transfer without backing, unref of a scanout resource, "
                        "reuse of its id, disabling a scanout", steps, completed=11))

    # EDID and multihead display info
    steps = [req(hdr(GET_DISPLAY_INFO), OK_DISPLAY_INFO, length=408, used=408,
                 extra=display_info_checks(2, 640, 480)),
             req(get_edid(1), OK_EDID, length=1056, used=1056, comment="GET_EDID of scanout 1",
                 extra=[{"name": "size", "offset": 24, "width": 4, "value": 128},
                        {"name": "edid header", "offset": 32, "data": "00ffffffffffff00"}]),
             err(get_edid(2), ERR_PARAM, "no scanout 2"),
             err(set_scanout(2, 0, 0, 0, 0, 0), ERR_SCANOUT, "scanout id past num_scanouts"),
             {"op": "wait"}]
    out.append(scenario("multihead-edid", "two scanouts: display info for both, EDID per scanout, scanout ids "
                        "past num_scanouts refused", steps, completed=4,
                        device_config={"num_scanouts": 2, "width": 640, "height": 480}))

    # cursor queue
    # a wait after each creation: the cursorq is another queue, and nothing
    # orders the device's work across queues (the cursor command could be
    # taken before the resource exists)
    steps = [ok(create_2d(6, 64, 64, fence=1), "the cursor resource, 64x64, fenced", fence=1), {"op": "wait"},
             req(cursor(UPDATE_CURSOR, 0, 10, 20, rid=6, hot=(1, 1)), OK_NODATA, used=HDR, queue=1,
                 comment="UPDATE_CURSOR on the cursorq"),
             req(cursor(MOVE_CURSOR, 0, 30, 40), OK_NODATA, used=HDR, queue=1, comment="MOVE_CURSOR"),
             {"op": "req.raw", "queue": 1, "comment": "a cursor command without a response buffer (as Linux sends them)",
              "data": hexs(cursor(MOVE_CURSOR, 0, 1, 2)), "expect_used_len": 0},
             ok(create_2d(7, 32, 32)), {"op": "wait"},
             req(cursor(UPDATE_CURSOR, 0, 0, 0, rid=7), ERR_PARAM, used=HDR, queue=1, comment="not 64x64"),
             {"op": "wait"}]
    out.append(scenario("cursor", "UPDATE_CURSOR and MOVE_CURSOR on the cursorq, with and without a response "
                        "buffer; a cursor resource must be 64x64", steps, completed=6))

    # events_read / events_clear: a display event pending at start is acknowledged by the driver model's probe
    steps = [req(hdr(GET_DISPLAY_INFO), OK_DISPLAY_INFO, length=408, used=408,
                 comment="the query the DISPLAY event asks the driver for", extra=display_info_checks(1)),
             {"op": "wait"}]
    out.append(scenario("events-clear", "VIRTIO_GPU_EVENT_DISPLAY pending at DRIVER_OK: the driver writes it to "
                        "events_clear and events_read reads 0 (judged by the driver model's probe, "
                        "gpu.dev-events-clear; over virtio-pci config_generation moves with it)", steps,
                        device_config={"display_event": True}))

    # a device reset drops every resource (and the driver forgets what its fences promised)
    pic, fb = framebuffer(rid=8, w=4, h=4, fence=11)
    steps = fb + [ok(set_scanout(0, 8, 0, 0, 4, 4)), {"op": "wait"},
                  {"op": "gpu.expect_scanout", "index": 0, "expect_data": hexs(pic)},
                  {"op": "reset"}, {"op": "init"},
                  err(flush(8, 0, 0, 4, 4), ERR_RESOURCE, "the fenced resource did not survive the reset"),
                  ok(create_2d(8, 4, 4), "its id is free again"), {"op": "wait"}]
    out.append(scenario("reset-drops-resources", "a device reset drops resources and scanouts: a resource "
                        "created (fenced) before it is unknown after it", steps))

    # resource budget: OUT_OF_MEMORY past it, freed bytes can be used again
    steps = [ok(create_2d(1, 64, 64)), err(create_2d(2, 64, 64), ERR_OOM, "past max_resource_bytes (16 KiB + 1)"),
             ok(unref(1)), ok(create_2d(2, 64, 64), "the freed bytes are available again"), {"op": "wait"}]
    out.append(scenario("resource-budget", "device_config max_resource_bytes bounds the pixels held: a create past "
                        "it answers ERR_OUT_OF_MEMORY", steps, completed=4,
                        device_config={"max_resource_bytes": 64 * 64 * 4 + 1}))
    # blobs with BLOB_ALIGNMENT: a guest-memory blob of one blob_alignment;
    # MAP_BLOB needs a host visible memory region, which this model has not
    steps = [ok(create_blob(1, BLOB_ALIGN, [(SCRATCH, BLOB_ALIGN)]),
                "RESOURCE_CREATE_BLOB 1: guest memory, size blob_alignment, one entry over the scratch area"),
             err(map_blob(1, 0), ERR_UNSPEC, "MAP_BLOB at offset 0 (aligned): no host visible memory region here",
                 length=32),
             err(transfer(1, 0, 0, 4, 4), ERR_PARAM, "a blob has no 2D pixels: a 2D transfer names a rectangle "
                 "outside it"),
             ok(unref(1)), {"op": "wait"}]
    out.append(scenario("blob-aligned", "device_config blob_alignment 16384 offers RESOURCE_BLOB and "
                        "BLOB_ALIGNMENT: the driver reads blob_alignment and creates a guest blob whose size is a "
                        "multiple of it (gpu.drv-blob-size-aligned) and maps it at an aligned offset "
                        "(gpu.drv-map-offset-aligned)", steps, device_config={"blob_alignment": BLOB_ALIGN}))
    return out


def edges():
    out = []
    E = "gpu-edges"

    def one(name, description, steps, completed, **kw):
        out.append(scenario(name, description, steps + [{"op": "wait"}], completed=completed, **kw))

    one("resource-id-zero", "resource id 0 is invalid for every command that names one",
        [err(create_2d(0, 4, 4), ERR_RESOURCE), err(unref(0), ERR_RESOURCE), err(attach(0, [(SCRATCH, 64)]), ERR_RESOURCE),
         err(transfer(0, 0, 0, 1, 1), ERR_RESOURCE), err(flush(0, 0, 0, 1, 1), ERR_RESOURCE)], 5)
    A = BLOB_ALIGN
    one("blob-invalid", "blob_alignment 16384: RESOURCE_CREATE_BLOB with resource id 0, HOST3D memory (VIRGL "
        "never offered), size 0, no entries, entries covering half the size, an entry outside guest memory: "
        "refused without creating anything (the id is still free after)",
        [err(create_blob(0, A, [(SCRATCH, A)]), ERR_RESOURCE, "resource id 0"),
         err(create_blob(1, A, [(SCRATCH, A)], mem=2), ERR_PARAM, "HOST3D needs VIRGL"),
         err(create_blob(1, 0, [(SCRATCH, A)]), ERR_PARAM, "size 0"),
         err(create_blob(1, A, []), ERR_PARAM, "nr_entries 0"),
         err(create_blob(1, 2 * A, [(SCRATCH, A)]), ERR_PARAM, "entries cover half the size"),
         err(create_blob(1, A, [(0xFFFFFFFFFFFFF000, A)]), ERR_PARAM, "an entry wrapping past guest memory"),
         ok(create_blob(1, A, [(SCRATCH, A)]), "the id is still free")], 7,
        device_config={"blob_alignment": A})
    one("create-invalid", "duplicate ids, zero and huge dimensions (width x height x 4 past 2^32 and 2^64), unknown "
        "formats: refused without allocating",
        [ok(create_2d(1, 4, 4)), err(create_2d(1, 4, 4), ERR_RESOURCE, "duplicate"),
         err(create_2d(2, 0, 4), ERR_PARAM, "width 0"), err(create_2d(2, 4, 0), ERR_PARAM, "height 0"),
         err(create_2d(2, 0xFFFFFFFF, 0xFFFFFFFF), ERR_PARAM, "4 x 2^64: would wrap any 64-bit size"),
         err(create_2d(2, 16384, 16384), ERR_OOM, "1 GiB: past the byte budget"),
         err(create_2d(2, 4, 4, fmt=5), ERR_PARAM, "format 5 is not a format"),
         ok(create_2d(2, 4, 4, fmt=B8G8R8X8))], 8)
    one("rect-outside", "scanout, flush and transfer rectangles past the resource (and wrapping 32 bits), a "
        "transfer offset past the resource and the backing",
        [ok(create_2d(1, 8, 8)), ok(attach(1, [(SCRATCH, 256)])),
         err(set_scanout(0, 1, 4, 4, 8, 8), ERR_PARAM, "set_scanout past the resource"),
         err(set_scanout(0, 1, 0, 0, 0, 0), ERR_PARAM, "an empty scanout rectangle"),
         err(set_scanout(0, 1, 0xFFFFFFFF, 0, 2, 2), ERR_PARAM, "x + width wraps"),
         err(flush(1, 0, 7, 8, 2), ERR_PARAM, "flush past the bottom"),
         err(transfer(1, 0, 0, 9, 1), ERR_PARAM, "transfer wider than the resource"),
         err(transfer(1, 1, 0, 0xFFFFFFFF, 1), ERR_PARAM, "x + width wraps"),
         err(transfer(1, 0, 0, 8, 8, offset=4), ERR_PARAM, "offset + rows past the resource"),
         err(transfer(1, 0, 0, 8, 8, offset=0xFFFFFFFFFFFFFFF0), ERR_PARAM, "offset wraps 64 bits"),
         ok(transfer(1, 0, 0, 8, 8)), ok(transfer(1, 0, 0, 0, 0), "an empty rectangle copies nothing")], 12)
    one("transfer-short-backing", "backing shorter than the transfer's source rows: refused, nothing copied",
        [ok(create_2d(1, 8, 8)), ok(attach(1, [(SCRATCH, 100)])), err(transfer(1, 0, 0, 8, 8), ERR_PARAM),
         ok(transfer(1, 0, 0, 8, 3), "the rows the backing does hold")], 4)
    one("transfer-without-backing", "a transfer to a resource that never had backing",
        [ok(create_2d(1, 4, 4)), err(transfer(1, 0, 0, 4, 4), ERR_UNSPEC),
         ok(attach(1, [(SCRATCH, 64)])), err(attach(1, [(SCRATCH, 64)]), ERR_UNSPEC, "attach twice")], 4)
    one("backing-outside-memory", "backing entries past the end of guest memory, wrapping 64 bits, in a hole, "
        "or in driver-only memory are refused at attach",
        [ok(create_2d(1, 4, 4)),
         err(attach(1, [(0xFFFF0, 64)]), ERR_PARAM, "straddles the end of the 1 MiB arena"),
         err(attach(1, [(0x100000, 64)]), ERR_PARAM, "past the end"),
         err(attach(1, [(0xFFFFFFFFFFFFFFF0, 64)]), ERR_PARAM, "addr + length wraps"),
         err(attach(1, [(SCRATCH, 32), (0xE8000, 32)]), ERR_PARAM, "the second entry is in a hole"),
         err(attach(1, [(0xEC000, 64)]), ERR_PARAM, "driver-only memory"),
         ok(attach(1, [(SCRATCH, 64)]), "a good list is still taken")], 7,
        extra={"memory": [{"base": "0xe8000", "len": "0x1000", "access": "none"},
                          {"base": "0xec000", "len": "0x1000", "access": "driver-only"}]})
    one("backing-over-rings", "backing placed over the descriptor table, the available and the used ring: the "
        "device only reads it (no write lands there), and the transfer copies what the rings hold",
        [ok(create_2d(1, 16, 16)), ok(attach(1, [(0x1000, 0x400)]), "queue 0's rings"),
         ok(transfer(1, 0, 0, 16, 16)), ok(set_scanout(0, 1, 0, 0, 16, 16)), ok(flush(1, 0, 0, 16, 16))], 5,
        extra={"ring": "split"})
    one("nr-entries-huge", "nr_entries far beyond the request, beyond max_backing_entries, and 0",
        [ok(create_2d(1, 4, 4)),
         err(attach(1, [(SCRATCH, 64)], nr=0xFFFFFFFF), ERR_PARAM, "2^32 - 1 entries announced"),
         err(attach(1, [(SCRATCH, 64)], nr=2), ERR_PARAM, "two announced, one sent"),
         err(attach(1, [], nr=0), ERR_PARAM, "no entry"),
         err(attach(1, [(SCRATCH + 16 * i, 16) for i in range(5)]), ERR_PARAM, "5 entries, max_backing_entries 4"),
         ok(attach(1, [(SCRATCH + 16 * i, 16) for i in range(4)]))], 6,
        device_config={"max_backing_entries": 4})
    one("unknown-commands", "command types nobody defined, responses used as commands, cursor commands on the "
        "controlq, capsets when num_capsets is 0, blob and UUID commands of features not offered",
        [err(hdr(0), ERR_UNSPEC), err(hdr(0x1FF), ERR_UNSPEC), err(hdr(0xFFFFFFFF), ERR_UNSPEC),
         err(hdr(OK_NODATA), ERR_UNSPEC), err(cursor(MOVE_CURSOR, 0, 0, 0), ERR_UNSPEC),
         err(hdr(GET_CAPSET_INFO) + struct.pack("<II", 0, 0), ERR_PARAM),
         err(hdr(CREATE_BLOB) + bytes(32), ERR_UNSPEC), err(hdr(ASSIGN_UUID) + struct.pack("<II", 1, 0), ERR_UNSPEC),
         req(hdr(GET_DISPLAY_INFO, 5) + struct.pack("<I", 0), OK_DISPLAY_INFO, length=408, used=408, fence=5,
             comment="trailing bytes after a bare header are ignored")], 9)
    one("commands-3d", "3D and context commands: VIRGL is never offered, so each is refused with an error",
        [err(hdr(t, ctx=1) + bytes(72), ERR_UNSPEC, f"3D command 0x{t:x}") for t in range(CTX_CREATE, SUBMIT_3D + 1)]
        + [err(hdr(0x208) + bytes(16), ERR_UNSPEC, "RESOURCE_MAP_BLOB")], 9)
    one("short-requests", "requests shorter than the header or than their command",
        [err(bytes(4), ERR_UNSPEC, "4 bytes: no header"), err(hdr(CREATE_2D)[:23], ERR_UNSPEC, "23 bytes"),
         err(create_2d(1, 4, 4)[:39], ERR_PARAM, "create_2d one byte short"),
         err(set_scanout(0, 1, 0, 0, 4, 4)[:40], ERR_PARAM), err(transfer(1, 0, 0, 1, 1)[:50], ERR_PARAM),
         err(attach(1, [(SCRATCH, 64)])[:31], ERR_PARAM), err(get_edid(0)[:24], ERR_PARAM)], 7)
    one("response-too-small", "response buffers too small: the header does not fit (not executed, used 0), or "
        "the display info / EDID does not (ERR_UNSPEC in the header)",
        [{"op": "req.raw", "data": hexs(create_2d(1, 4, 4)), "len": 23, "expect_used_len": 0,
          "comment": "no room for the header: the command is not executed"},
         ok(create_2d(1, 4, 4), "so id 1 is still free"),
         err(hdr(GET_DISPLAY_INFO), ERR_UNSPEC, "407 bytes for a 408-byte response", length=407),
         err(get_edid(0), ERR_UNSPEC, "a 1056-byte response in 100", length=100)], 4)
    return [(E, d) for d in out]


def mutants():
    out = []

    def mut(name, check, description, steps, **kw):
        out.append(scenario("mutant-" + name, description, steps + [{"op": "wait"}], violations=[check],
                            extra={"mutants": [name], **kw.pop("extra", {})}, **kw))

    mut("dev.gpu-fence-no-echo", "gpu.dev-fence-echo", "the response to a fenced command lacks the fence",
        [{"op": "req.raw", "data": hexs(create_2d(1, 4, 4, fence=9)), "len": HDR}])
    mut("dev.gpu-fence-early", "gpu.dev-fence-complete",
        "a fenced create is answered before it runs: the next command does not find the resource",
        [{"op": "req.raw", "data": hexs(create_2d(1, 4, 4, fence=3)), "len": HDR},
         {"op": "req.raw", "data": hexs(attach(1, [(SCRATCH, 64)])), "len": HDR}])
    mut("dev.gpu-3d-accepted", "gpu.dev-response-type", "CTX_CREATE answered OK although VIRGL was never offered",
        [{"op": "req.raw", "data": hexs(hdr(CTX_CREATE, ctx=1) + bytes(72)), "len": HDR}])
    mut("dev.gpu-display-phantom", "gpu.dev-display-info", "display info enables a display past num_scanouts",
        [{"op": "req.raw", "data": hexs(hdr(GET_DISPLAY_INFO)), "len": 408}])
    mut("dev.gpu-events-sticky", "gpu.dev-events-clear", "events_clear writes are ignored",
        [], device_config={"display_event": True})
    blob = {"op": "req.raw", "data": hexs(create_blob(1, BLOB_ALIGN, [(SCRATCH, BLOB_ALIGN)])), "len": HDR}
    mut("drv.gpu-blob-size-pages", "gpu.drv-blob-size-aligned",
        "blob_alignment 16384: the driver's RESOURCE_CREATE_BLOB of 16384 bytes goes out as 20480 (whole 4 KiB "
        "pages, not alignment units); the device refuses it", [blob],
        device_config={"blob_alignment": BLOB_ALIGN})
    mut("drv.gpu-map-offset-pages", "gpu.drv-map-offset-aligned",
        "blob_alignment 16384: the driver's RESOURCE_MAP_BLOB at offset 0 goes out at 4096 (a page, not an "
        "alignment unit); the device, without a host visible region, refuses it either way",
        [blob, {"op": "req.raw", "data": hexs(map_blob(1, 0)), "len": 32}],
        device_config={"blob_alignment": BLOB_ALIGN})
    return [("mutants", d) for d in out]


def main():
    global ROOT
    if len(sys.argv) == 3 and sys.argv[1] == "--root":
        ROOT = sys.argv[2]
        for sub_dir in ("gpu", "gpu-edges", "mutants"):
            os.makedirs(os.path.join(ROOT, "scenarios", sub_dir), exist_ok=True)
    for d in well_formed():
        write("gpu", d)
    for dirname, d in edges() + mutants():
        write(dirname, d)


if __name__ == "__main__":
    main()
