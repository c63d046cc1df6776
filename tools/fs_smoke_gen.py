#!/usr/bin/python3
"""Write scenarios/fs-smoke/*.json (and fs-edges/): virtio-fs scenarios, their FUSE messages as bytes.

The scenarios carry every FUSE request as hex (req.raw), one group of digits
per struct field, so that a reader can follow them without this script; it is
kept so that the bytes can be made again, or new messages added, without
counting offsets by hand. Layouts are <linux/fuse.h>'s (linux-libc-dev 6.1,
FUSE 7.38; the sizes asserted below are what `sizeof` says there):

  fuse_in_header  40: len u32, opcode u32, unique u64, nodeid u64, uid u32, gid u32, pid u32,
                      total_extlen u16, padding u16
  fuse_out_header 16: len u32, error i32, unique u64
  fuse_init_in    64: major, minor, max_readahead, flags, flags2, unused[11] (u32 each)
  fuse_init_out   64: major u32 @0, minor u32 @4, max_readahead @8, flags @12, ..., max_write u32 @20
  fuse_getattr_in 16; fuse_attr_out 104 (attr @16); fuse_attr 88 (ino @0, size @8, mode @60, nlink @64)
  fuse_entry_out 128: nodeid u64 @0, ..., attr @40
  fuse_open_in 8: flags, open_flags; fuse_open_out 16: fh u64 @0
  fuse_read_in 40: fh u64, offset u64, size u32, read_flags, lock_owner u64, flags, padding
  fuse_release_in 24: fh u64, flags u32, release_flags u32, lock_owner u64
  fuse_forget_in 8: nlookup u64

usage: tools/fs_smoke_gen.py [OUTDIR]   (default scenarios/fs-smoke)
"""
import json
import os
import struct
import sys

FUSE_LOOKUP, FUSE_FORGET, FUSE_GETATTR, FUSE_OPEN, FUSE_READ, FUSE_RELEASE, FUSE_INIT = 1, 2, 3, 14, 15, 18, 26
IN_HDR, OUT_HDR = 40, 16
S_IFMT, S_IFDIR, S_IFREG = 0o170000, 0o040000, 0o100000
ROOT = 1  # FUSE_ROOT_ID

# The file the test puts in the shared directory (tests/py/test_virtiofsd.py, README).
FILE_NAME = b"hello.txt"
FILE_DATA = b"virtio-sim read this through virtiofsd\n"


def hexf(*fields):
    """Hex of packed fields, one group per field."""
    return " ".join(f.hex() for f in fields if f)


def request(opcode, unique, nodeid, *body):
    total = IN_HDR + sum(len(b) for b in body)
    hdr = [struct.pack("<I", total), struct.pack("<I", opcode), struct.pack("<Q", unique),
           struct.pack("<Q", nodeid), struct.pack("<III", 0, 0, 0), struct.pack("<HH", 0, 0)]
    assert sum(len(h) for h in hdr) == IN_HDR
    return hexf(*hdr, *body)


def reply_header(reply_len, error=0):
    """The fuse_out_header checks every reply gets: its length, error, and the unique echoed."""
    checks = [{"name": "out.len", "offset": 0, "width": 4, "value": reply_len},
              {"name": "out.error", "offset": 4, "width": 4, "value": error & 0xFFFFFFFF},
              {"name": "out.unique", "offset": 8, "width": 8, "equals_sent": 8}]
    return checks


def fuse_init(unique, queue=1):
    body = struct.pack("<IIIII", 7, 31, 0x20000, 0, 0) + bytes(44)
    assert len(body) == 64
    reply = OUT_HDR + 64  # minor >= 23: the whole fuse_init_out
    return {"op": "req.raw", "queue": queue, "comment": "FUSE_INIT 7.31: the session starts (request queue)",
            "data": request(FUSE_INIT, unique, 0, body[:20], body[20:]), "len": 256,
            "expect_used_len": reply,
            "expect_reply": reply_header(reply) + [
                {"name": "init.major", "offset": 16, "width": 4, "value": 7},
                {"name": "init.minor", "offset": 20, "width": 4, "min": 1},
                {"name": "init.max_write", "offset": 36, "width": 4, "min": 4096}]}


def fuse_getattr_root(unique):
    reply = OUT_HDR + 104
    return {"op": "req.raw", "queue": 1, "comment": "FUSE_GETATTR of the root (nodeid 1): a directory",
            "data": request(FUSE_GETATTR, unique, ROOT, struct.pack("<IIQ", 0, 0, 0)), "len": 256,
            "expect_used_len": reply,
            "expect_reply": reply_header(reply) + [
                {"name": "attr.mode is S_IFDIR", "offset": 16 + 16 + 60, "width": 4, "mask": S_IFMT,
                 "value": S_IFDIR},
                {"name": "attr.nlink", "offset": 16 + 16 + 64, "width": 4, "min": 1}]}


def fuse_lookup(unique):
    reply = OUT_HDR + 128
    return {"op": "req.raw", "queue": 1, "comment": "FUSE_LOOKUP of hello.txt in the root: a regular file of "
            "%d bytes; its nodeid is saved" % len(FILE_DATA),
            "data": request(FUSE_LOOKUP, unique, ROOT, FILE_NAME + b"\0"), "len": 256,
            "expect_used_len": reply,
            "expect_reply": reply_header(reply) + [
                {"name": "entry.nodeid", "offset": 16, "width": 8, "min": 2, "save": "nodeid"},
                {"name": "attr.size", "offset": 16 + 40 + 8, "width": 8, "value": len(FILE_DATA)},
                {"name": "attr.mode is S_IFREG", "offset": 16 + 40 + 60, "width": 4, "mask": S_IFMT,
                 "value": S_IFREG}]}


def fuse_open(unique):
    reply = OUT_HDR + 16
    return {"op": "req.raw", "queue": 1, "comment": "FUSE_OPEN of the looked-up nodeid, O_RDONLY; the file "
            "handle is saved",
            "data": request(FUSE_OPEN, unique, 0, struct.pack("<II", 0, 0)), "len": 64,
            "patch": [{"offset": 16, "width": 8, "saved": "nodeid"}],
            "expect_used_len": reply,
            "expect_reply": reply_header(reply) + [
                {"name": "open.fh", "offset": 16, "width": 8, "save": "fh"}]}


def fuse_read(unique):
    reply = OUT_HDR + len(FILE_DATA)
    return {"op": "req.raw", "queue": 1, "comment": "FUSE_READ of 4096 bytes from offset 0: the file's "
            "content, and nothing more",
            "data": request(FUSE_READ, unique, 0, struct.pack("<QQ", 0, 0), struct.pack("<II", 4096, 0),
                            struct.pack("<QII", 0, 0, 0)),
            "len": OUT_HDR + 4096,
            "patch": [{"offset": 16, "width": 8, "saved": "nodeid"}, {"offset": IN_HDR, "width": 8, "saved": "fh"}],
            "expect_used_len": reply,
            "expect_reply": reply_header(reply) + [
                {"name": "read data", "offset": OUT_HDR, "data": FILE_DATA.hex()}]}


def fuse_release(unique):
    return {"op": "req.raw", "queue": 1, "comment": "FUSE_RELEASE of the file handle",
            "data": request(FUSE_RELEASE, unique, 0, struct.pack("<QII", 0, 0, 0), struct.pack("<Q", 0)),
            "len": 64,
            "patch": [{"offset": 16, "width": 8, "saved": "nodeid"}, {"offset": IN_HDR, "width": 8, "saved": "fh"}],
            "expect_used_len": OUT_HDR, "expect_reply": reply_header(OUT_HDR)}


def fuse_forget(unique):
    return {"op": "req.raw", "queue": 0, "comment": "FUSE_FORGET of the lookup on the hiprio queue: no reply, "
            "the buffer comes back with used len 0",
            "data": request(FUSE_FORGET, unique, 0, struct.pack("<Q", 1)),
            "patch": [{"offset": 16, "width": 8, "saved": "nodeid"}],
            "expect_used_len": 0}


STATUS_LIVE = {"status_has": ["ACKNOWLEDGE", "DRIVER", "FEATURES_OK", "DRIVER_OK"],
               "status_lacks": ["NEEDS_RESET", "FAILED"]}

SCENARIOS = {
    "negotiation": {
        "description": "initialisation against a virtio-fs back-end: device id 26, VERSION_1 offered, "
                       "the config space (tag, one request queue) read inside a ConfigGeneration bracket, "
                       "the device live",
        "steps": [
            {"op": "mmio.read", "offset": "0x008", "value": 26, "comment": "DeviceID: VIRTIO_ID_FS"},
            {"op": "mmio.write", "offset": "0x014", "value": 1, "comment": "DeviceFeaturesSel: bits 32-63"},
            {"op": "mmio.read", "offset": "0x010", "value": 1, "comment": "VERSION_1, nothing else up there"},
            {"op": "mmio.write", "offset": "0x014", "value": 0},
            {"op": "mmio.read", "offset": "0x0fc", "comment": "ConfigGeneration, before"},
            {"op": "mmio.read", "offset": "0x100", "value": "0x6d697376",
             "comment": "tag[0..3]: 'vsim' (the front-end's default tag, vsim-fs)"},
            {"op": "mmio.read", "offset": "0x124", "value": 1, "comment": "num_request_queues"},
            {"op": "mmio.read", "offset": "0x0fc", "unchanged": True, "comment": "ConfigGeneration, after"},
            dict(op="expect", **STATUS_LIVE),
        ],
        "expect": dict(violations=[], completed=0, **STATUS_LIVE),
    },
    "init": {
        "description": "FUSE_INIT on the request queue (queue 1): a whole fuse_init_out, error 0, the "
                       "unique echoed, major 7",
        "steps": [fuse_init(1), {"op": "wait"}],
        "expect": dict(violations=[], completed=1, **STATUS_LIVE),
    },
    "getattr-root": {
        "description": "FUSE_INIT, then FUSE_GETATTR of the root inode: a directory",
        "steps": [fuse_init(1), {"op": "wait"}, fuse_getattr_root(2), {"op": "wait"}],
        "expect": dict(violations=[], completed=2, **STATUS_LIVE),
    },
    "lookup-read": {
        "description": "FUSE_LOOKUP of the test's file, FUSE_OPEN with the nodeid the lookup returned, "
                       "FUSE_READ with the file handle the open returned (the content compared), "
                       "FUSE_RELEASE, and FUSE_FORGET on the hiprio queue",
        "steps": [fuse_init(1), {"op": "wait"}, fuse_lookup(2), {"op": "wait"}, fuse_open(3), {"op": "wait"},
                  fuse_read(4), {"op": "wait"}, fuse_release(5), {"op": "wait"}, fuse_forget(6),
                  {"op": "wait"}],
        "expect": dict(violations=[], completed=6, **STATUS_LIVE),
    },
    "../fs-edges/short-request": {
        "description": "a request shorter than fuse_in_header (8 bytes), then a well-formed FUSE_GETATTR: a "
                       "device may fail the request or ask for a reset (DEVICE_NEEDS_RESET), but must go on "
                       "serving or say why",
        "steps": [fuse_init(1), {"op": "wait"},
                  {"op": "req.raw", "queue": 1, "comment": "8 bytes of a FUSE_GETATTR header: len 40, opcode 3, "
                   "and nothing more", "data": hexf(struct.pack("<I", 40), struct.pack("<I", FUSE_GETATTR)),
                   "len": 256},
                  {"op": "wait"}, fuse_getattr_root(2), {"op": "wait"}],
        "expect": dict(violations=[], completed=3),
    },
    "reset-reinit": {
        "description": "a session, a device reset in the middle (the rings stop), initialisation again "
                       "and a new session: FUSE_INIT and FUSE_GETATTR answered again",
        "steps": [fuse_init(1), {"op": "wait"}, fuse_getattr_root(2), {"op": "wait"},
                  {"op": "reset"}, {"op": "init"}, dict(op="expect", **STATUS_LIVE),
                  fuse_init(3), {"op": "wait"}, fuse_getattr_root(4), {"op": "wait"}],
        "expect": dict(violations=[], completed=4, **STATUS_LIVE),
    },
}


def dump(doc):
    """One step per line, as the other scenarios are written."""
    head = {k: v for k, v in doc.items() if k != "steps" and k != "expect"}
    lines = ["{"]
    for k, v in head.items():
        lines.append("  %s: %s," % (json.dumps(k), json.dumps(v)))
    lines.append('  "steps": [')
    steps = doc["steps"]
    for i, st in enumerate(steps):
        lines.append("    " + json.dumps(st) + ("," if i + 1 < len(steps) else ""))
    lines.append("  ],")
    lines.append('  "expect": ' + json.dumps(doc["expect"]))
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "scenarios", "fs-smoke")
    os.makedirs(out, exist_ok=True)
    for name, sc in SCENARIOS.items():
        doc = {"name": "fs-" + os.path.basename(name), "description": sc["description"], "device": "fs", "num_queues": 2,
               "steps": sc["steps"], "expect": sc["expect"]}
        path = os.path.normpath(os.path.join(out, name + ".json"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(dump(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
