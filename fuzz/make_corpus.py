#!/usr/bin/python3
"""Seed corpora and dictionaries for the libFuzzer targets (fuzz/README.md).

    /usr/bin/python3 fuzz/make_corpus.py            rewrite fuzz/corpus/* and fuzz/dict/*
    /usr/bin/python3 fuzz/make_corpus.py --out DIR  write them under DIR instead

fuzz_split_device: every scenario under scenarios/ is encoded into the byte
format that sim/fuzz_decode.c decodes (this file holds the encoder: the
decoder's inverse, as far as the format can say the same thing). Steps the
format has no words for are left out (`expect` steps, per-step expectations,
queues other than 0); values it cannot say exactly are approximated (data
patterns, large reads, sectors past the decoder's disk); a scenario whose
queue size is not a power of two up to 256 is skipped. Duplicates (scenarios
that encode to the same bytes) are written once.

fuzz_packed_device: the packed-ring scenarios, and the split-ring ones that
write no split layout by hand (no raw.desc / raw.avail / raw.avail_idx /
raw.avail_flags / raw.used_event), run on the packed ring as `--ring packed`
does, encoded into the packed target's byte format (PackedEncoder: the ops both
rings share are encoded as for split; queue sizes 1..256, any). A raw.pdesc
index is taken modulo the queue size, as the engine does.

fuzz_blk_request: a hand-written set of small chains (one per request type and
per interesting layout), through the same encoder conventions.

fuzz_scenario: the scenario files themselves (those of 2 KB or less), compacted
(no indentation, no description), the smallest first up to a byte budget.

fuzz_vhost_user: skeletons (what the driver does, when the back-end uses
buffers, signals, hangs up or sends something unasked) completed by
`virtio-sim fuzz-complete fuzz_vhost_user SKELETON PROFILE` into the
conversation a well-behaved back-end of each profile has with the front-end
(the CLI runs the real adapter and adds each reply it asks for); the CLI is
VSIM_CLI or build/virtio-sim, so `make` first.

The byte format is versioned (VSIM_FUZZ_FORMAT_VERSION in sim/fuzz_decode.h);
when it changes, change the encoder here with it and rerun this script.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_SEED_ARENA = 16 << 20  # fuzz_scenario seeds: arenas up to this size

# ---- the split-ring driver-op format (mirror of sim/fuzz_decode.c) ----------

ARENA = 0x40000
SCRATCH = ARENA - 0x10000
RING_BASE = 0x1000
DISK_SECTORS = 256
MAX_OPS = 256
MAX_HEADS = 8

OPS = ["raw.desc", "raw.avail", "raw.avail_idx", "raw.avail_flags", "raw.used_event",
       "raw.write", "kick", "wait", "blk.read", "blk.write", "blk.other", "lifecycle",
       "fault.delay_irq", "poll"]
OP = {name: i for i, name in enumerate(OPS)}
LEN_TABLE = [0, 1, 2, 15, 16, 17, 20, 32, 48, 64, 512, 513, 1024, 4096, 65536, 0xFFFFFFFF]
LATENCY_TABLE = [0, 0, 0, 0, 1, 2, 7, 64]
BATCH_TABLE = [1, 1, 2, 16]
POLICIES = {"scripted": 0, "round-robin": 1, "random": 2}
BLK_TYPES = [0, 1, 4, 8, 11, 13, 10, 14]
DESC_FLAGS = {"NEXT": 1, "WRITE": 2, "INDIRECT": 4}
EXTRAS = ("FLUSH", "DISCARD", "WRITE_ZEROES")


def u16(v):
    return bytes([v & 0xFF, (v >> 8) & 0xFF])


def u32(v):
    return u16(v) + u16(v >> 16)


def u64(v):
    return u32(v) + u32(v >> 32)


def num(v):
    """A scenario integer: JSON int or "0x..." string."""
    if isinstance(v, str):
        return int(v, 16)
    return int(v)


class Unsupported(Exception):
    """The scenario cannot be encoded (its shape, not a step)."""


class SplitEncoder:
    OP = OP  # this ring's opcode table

    def __init__(self, qsize, src_scratch):
        self.qsize = qsize
        self.src_scratch = src_scratch  # where the source scenario's scratch area is
        self.desc = RING_BASE
        self.avail = self.desc + 16 * qsize
        self.used = (self.avail + 6 + 2 * qsize + 63) & ~63
        self.src_desc, self.src_avail, self.src_used = self.desc, self.avail, self.used
        self.avail_est = 0
        self.out = bytearray()
        self.ops = 0
        self.expect = []  # the steps the decoder will emit, with the fields it keeps exactly

    def op(self, name, payload=b""):
        if self.ops >= MAX_OPS:
            return False
        self.out += bytes([self.OP[name]]) + payload
        self.ops += 1
        return True

    # selectors
    def addr(self, a):
        if self.src_scratch <= a < self.src_scratch + 0x10000:
            off = a - self.src_scratch
            if off % 0x800 == 0:
                return bytes([1 | ((off // 0x800) << 3)])
            return bytes([0]) + u16(off)
        for kind, base, unit in ((2, self.src_desc, 16), (3, self.src_avail, 2), (4, self.src_used, 4)):
            if base <= a < base + 256 * unit and (a - base) % unit == 0:
                return bytes([kind, (a - base) // unit])
        if a % 0x1000 == 0 and a < 32 * 0x1000:
            return bytes([7 | ((a // 0x1000) << 3)])
        return bytes([6]) + u64(a)

    def length(self, n):
        if n in LEN_TABLE:
            return bytes([LEN_TABLE.index(n) << 2])
        if n < 64:
            return bytes([(n << 2) | 1])
        if n % 16 == 0 and 16 <= n <= 1024:
            return bytes([((n // 16 - 1) << 2) | 2])
        return bytes([3]) + u32(n)

    def index(self, i):
        if i < self.qsize and i != 0xFF:
            return bytes([i])
        return bytes([0xFF]) + u16(i)

    def ring_idx(self, v):
        d = (v - self.avail_est) & 0xFFFF
        rel = d - 0x10000 if d >= 0x8000 else d
        if -127 <= rel <= 127:
            return bytes([rel & 0xFF])
        return bytes([0x80]) + u16(v)

    @staticmethod
    def sector(s):
        if s < 0xF0:
            return bytes([s])
        return bytes([0xFF]) + u64(s)

    @staticmethod
    def blk_len(n):
        if n < 0x80 and n % 512 != 0:
            return bytes([0x80 | n])
        k = max(1, min(8, (n + 511) // 512))
        return bytes([k - 1])

    def decoded_blk_len(self, n):
        b = self.blk_len(n)[0]
        return b & 0x7F if b & 0x80 else 512 * (1 + b % 8)

    # steps
    def step(self, st, nxt):
        """Encode one scenario step; returns how many steps it consumed (1 or 2)."""
        op = st["op"]
        if st.get("queue", 0) != 0:
            return 1
        if op == "raw.desc":
            flags = st.get("flags", 0)
            if isinstance(flags, list):
                flags = sum(DESC_FLAGS[f] for f in flags)
            idx, a, n, nx = num(st["index"]), num(st["addr"]), num(st["len"]), num(st.get("next", 0))
            fb = bytes([flags]) if flags < 0x80 and flags <= 7 else bytes([0x80]) + u16(flags)
            if self.op(op, bytes([idx]) + self.addr(a) + self.length(n) + fb + self.index(nx)):
                self.expect.append({"op": op, "index": idx, "len": n, "flags": flags, "next": nx})
        elif op == "raw.avail":
            heads = [num(h) for h in st["heads"]]
            for k in range(0, len(heads), MAX_HEADS):
                part = heads[k:k + MAX_HEADS]
                if not self.op(op, bytes([len(part) - 1]) + b"".join(self.index(h) for h in part)):
                    break
                self.expect.append({"op": op, "heads": part})
                self.avail_est = (self.avail_est + len(part)) & 0xFFFF
        elif op in ("raw.avail_idx", "raw.used_event"):
            v = num(st["value"])
            if self.op(op, self.ring_idx(v)):
                self.expect.append({"op": op, "value": v})
                if op == "raw.avail_idx":
                    self.avail_est = v
        elif op == "raw.avail_flags":
            v = num(st["value"])
            if self.op(op, bytes([v]) if v <= 1 else bytes([0xFF]) + u16(v)):
                self.expect.append({"op": op, "value": v})
        elif op == "raw.write":
            a, data = num(st["addr"]), self.data_bytes(st["data"])[:256]
            if self.src_scratch <= a < self.src_scratch + 0x10000:
                a = a - self.src_scratch + SCRATCH
            for k in range(0, max(len(data), 1), 64):
                part = data[k:k + 64]
                if not self.op(op, self.addr_for_write(a + k) + bytes([len(part)]) + part):
                    break
                self.expect.append({"op": op})
        elif op == "kick":
            if "value" not in st:
                p, e = bytes([0]), {"op": op}
            elif num(st["value"]) <= 62:
                p, e = bytes([0xC0 + num(st["value"])]), {"op": op, "value": num(st["value"])}
            else:
                p, e = bytes([0xFF]) + u32(num(st["value"])), {"op": op, "value": num(st["value"])}
            if self.op(op, p):
                self.expect.append(e)
        elif op in ("wait", "poll"):
            if self.op(op):
                self.expect.append({"op": op})
        elif op == "blk.read":
            if "len" in st:
                n = num(st["len"])
            elif "expect_data" in st:
                n = len(self.data_bytes(st["expect_data"]))
            else:
                n = 512
            if self.op(op, self.sector(num(st["sector"])) + self.blk_len(n)):
                self.expect.append({"op": op})
                self.avail_est += 1
        elif op == "blk.write":
            d = st["data"]
            n = len(self.data_bytes(d)) if isinstance(d, str) else num(d["len"])
            seed = num(d.get("pattern", d.get("fill", 0))) & 0xFF if isinstance(d, dict) else 0
            if self.op(op, self.sector(num(st["sector"])) + self.blk_len(n) + bytes([seed])):
                self.expect.append({"op": op})
                self.avail_est += 1
        elif op in ("blk.flush", "blk.get_id", "blk.discard", "blk.write_zeroes", "blk.raw"):
            if op == "blk.flush":
                p = bytes([0])
            elif op == "blk.get_id":
                p = bytes([1])
            elif op in ("blk.discard", "blk.write_zeroes"):
                flags = 1 if st.get("unmap") else num(st.get("flags", 0))
                nsect = max(1, min(256, num(st["nsectors"])))
                p = bytes([2 if op == "blk.discard" else 3]) + self.sector(num(st["sector"])) + \
                    bytes([nsect - 1, flags % 4])
            else:
                t = num(st["type"])
                tb = bytes([BLK_TYPES.index(t)]) if t in BLK_TYPES else bytes([0xFF]) + u32(t)
                dlen = min(255, len(self.data_bytes(st["data"])) if "data" in st else 0)
                p = bytes([4]) + tb + self.sector(num(st.get("sector", 0))) + \
                    bytes([dlen, min(255, num(st.get("len", 0)))])
            if self.op("blk.other", p):
                self.expect.append({"op": op})
                self.avail_est += 1
        elif op in LIFECYCLE:
            code, both = lifecycle_code(st, nxt)
            if self.op("lifecycle", bytes([code])):
                self.expect.append({"op": op} if op != "init" or code == 3 else {"op": "init", "driver_ok": False})
                if both:
                    self.expect.append({"op": "init"})
                if code not in (5, 6):
                    self.avail_est = 0
            return 2 if both else 1
        elif op == "fault.delay_irq":
            v = max(1, min(256, num(st["value"])))
            if self.op(op, bytes([v - 1])):
                self.expect.append({"op": op, "value": v})
        # "expect" and anything else: not part of the format
        return 1

    def addr_for_write(self, a):
        if SCRATCH <= a < SCRATCH + 0x10000:
            return bytes([0]) + u16(a - SCRATCH)
        return bytes([6]) + u64(a)

    @staticmethod
    def data_bytes(d):
        if isinstance(d, str):
            return bytes.fromhex(d.replace(" ", ""))
        if "fill" in d:
            return bytes([num(d["fill"])]) * min(num(d["len"]), 4096)
        return bytes(min(num(d["len"]), 4096))  # a pattern: its bytes come from the engine's PRNG


def encode_split(sc):
    """(bytes, expected decoded steps) for a scenario dict, or raise Unsupported."""
    if sc.get("ring", "split") != "split" or sc.get("transport", "mmio") != "mmio":
        raise Unsupported("not split over mmio")
    if sc.get("device_scripted"):
        raise Unsupported("a scripted device (the driver targets' seed)")
    q = num(sc.get("queue_size", 8))
    if q > 256 or q & (q - 1):
        raise Unsupported("queue_size %d" % q)
    acc = sc.get("accept_features")
    feats = set(acc) if acc is not None else {"INDIRECT_DESC", "EVENT_IDX", *EXTRAS}
    h1 = (1 if "INDIRECT_DESC" in feats else 0) | (2 if "EVENT_IDX" in feats else 0)
    h1 |= 4 if sc.get("driver_poll") else 0
    h1 |= POLICIES[sc.get("policy", "scripted")] << 3
    h1 |= 0x20 if feats & set(EXTRAS) else 0
    batch = num(sc.get("device_batch", 1))
    h1 |= (3 if batch >= 16 else 2 if batch >= 2 else 0) << 6
    lat = num(sc.get("device_latency", 0))
    h2 = min(range(8), key=lambda i: (abs(LATENCY_TABLE[i] - lat), i))
    seed = num(sc.get("seed", 1)) & 0xFFFF
    enc = SplitEncoder(q, num(sc.get("arena_size", 0x100000)) - 0x10000)
    out = bytes([q.bit_length() - 1, h1, h2]) + u16(seed)
    steps = sc["steps"]
    i = 0
    while i < len(steps) and enc.ops < MAX_OPS:
        i += enc.step(steps[i], steps[i + 1] if i + 1 < len(steps) else None)
    return out + bytes(enc.out), enc.expect


# ---- the packed-ring driver-op format (mirror of sim/fuzz_decode.c) ---------

PACKED_OPS = ["raw.pdesc", "raw.ppublish", "raw.write", "kick", "wait", "blk.read", "blk.write",
              "blk.other", "lifecycle", "queue", "fault.delay_irq", "poll"]
POP = {name: i for i, name in enumerate(PACKED_OPS)}
PF_AVAIL, PF_USED = 1 << 7, 1 << 15
PDESC_FLAGS = dict(DESC_FLAGS, AVAIL=PF_AVAIL, USED=PF_USED)
PDESC_MAX_LEN = 16 << 20
SPLIT_RAW = ("raw.desc", "raw.avail", "raw.avail_idx", "raw.avail_flags", "raw.used_event")
PACKED_ONLY = ("raw.pdesc", "raw.ppublish")


class PackedEncoder(SplitEncoder):
    """The packed target's ops; the ops both rings share are SplitEncoder's."""
    OP = POP

    def __init__(self, qsize, src_scratch):
        super().__init__(qsize, src_scratch)
        # descriptor ring, driver event area, device event area (packed_layout)
        self.avail = self.desc + 16 * qsize
        self.used = self.avail + 4
        self.src_desc, self.src_avail, self.src_used = self.desc, self.avail, self.used

    def buf_id(self, i):
        if i < self.qsize and i < 0xFD:
            return bytes([i])
        if i == self.qsize:
            return bytes([0xFD])
        if i == self.qsize + 1:
            return bytes([0xFE])
        return bytes([0xFF]) + u16(i)

    @staticmethod
    def pflags(flags, exact):
        if not exact:
            return bytes([flags]) if flags <= 7 else bytes([0xFE]) + u16(flags)
        if flags & ~(7 | PF_AVAIL | PF_USED) == 0:
            return bytes([0x80 | (flags & 7) | (8 if flags & PF_AVAIL else 0) | (0x10 if flags & PF_USED else 0)])
        return bytes([0xFF]) + u16(flags)

    def step(self, st, nxt):
        op = st["op"]
        if st.get("queue", 0) != 0:
            return 1
        if op in SPLIT_RAW:
            raise Unsupported("split raw op %s" % op)
        if op == "raw.pdesc":
            flags = st.get("flags", 0)
            if isinstance(flags, list):
                flags = sum(PDESC_FLAGS[f] for f in flags)
            idx, a, n = num(st["index"]) % self.qsize, num(st["addr"]), min(num(st["len"]), PDESC_MAX_LEN)
            i, exact = num(st.get("id", 0)), bool(st.get("exact", False))
            if self.op(op, bytes([idx]) + self.addr(a) + self.length(n) + self.buf_id(i) + self.pflags(flags, exact)):
                self.expect.append({"op": op, "index": idx, "len": n, "id": i, "flags": flags, "exact": exact})
        elif op == "raw.ppublish":
            v, i = num(st["value"]), num(st.get("id", 0))
            vb = bytes([v]) if v <= self.qsize and v < 0xFF else bytes([0xFF]) + u16(v)
            if self.op(op, vb + self.buf_id(i)):
                self.expect.append({"op": op, "value": v, "id": i})
        elif op in ("queue.reset", "queue.enable"):
            both = op == "queue.reset" and nxt is not None and nxt["op"] == "queue.enable" and \
                nxt.get("queue", 0) == 0
            code = 0 if both else 1 if op == "queue.reset" else 2
            if self.op("queue", bytes([code])):
                self.expect.append({"op": op})
                if both:
                    self.expect.append({"op": "queue.enable"})
            return 2 if both else 1
        else:
            return super().step(st, nxt)
        return 1


def encode_packed(sc):
    """(bytes, expected decoded steps) for a scenario dict run on the packed
    ring (a packed scenario, or a split one without split raw ops), or raise
    Unsupported."""
    if sc.get("transport", "mmio") != "mmio":
        raise Unsupported("not mmio")
    if sc.get("device_scripted"):
        raise Unsupported("a scripted device (the driver targets' seed)")
    if any(st["op"] in SPLIT_RAW for st in sc["steps"]):
        raise Unsupported("split raw ops")
    q = num(sc.get("queue_size", 8))
    if not 1 <= q <= 256:
        raise Unsupported("queue_size %d" % q)
    acc = sc.get("accept_features")
    feats = set(acc) if acc is not None else \
        {"INDIRECT_DESC", "EVENT_IDX", "IN_ORDER", "NOTIFICATION_DATA", "RING_RESET", *EXTRAS}
    h1 = (1 if "INDIRECT_DESC" in feats else 0) | (2 if "EVENT_IDX" in feats else 0)
    h1 |= 4 if sc.get("driver_poll") else 0
    h1 |= POLICIES[sc.get("policy", "scripted")] << 3
    h1 |= 0x20 if feats & set(EXTRAS) else 0
    batch = num(sc.get("device_batch", 1))
    h1 |= (3 if batch >= 16 else 2 if batch >= 2 else 0) << 6
    lat = num(sc.get("device_latency", 0))
    h2 = min(range(8), key=lambda i: (abs(LATENCY_TABLE[i] - lat), i))
    h2 |= (0x40 if "IN_ORDER" in feats else 0) | (0x80 if "NOTIFICATION_DATA" in feats else 0)
    h5 = (1 if "RING_RESET" in feats else 0) | (2 if sc.get("device_in_order_batch") else 0)
    seed = num(sc.get("seed", 1)) & 0xFFFF
    enc = PackedEncoder(q, num(sc.get("arena_size", 0x100000)) - 0x10000)
    out = bytes([q - 1, h1, h2]) + u16(seed) + bytes([h5])
    steps = sc["steps"]
    i = 0
    while i < len(steps) and enc.ops < MAX_OPS:
        i += enc.step(steps[i], steps[i + 1] if i + 1 < len(steps) else None)
    return out + bytes(enc.out), enc.expect


# ---- the malicious-device formats (fuzz_split_driver, fuzz_packed_driver) ---

SPLIT_DRIVER_OPS = ["dev.used", "dev.used_idx", "dev.avail_event", "dev.used_flags", "dev.irq",
                    "dev.write", "dev.config", "dev.needs_reset", "blk.read", "blk.write", "blk.other",
                    "lifecycle", "poll", "fault.delay_irq", "select_queue", "queue"]
PACKED_DRIVER_OPS = ["dev.used", "dev.pused", "dev.pevent", "dev.irq", "dev.write", "dev.config",
                     "dev.needs_reset", "blk.read", "blk.write", "blk.other", "lifecycle", "poll",
                     "fault.delay_irq", "select_queue", "queue"]
SDOP = {name: i for i, name in enumerate(SPLIT_DRIVER_OPS)}
PDOP = {name: i for i, name in enumerate(PACKED_DRIVER_OPS)}
PEVENT_FLAGS = {"ENABLE": 0, "DISABLE": 1, "DESC": 2}
# the decoded steps that carry the queue they act on
QUEUED = ("blk.read", "blk.write", "blk.flush", "blk.get_id", "blk.discard", "blk.write_zeroes", "blk.raw",
          "poll", "queue.reset", "queue.enable", "dev.used", "dev.pused", "dev.used_idx", "dev.avail_event",
          "dev.used_flags", "dev.pevent", "dev.irq")
LIFECYCLE = ("fault.device_reset", "reset", "init", "driver_ok", "fault.needs_reset")
LIFECYCLE_CODE = {"fault.device_reset": 1, "reset": 2, "driver_ok": 5, "fault.needs_reset": 6}


def lifecycle_code(st, nxt):
    """The lifecycle opcode's byte for step st (followed by nxt), and whether
    it also says that next step: a reset followed by a plain init is one op
    (0: device reset + init, 7: reset + init); init is 3, or 4 without
    DRIVER_OK; the others LIFECYCLE_CODE."""
    op = st["op"]
    both = nxt is not None and nxt["op"] == "init" and "driver_ok" not in nxt and op in ("fault.device_reset", "reset")
    if both:
        return (0 if op == "fault.device_reset" else 7), True
    if op == "init":
        return (4 if st.get("driver_ok") is False else 3), False
    return LIFECYCLE_CODE[op], False


class DriverEncoderMixin:
    """The scripted device's ops, the queue selector, and the driver ops the
    malicious-device formats keep (blk, lifecycle, poll, fault.delay_irq,
    queue reset / enable); `wait`, `kick` and raw driver ops have no words
    there and are dropped."""

    def setup_driver(self, nq):
        self.nq = nq
        self.curq = 0
        self.used_est = 0

    def dev_id(self, st):
        i = st.get("id", "next")
        if i == "next":
            return bytes([0]), {}
        if i == "last":
            return bytes([0x80]), {"id": "last"}
        i = num(i)
        if i < self.qsize:
            return bytes([0xC0, i]), {"id": i}
        if i - self.qsize < 256:
            return bytes([0xFE, i - self.qsize]), {"id": i}
        return bytes([0xFF]) + (u16(i) if self.PACKED else u32(i)), {"id": i}

    @staticmethod
    def irq_mode(st):
        if "irq" not in st:
            return 0, {}
        return (1 if st["irq"] else 2), {"irq": bool(st["irq"])}

    def used_mode(self, st):
        m, e = self.irq_mode(st)
        tail = b""
        if "status" in st:
            m |= 4
            tail += bytes([num(st["status"])])
            e["status"] = num(st["status"])
        if self.PACKED and "skip" in st:
            m |= 8
            tail += bytes([num(st["skip"])])
            e["skip"] = num(st["skip"])
        if not self.PACKED and st.get("publish") is False:
            m |= 8
            e["publish"] = False
        return bytes([m]) + tail, e

    def used_idx(self, v):
        d = (v - self.used_est) & 0xFFFF
        rel = d - 0x10000 if d >= 0x8000 else d
        if -127 <= rel <= 127:
            return bytes([rel & 0xFF])
        return bytes([0x80]) + u16(v)

    def add(self, name, payload, expect):
        """One op and the step it decodes to (with the queue it carries)."""
        if not self.op(name, payload):
            return False
        if self.curq and expect["op"] in QUEUED:
            expect["queue"] = self.curq
        self.expect.append(expect)
        return True

    def step(self, st, nxt):
        op = st["op"]
        q = num(st.get("queue", 0))
        if q >= self.nq:
            return 1
        if op in QUEUED and q != self.curq:
            if not self.op("select_queue", bytes([q])):
                return 1
            self.curq = q
        if op in ("dev.used", "dev.pused"):
            if op == "dev.pused" and not self.PACKED:
                return 1
            idb, e = self.dev_id(st)
            n = num(st.get("len", 0))
            payload = idb + self.length(n)
            e = dict(e, op=op, len=n)
            if op == "dev.pused":
                flags = st.get("flags", 0)
                if isinstance(flags, list):
                    flags = sum(PDESC_FLAGS[f] for f in flags)
                exact = bool(st.get("exact", False))
                payload += PackedEncoder.pflags(flags, exact)
                e.update(flags=flags)
                if exact:
                    e["exact"] = True
            mb, me = self.used_mode(st)
            if self.add(op, payload + mb, dict(e, **me)) and not self.PACKED and st.get("publish") is not False:
                self.used_est = (self.used_est + 1) & 0xFFFF
        elif op == "dev.used_idx" and not self.PACKED:
            v = num(st["value"])
            m, e = self.irq_mode(st)
            if self.add(op, self.used_idx(v) + bytes([m]), dict(e, op=op, value=v)):
                self.used_est = v
        elif op == "dev.avail_event" and not self.PACKED:
            v = num(st["value"])
            self.add(op, self.ring_idx(v), {"op": op, "value": v})
        elif op == "dev.used_flags" and not self.PACKED:
            v = num(st["value"])
            self.add(op, bytes([v]) if v <= 1 else bytes([0xFF]) + u16(v), {"op": op, "value": v})
        elif op == "dev.pevent" and self.PACKED:
            f = st["flags"]
            f = PEVENT_FLAGS[f] if isinstance(f, str) and not f.startswith("0") else num(f)
            ow = num(st.get("value", 0))
            off, wrap = ow & 0x7FFF, ow >> 15
            fb = bytes([f]) if f < 4 else bytes([0xFF]) + u16(f)
            ob = bytes([off | (0x80 if wrap else 0)]) if off < min(self.qsize, 0x7F) else bytes([0xFF]) + u16(ow)
            self.add(op, fb + ob, {"op": op, "flags": f, "value": ow})
        elif op == "dev.irq":
            self.add(op, b"", {"op": op})
        elif op == "dev.write":
            a, data = num(st["addr"]), self.data_bytes(st["data"])[:256]
            for k in range(0, max(len(data), 1), 64):
                part = data[k:k + 64]
                if not self.add(op, self.addr(a + k) + bytes([len(part)]) + part, {"op": op}):
                    break
        elif op == "dev.config":
            off, data = num(st.get("offset", 0)), self.data_bytes(st["data"])
            irq_off = 0x80 if st.get("irq") is False else 0
            for k in range(0, max(len(data), 1), 16):
                part = data[k:k + 16]
                if off + k >= 64:
                    break
                e = {"op": op, "offset": off + k, "data": part.hex()}
                if irq_off:
                    e["irq"] = False
                if not self.add(op, bytes([off + k, irq_off | len(part)]) + part, e):
                    break
        elif op == "dev.needs_reset":
            off = st.get("irq") is False
            self.add(op, bytes([1 if off else 0]), dict({"op": op}, **({"irq": False} if off else {})))
        elif op in ("queue.reset", "queue.enable"):
            both = op == "queue.reset" and nxt is not None and nxt["op"] == "queue.enable" and \
                num(nxt.get("queue", 0)) == q
            code = 0 if both else 1 if op == "queue.reset" else 2
            if self.add("queue", bytes([code]), {"op": op}) and both:
                self.expect.append(dict({"op": "queue.enable"}, **({"queue": q} if q else {})))
            return 2 if both else 1
        elif op in LIFECYCLE or op.startswith("blk.") or op in ("poll", "fault.delay_irq"):
            before = len(self.expect)
            used = super().step(dict(st, queue=0), nxt)
            if self.curq:
                for e in self.expect[before:]:
                    if e["op"] in QUEUED:
                        e["queue"] = self.curq
            if op in LIFECYCLE and any(e["op"] not in ("driver_ok", "fault.needs_reset")
                                       for e in self.expect[before:]):
                self.used_est = 0
            return used
        # wait, kick, expect, raw driver ops, another ring's dev ops: no words for them
        return 1


class SplitDriverEncoder(DriverEncoderMixin, SplitEncoder):
    OP = SDOP
    PACKED = False


class PackedDriverEncoder(DriverEncoderMixin, PackedEncoder):
    OP = PDOP
    PACKED = True


def encode_driver(sc, packed):
    """(bytes, expected decoded steps) of a scripted-device scenario for
    fuzz_split_driver (packed False) or fuzz_packed_driver, or raise
    Unsupported. A split scenario goes to the packed target too when it does
    not write the split layout (as `--ring packed` runs it)."""
    if not sc.get("device_scripted"):
        raise Unsupported("not a scripted device")
    ring = sc.get("ring", "split")
    if packed and ring == "split" and any(
            st["op"] in ("dev.used_idx", "dev.used_flags", "dev.avail_event") or
            (st["op"] == "dev.used" and (st.get("publish") is False or
                                         (st.get("id") not in (None, "next", "last") and num(st["id"]) > 0xFFFF)))
            for st in sc["steps"]):
        raise Unsupported("writes the split layout")
    if not packed and ring != "split":
        raise Unsupported("packed")
    q = num(sc.get("queue_size", 8))
    if packed and not 1 <= q <= 256:
        raise Unsupported("queue_size %d" % q)
    if not packed and (q > 256 or q & (q - 1)):
        raise Unsupported("queue_size %d" % q)
    nq = 2 if num(sc.get("num_queues", 1)) > 1 and q <= 64 else 1
    acc = sc.get("accept_features")
    feats = set(acc) if acc is not None else \
        {"INDIRECT_DESC", "EVENT_IDX", "IN_ORDER", "NOTIFICATION_DATA", "RING_RESET", *EXTRAS}
    h1 = (1 if "INDIRECT_DESC" in feats else 0) | (2 if "EVENT_IDX" in feats else 0)
    h1 |= 4 if sc.get("driver_poll") else 0
    h1 |= POLICIES[sc.get("policy", "scripted")] << 3
    h1 |= 0x20 if feats & set(EXTRAS) else 0
    h1 |= (0x40 if "IN_ORDER" in feats else 0) | (0x80 if "NOTIFICATION_DATA" in feats else 0)
    h2 = (1 if nq > 1 else 0) | (2 if "RING_RESET" in feats else 0)
    seed = num(sc.get("seed", 1)) & 0xFFFF
    enc = (PackedDriverEncoder if packed else SplitDriverEncoder)(q, num(sc.get("arena_size", 0x100000)) - 0x10000)
    enc.setup_driver(nq)
    out = bytes([q - 1 if packed else q.bit_length() - 1, h1, h2]) + u16(seed)
    steps = sc["steps"]
    i = 0
    while i < len(steps) and enc.ops < MAX_OPS:
        i += enc.step(steps[i], steps[i + 1] if i + 1 < len(steps) else None)
    return out + bytes(enc.out), enc.expect


# ---- the blk chain format ---------------------------------------------------

BLK_LEN_TABLE = [0, 1, 15, 16, 17, 20, 21, 32, 48, 511, 512, 513, 1024, 4096, 2, 8]


def blk_seg(n, gap=0, alias=False):
    """One segment: length selector, placement byte, then the selector's operand."""
    place = bytes([(0x80 if alias else 0) | gap])
    if n in BLK_LEN_TABLE:
        return bytes([BLK_LEN_TABLE.index(n) << 2]) + place
    return bytes([3]) + place + u16(n)


def blk_input(segs, nread, type_idx, sector=0, h0=0x07, h1=0, extra=b""):
    """segs: [(len, gap, alias)]; type_idx: index into BLK_TYPES or ('raw', u32)."""
    out = bytes([h0, h1, len(segs) - 1, nread])
    out += b"".join(blk_seg(*s) for s in segs)
    out += bytes([0xFF]) + u32(type_idx[1]) if isinstance(type_idx, tuple) else bytes([type_idx])
    out += bytes([sector]) if sector < 0x80 else bytes([0xFF]) + u64(sector)
    return out + extra


def blk_seeds():
    IN, OUT, FLUSH, GET_ID, DISCARD, WZ = range(6)
    hdr, st = (16, 0, False), (1, 0, False)
    seeds = {
        "in-512": blk_input([hdr, (512, 0, False), st], 1, IN, 3),
        "in-split-data": blk_input([hdr, (512, 0, False), (512, 0, False), st], 1, IN, 5),
        "in-data-and-status-one-buffer": blk_input([hdr, (513, 0, False)], 1, IN, 1),
        "out-512": blk_input([hdr, (512, 0, False), st], 2, OUT, 7, extra=bytes(range(256)) * 2),
        "out-header-and-data-one-buffer": blk_input([(16 + 512, 0, False), st], 1, OUT, 2,
                                                    extra=b"\x5a" * 512),
        "out-read-only": blk_input([hdr, (512, 0, False), st], 2, OUT, 0, h0=0x27),
        "out-beyond-capacity": blk_input([hdr, (512, 0, False), st], 2, OUT, 0x7F),
        "out-not-sector-multiple": blk_input([hdr, (511, 0, False), st], 2, OUT, 0),
        "flush": blk_input([hdr, st], 1, FLUSH),
        "flush-not-negotiated": blk_input([hdr, st], 1, FLUSH, h0=0x00),
        "get-id": blk_input([hdr, (20, 0, False), st], 1, GET_ID),
        "get-id-short": blk_input([hdr, (15, 0, False), st], 1, GET_ID),
        "discard-one": blk_input([(32, 0, False), st], 1, DISCARD, 0, extra=bytes([1, 2, 4, 0])),
        "discard-unmap": blk_input([(32, 0, False), st], 1, DISCARD, 0, extra=bytes([1, 2, 4, 1])),
        "write-zeroes-two": blk_input([(48, 0, False), st], 1, WZ, 0,
                                      extra=bytes([2, 0, 8, 1, 0x70, 0xFF]) + u32(0xFFFFFFFF) + bytes([0])),
        "write-zeroes-read-only": blk_input([(32, 0, False), st], 1, WZ, 0, h0=0x27, extra=bytes([1, 0, 1, 0])),
        "unknown-type": blk_input([hdr, st], 1, ("raw", 0x12345678)),
        "header-too-short": blk_input([(15, 0, False), st], 1, IN),
        "no-writable-byte": blk_input([hdr, (512, 0, False)], 2, OUT),
        "no-readable-byte": blk_input([(512, 0, False), st], 0, IN),
        "zero-length-segments": blk_input([hdr, (0, 0, False), (512, 0, False), (0, 0, False), st], 2, IN),
        "writable-aliases-header": blk_input([hdr, (512, 0, True), st], 1, IN),
        "writable-overlap": blk_input([hdr, (512, 0, False), (512, 16, True), st], 1, IN),
        "capacity-zero": blk_input([hdr, (512, 0, False), st], 1, IN, h0=0xC7),
        "seg-max-1": blk_input([hdr, (512, 0, False), (512, 0, False), st], 1, IN, h1=0x04),
        "size-max-512": blk_input([hdr, (1024, 0, False), st], 1, IN, h0=0x17, h1=0x01),
        "sixteen-segments": blk_input([hdr] + [(16, 0, False)] * 14 + [st], 1, IN),
        "sector-wraps": blk_input([hdr, (512, 0, False), st], 1, IN, 0xFFFFFFFFFFFFFFFF),
    }
    return seeds



# ---- fuzz_vhost_user (mirror of sim/fuzz_vu.c) ------------------------------

VU_MSG, VU_RAW, VU_CLOSE, VU_AWAIT, VU_USE, VU_USED_IDX, VU_CALL, VU_MEM = range(8)
VU_EVENTS = {"kick": 0, "run": 1, "status": 2, "queue": 3}
VU_REQS = [1, 15, 17, 36, 3, 24, 2, 5, 8, 10, 9, 13, 14, 12, 18, 11, 4, 34, 25, 40]
VU_LEN = [0, 1, 2, 16, 17, 512, 513, 4097]
VU_PROFILES = 4


def vu_header(nq=1, qsize=8, event_idx=False, indirect=False, flush=False, rr=False, final_reset=False):
    """The header byte: bit 0 two queues, bits 1-2 queue size 2 << n, 3 EVENT_IDX,
    4 INDIRECT_DESC, 5 FLUSH, 6 round-robin, 7 a reset at the end."""
    h = (1 if nq == 2 else 0) | ({2: 0, 4: 1, 8: 2, 16: 3}[qsize] << 1)
    h |= (0x08 if event_idx else 0) | (0x10 if indirect else 0) | (0x20 if flush else 0)
    h |= (0x40 if rr else 0) | (0x80 if final_reset else 0)
    return bytes([h])


def vu_ops(*ops):
    """Driver ops: ("read", sector) ("write", sector, pattern) ("flush",) ("get_id",)
    ("wait",) ("reset_init",) ("read4k",) ("reset",)."""
    out = bytearray([len(ops)])
    for op in ops:
        kind = op[0]
        if kind in ("read", "write"):
            out.append((0 if kind == "read" else 1) | (op[1] << 3))
        else:
            out.append({"flush": 2, "get_id": 3, "wait": 4, "reset_init": 5, "read4k": 6, "reset": 7}[kind])
    return bytes(out)


def vu_await(ev):
    return bytes([VU_AWAIT, VU_EVENTS[ev]])


def vu_use(q=0, length=513, idx=None):
    return bytes([VU_USE, q, 0 if idx is None else 0x80 | idx, VU_LEN.index(length)])


def vu_call(q=0):
    return bytes([VU_CALL, q])


def vu_msg(req, payload=b"", flags_byte=0, nfds=0):
    return bytes([VU_MSG, VU_REQS.index(req), flags_byte, nfds, len(payload)]) + payload


def vu_skeletons():
    served = vu_await("kick") + vu_use(length=1) + vu_call() + vu_await("run") + vu_use(length=513) + vu_call()
    return {
        "handshake": vu_header() + vu_ops(),
        "write-read-served": vu_header(event_idx=True) + vu_ops(("write", 0, 7), ("read", 0)) + served,
        "write-read-unserved": vu_header(qsize=4) + vu_ops(("write", 1, 3), ("read", 1)),
        "reset-in-the-middle": vu_header(final_reset=True) + vu_ops(("write", 2, 9), ("reset_init",), ("read", 2))
        + vu_await("kick") + vu_use(length=1) + vu_call(),
        "two-queues": vu_header(nq=2, qsize=16, rr=True) + vu_ops(("write", 3, 1), ("read4k",))
        + vu_await("run") + vu_use(length=1) + vu_call(),
        "flush-get-id": vu_header(flush=True, indirect=True) + vu_ops(("flush",), ("get_id",))
        + vu_await("kick") + vu_use(length=1) + vu_call() + vu_await("run") + vu_use(length=17) + vu_call(),
        "unsolicited": vu_header() + vu_ops(("read", 0)) + vu_await("run") + vu_msg(1, bytes(8)),
        "used-idx-jump": vu_header() + vu_ops(("read", 0)) + vu_await("run") + bytes([VU_USED_IDX, 0, 100]),
        "spurious-call": vu_header() + vu_ops(("read", 0)) + vu_await("kick") + vu_call(),
        "hang-up-at-run": vu_header() + vu_ops(("read", 0), ("wait",)) + vu_await("run") + bytes([VU_CLOSE]),
        "wrong-used-id": vu_header() + vu_ops(("write", 4, 2)) + vu_await("kick") + vu_use(length=1, idx=5) + vu_call(),
    }


def vu_seeds(cli):
    import subprocess
    import tempfile
    seeds = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, skel in sorted(vu_skeletons().items()):
            for profile in range(VU_PROFILES):
                if profile and name not in ("handshake", "write-read-served", "reset-in-the-middle"):
                    continue
                src, dst = Path(tmp) / "skel", Path(tmp) / "seed"
                src.write_bytes(skel)
                r = subprocess.run([cli, "fuzz-complete", "fuzz_vhost_user", str(src), str(profile), "-o", str(dst)],
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    raise SystemExit("fuzz-complete %s profile %d: %s" % (name, profile, r.stderr.strip()))
                seeds["%s-p%d" % (name, profile)] = dst.read_bytes()
    return seeds


def vu_dict():
    lines = ["# fuzz_vhost_user: reply messages, header flags and sizes, script actions (fuzz/README.md)"]
    u64 = lambda v: v.to_bytes(8, "little")
    words = {
        "features_blk": u64((1 << 32) | (1 << 30) | (1 << 29) | (1 << 28) | (1 << 9) | (1 << 12)),
        "features_no_protocol": u64(1 << 32),
        "protocol_all": u64((1 << 0) | (1 << 3) | (1 << 9) | (1 << 13) | (1 << 15)),
        "protocol_no_ack": u64((1 << 0) | (1 << 9)),
        "zero_u64": u64(0),
        "ack_fail": u64(1),
        "u64_max": u64(0xFFFFFFFFFFFFFFFF),
    }
    for k, v in words.items():
        lines.append(dict_line(k, v))
    for i, req in enumerate(VU_REQS):
        lines.append(dict_line("reply_%d" % req, vu_msg(req, u64(0))))
    lines += [
        dict_line("flags_no_reply", bytes([0xc1])), dict_line("flags_version2", bytes([0xc6])),
        dict_line("flags_need_reply_echo", bytes([0xcd])), dict_line("flags_reserved", bytes([0xe5])),
        dict_line("size_too_big", bytes([0xff]) + (5000).to_bytes(4, "little") + bytes([0])),
        dict_line("size_short", bytes([0xff]) + (8).to_bytes(4, "little") + bytes([3])),
        dict_line("nfds_1", bytes([1])), dict_line("nfds_9", bytes([9])),
        dict_line("config_empty", vu_msg(24, b"")),
        dict_line("half_header", bytes([VU_RAW, 6, 1, 0, 0, 0, 5, 0])),
        dict_line("close", bytes([VU_CLOSE])),
        dict_line("await_kick", vu_await("kick")), dict_line("await_run", vu_await("run")),
        dict_line("await_status", vu_await("status")), dict_line("await_queue", vu_await("queue")),
        dict_line("use_next", vu_use()), dict_line("use_status_only", vu_use(length=1)),
        dict_line("use_bad_id", bytes([VU_USE, 0, 0xff]) + (0xFFFFFFFE).to_bytes(4, "little") + bytes([6])),
        dict_line("used_idx_jump", bytes([VU_USED_IDX, 0, 0x80, 0xff, 0xff])),
        dict_line("used_idx_back", bytes([VU_USED_IDX, 0, 0xff])),
        dict_line("call", vu_call()), dict_line("call_q1", vu_call(1)),
    ]
    return "\n".join(lines) + "\n"

# ---- the device request formats (mirror of sim/fuzz_dev.c) ------------------

DEV_OPS = {
    "fuzz_net_request": ["req", "tx", "ctrl", "rx", "host.input", "config.write", "queue", "lifecycle", "wait",
                         "kick"],
    "fuzz_gpu_request": ["req", "ctrl", "cursor", "backing.write", "config.write", "queue", "lifecycle", "wait",
                         "kick"],
    "fuzz_console_request": ["req", "port.tx", "port.rx", "ctrl.tx", "ctrl.rx", "host.input", "host.event",
                             "config.write", "queue", "lifecycle", "wait"],
    "fuzz_input_request": ["req", "status", "eventbuf", "events", "host.input", "config.write", "config.read",
                           "queue", "lifecycle", "wait"],
}
DEV_TARGETS = {"fuzz_net_request": "net", "fuzz_gpu_request": "gpu", "fuzz_console_request": "console",
               "fuzz_input_request": "input"}
# where a device's seeds come from (and its regression scenarios, the fuzzers' own findings)
DEV_SEED_DIRS = {"net": ("net", "net-edges", "regress"), "gpu": ("gpu", "gpu-edges", "regress"),
                 "console": ("console", "regress"), "input": ("input", "regress")}
DEV_LENS = {
    "net": [1, 0, 11, 12, 13, 25, 26, 27, 64, 1526, 1527, 9026, 65601, 65602, 14, 60],
    "gpu": [24, 0, 23, 25, 408, 407, 1048, 1047, 48, 40, 56, 4096, 1, 64, 16, 8],
    "console": [16, 0, 1, 2, 7, 8, 9, 12, 32, 128, 4095, 4096, 4097, 65536, 3, 64],
    "input": [8, 0, 1, 4, 7, 9, 16, 24, 64, 4096, 2, 3, 5, 6, 12, 32],
}
DEV_CONFIG_SPAN = {"net": 24 + 4, "gpu": 16 + 8, "console": 12 + 4, "input": 136}
DEV_QSIZES = [8, 2, 4, 64]
DEV_ARENA = 0x100000
DEV_SCRATCH = DEV_ARENA - 0x10000
HEX_MAX = 16384
REQ_LEN_MAX = 0x20000
RING_FEATURES = ["INDIRECT_DESC", "EVENT_IDX", "IN_ORDER", "NOTIFICATION_DATA", "RING_RESET"]
NET_FEATURES = ["CSUM", "GUEST_CSUM", "MTU", "MAC", "GUEST_TSO4", "GUEST_TSO6", "GUEST_ECN", "GUEST_UFO",
                "HOST_TSO4", "HOST_TSO6", "HOST_ECN", "HOST_UFO", "MRG_RXBUF", "STATUS", "CTRL_VQ", "CTRL_RX",
                "CTRL_VLAN", "GUEST_ANNOUNCE", "MQ", "CTRL_MAC_ADDR", "SPEED_DUPLEX"]
NET_MTUS = [None, 68, 576, 1500, 9000, 65535, 1280, None]
NET_MACS = [None, "02:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01"]
GPU_SCANOUTS = [1, 2, 16, 1]
GPU_BYTES = [None, 4096, 65536, 0]
GPU_ENTRIES = [None, 1, 4, 16]
GPU_DIMS = [None, 64, 1, 4095]
CON_NQS = [2, 4, 6, 8, 3, 5, 16, 10]
CON_PORTS = [None, -1, 1, 2]  # console_port (None: the default 0)
CON_ANNOUNCE = [None, 0, 1, 2, 3, 7, 15, None]
CON_MAXNR = [None, 1, 2, 4294967295]
CON_SIZES = [None, (0, 0), (65535, 65535), (132, 43)]
IN_KINDS = [None, "mouse", "tablet", None]
IN_FIFOS = [None, 1, 4, 4096]
IN_NAMES = [None, "", "0" * 128, "m"]


def nearest(table, v):
    """The index of the table entry closest to v (the first of equals)."""
    return min(range(len(table)), key=lambda i: (abs(table[i] - v), i))


def fix_host_frame(f):
    """fuzz_dev.c's fix_host_frame: an IPv4 total length cut to the frame."""
    f = bytearray(f)
    if len(f) >= 34 and f[12] == 0x08 and f[13] == 0 and f[14] >> 4 == 4:
        total = f[16] << 8 | f[17]
        if total > len(f) - 14:
            f[16:18] = bytes([(len(f) - 14) >> 8 & 0xFF, (len(f) - 14) & 0xFF])
    return bytes(f)


class DevEncoder:
    """A device request target's input for one scenario: the common header,
    the device's header, then its steps through the ops that say them
    exactly (a request as `req`, host input as `host.input`)."""

    def __init__(self, target, sc):
        self.target = target
        self.device = DEV_TARGETS[target]
        if sc.get("device") != self.device:
            raise Unsupported("not a %s scenario" % self.device)
        if sc.get("device_scripted"):
            raise Unsupported("a scripted device")
        self.OP = {n: i for i, n in enumerate(DEV_OPS[target])}
        self.lens = DEV_LENS[self.device]
        self.out = bytearray()
        self.ops = 0
        self.expect = []
        self.sc = sc
        self.src_scratch = num(sc.get("arena_size", 0x100000)) - 0x10000
        self.cfg_base = 0x200 if sc.get("transport", "mmio") == "pci" else 0x100
        self.header = self.common_header(sc) + getattr(self, "header_" + self.device)(sc)

    # headers
    def accepted(self, sc, device_features):
        acc = sc.get("accept_features")
        return set(acc) if acc is not None else set(RING_FEATURES) | set(device_features)

    def common_header(self, sc):
        q = num(sc.get("queue_size", 8))
        h0 = nearest(DEV_QSIZES, q)
        self.qsize = DEV_QSIZES[h0]
        h0 |= 4 if sc.get("ring", "split") == "packed" else 0
        h0 |= 8 if sc.get("transport", "mmio") == "pci" else 0
        h0 |= POLICIES[sc.get("policy", "scripted")] << 4
        h0 |= 0x40 if sc.get("driver_poll") else 0
        h0 |= 0x80 if num(sc.get("device_batch", 1)) >= 16 else 0
        feats = self.accepted(sc, [])
        h1 = sum(1 << i for i, f in enumerate(RING_FEATURES) if f in feats)
        h1 |= nearest(LATENCY_TABLE, num(sc.get("device_latency", 0))) << 5
        return bytes([h0, h1, num(sc.get("seed", 1)) & 0xFF])

    def header_net(self, sc):
        cfg = sc.get("device_config", {})
        nq = num(sc.get("num_queues", 3))
        pairs = max(1, min(3, nq // 2))
        n0 = {1: 0, 2: 1, 3: 2}[pairs]
        n0 |= 4 if nq % 2 == 0 else 0
        n0 |= 8 if cfg.get("link_up") is False else 0
        n0 |= 0x10 if cfg.get("announce") is True else 0
        if "mtu" in cfg:
            mtus = [m if m is not None else -10 ** 9 for m in NET_MTUS]
            n0 |= nearest(mtus, num(cfg["mtu"])) << 5
        feats = self.accepted(sc, NET_FEATURES + ["NOTF_COAL", "CTRL_GUEST_OFFLOADS"])
        f = sum(1 << i for i, x in enumerate(NET_FEATURES) if x in feats)
        if cfg.get("mac") in NET_MACS[1:]:
            f |= NET_MACS.index(cfg["mac"]) << 21
        if num(cfg.get("speed", 0)) == 0xFFFFFFFF:
            f |= 1 << 23
        self.nq = 2 * pairs + (0 if nq % 2 == 0 else 1)
        self.pairs = pairs if "MQ" in feats else 1
        self.ctrlq = min(2 * self.pairs, self.nq - 1)
        n4 = (1 if "NOTF_COAL" in feats else 0) | (2 if "CTRL_GUEST_OFFLOADS" in feats else 0)
        return bytes([n0]) + u32(f)[:3] + bytes([n4])

    def header_gpu(self, sc):
        cfg = sc.get("device_config", {})
        g0 = nearest(GPU_SCANOUTS[:3], num(cfg.get("num_scanouts", 1)))
        g0 |= 4 if cfg.get("edid") is False else 0
        g0 |= 8 if cfg.get("resource_uuid") is True else 0
        g0 |= 0x10 if cfg.get("display_event") is True else 0
        if "max_resource_bytes" in cfg and num(cfg["max_resource_bytes"]) in GPU_BYTES[1:]:
            g0 |= GPU_BYTES.index(num(cfg["max_resource_bytes"])) << 5
        g0 |= 0x80 if "max_resources" in cfg and num(cfg["max_resources"]) <= 2 else 0
        g1 = 0
        if "max_backing_entries" in cfg:
            g1 |= nearest([64, 1, 4, 16], num(cfg["max_backing_entries"]))
        if "width" in cfg and num(cfg["width"]) in GPU_DIMS[1:]:
            g1 |= GPU_DIMS.index(num(cfg["width"])) << 2
        feats = self.accepted(sc, ["EDID", "RESOURCE_UUID"])
        g1 |= (0x10 if "EDID" in feats else 0) | (0x20 if "RESOURCE_UUID" in feats else 0)
        self.nq = 2
        return bytes([g0, g1])

    def header_console(self, sc):
        cfg = sc.get("device_config", {})
        nq = num(sc.get("num_queues", 2))
        c0 = nearest(CON_NQS, nq)
        self.nq = CON_NQS[c0]
        self.ports = 1 if self.nq < 4 else 1 + (self.nq - 4) // 2
        c0 |= 8 if cfg.get("multiport") is False else 0
        c0 |= 0x10 if cfg.get("size") is False else 0
        c0 |= 0x20 if cfg.get("emerg_write") is False else 0
        if "console_port" in cfg and num(cfg["console_port"]) in CON_PORTS[1:]:
            c0 |= CON_PORTS.index(num(cfg["console_port"])) << 6
        c1 = 0
        if "ports" in cfg and num(cfg["ports"]) in CON_ANNOUNCE[1:7]:
            c1 |= CON_ANNOUNCE.index(num(cfg["ports"]))
        if "max_nr_ports" in cfg and num(cfg["max_nr_ports"]) in CON_MAXNR[1:]:
            c1 |= CON_MAXNR.index(num(cfg["max_nr_ports"])) << 3
        c1 |= (num(cfg.get("host_closed", 0)) & 7) << 5
        feats = self.accepted(sc, ["SIZE", "MULTIPORT", "EMERG_WRITE"])
        c2 = (1 if "SIZE" in feats else 0) | (2 if "MULTIPORT" in feats else 0) | (4 if "EMERG_WRITE" in feats else 0)
        if "cols" in cfg and (num(cfg["cols"]), num(cfg.get("rows", 25))) in CON_SIZES[1:]:
            c2 |= CON_SIZES.index((num(cfg["cols"]), num(cfg.get("rows", 25)))) << 3
        return bytes([c0, c1, c2])

    def header_input(self, sc):
        cfg = sc.get("device_config", {})
        i = IN_KINDS.index(cfg["kind"]) if cfg.get("kind") in IN_KINDS[1:3] else 0
        if "event_fifo" in cfg and num(cfg["event_fifo"]) in IN_FIFOS[1:]:
            i |= IN_FIFOS.index(num(cfg["event_fifo"])) << 2
        if cfg.get("name") in IN_NAMES[1:]:
            i |= IN_NAMES.index(cfg["name"]) << 4
        self.nq = 2
        return bytes([i])

    # selectors
    def op(self, name, payload, expect=None):
        if self.ops >= MAX_OPS:
            return False
        self.out += bytes([self.OP[name]]) + payload
        self.ops += 1
        if expect is not None:
            self.expect.append(expect)
        return True

    def length(self, n):
        if n in self.lens:
            return bytes([self.lens.index(n) << 2])
        if n < 64:
            return bytes([(n << 2) | 1])
        if n % 16 == 0 and 16 <= n <= 1024:
            return bytes([((n // 16 - 1) << 2) | 2])
        return bytes([3]) + u32(n)

    @staticmethod
    def s32(v):
        return bytes([v]) if v < 0xFF else bytes([0xFF]) + u32(v)

    def data(self, d, n):
        """The DATA operand for a data spec of n bytes, and what it decodes to."""
        if isinstance(d, dict) and "pattern" in d:
            seed = num(d["pattern"]) & 0xFF
            spec = {"pattern": seed, "len": n}
            return (bytes([seed]) if n > HEX_MAX else bytes([0xFE, seed])), spec
        if isinstance(d, dict) and "fill" in d:
            b = bytes([num(d["fill"])]) * min(n, HEX_MAX)
        else:
            b = SplitEncoder.data_bytes(d) if not isinstance(d, bytes) else d
        if n > HEX_MAX:
            return bytes([0]), {"pattern": 0, "len": n}
        b = b[:n] + bytes(n - len(b[:n]))
        k = len(b.rstrip(b"\0"))
        mode = bytes([k]) if k < 0xFE else bytes([0xFF])
        return mode + (b[:k] if k < 0xFE else b), b.hex()

    def data_of(self, st):
        if "data" not in st:
            return 0, None
        d = st["data"]
        if isinstance(d, dict):
            return num(d["len"]), d
        return len(SplitEncoder.data_bytes(d)), d

    # steps
    def req(self, q, st):
        n, d = self.data_of(st)
        n = min(n, REQ_LEN_MAX)
        w = min(num(st.get("len", 0)), REQ_LEN_MAX)
        payload = bytes([q]) + self.length(n)
        e = {"op": "req.raw", "queue": q}
        if n:
            db, spec = self.data(d, n)
            payload += db
            e["data"] = spec
        else:
            payload += bytes([0])
        if w or not n:
            e["len"] = w or 1
        self.op("req", payload + self.length(w), e)

    def host_input(self, st):
        port = num(st.get("port", 0))
        n, d = self.data_of(st)
        payload = self.s32(port) + self.length(n)
        e = {"op": "host.input", "port": port, "data": ""}
        if n:
            if self.device == "net" and not isinstance(d, str):
                raise Unsupported("a net host frame given as a pattern")
            if self.device == "net":
                d = fix_host_frame(SplitEncoder.data_bytes(d))
            db, spec = self.data(d, n)
            payload += db
            e["data"] = spec
        else:
            payload += bytes([0])
        self.op("host.input", payload, e)

    def step(self, st, nxt):
        op = st["op"]
        q = num(st.get("queue", 0))
        if op == "req.raw":
            if q < self.nq:
                self.req(q, st)
        elif op == "host.input" and "host.input" in self.OP:
            self.host_input(st)
        elif op == "host.event" and self.device == "console":
            port, t, v = num(st.get("port", 0)), num(st["type"]), num(st.get("value", 0))
            pb = bytes([port]) if port < 32 else bytes([0xFF]) + u32(port)
            tb = bytes([t]) if t < 6 else bytes([0xFF]) + u32(t)
            self.op("host.event", pb + tb + self.s32(v), {"op": op, "port": port, "type": t, "value": v})
        elif op == "mmio.read" and self.device == "input" and \
                num(st["offset"]) == (0x15 if self.cfg_base == 0x200 else 0xFC):
            gen = {"op": op, "offset": hex(num(st["offset"])), "len": 1 if self.cfg_base == 0x200 else 4}
            self.op("config.read", bytes([0xFF, 2]), gen)
        elif op in ("mmio.write", "mmio.read"):
            off = num(st["offset"]) - self.cfg_base
            w = num(st.get("len", 4))
            if not 0 <= off < DEV_CONFIG_SPAN[self.device] or w not in (1, 2, 4):
                return 1
            e = {"op": op, "offset": hex(self.cfg_base + off), "len": w}
            if op == "mmio.write":
                v = num(st["value"]) & ((1 << (8 * w)) - 1)
                e["value"] = v
                self.op("config.write", bytes([off, (1, 2, 4).index(w)]) + v.to_bytes(w, "little"), e)
            elif self.device == "input":
                self.op("config.read", bytes([off, (1, 2, 4).index(w)]), e)
        elif op == "raw.write" and self.device == "gpu":
            a, data = num(st["addr"]), SplitEncoder.data_bytes(st["data"])[:1024]
            if not self.src_scratch <= a < self.src_scratch + 0x10000:
                return 1
            off = a - self.src_scratch
            for k in range(0, len(data), 64):
                part = data[k:k + 64]
                if not self.op("backing.write", u16(off + k) + bytes([len(part)]) + part,
                               {"op": "raw.write", "addr": hex(DEV_SCRATCH + off + k), "data": part.hex()}):
                    break
        elif op in ("queue.reset", "queue.enable"):
            both = op == "queue.reset" and nxt is not None and nxt["op"] == "queue.enable" and \
                num(nxt.get("queue", 0)) == q
            code = 0 if both else 1 if op == "queue.reset" else 2
            if q < self.nq and self.op("queue", bytes([q, code]), dict({"op": op}, **({"queue": q} if q else {}))):
                if both:
                    self.expect.append(dict({"op": "queue.enable"}, **({"queue": q} if q else {})))
                return 2 if both else 1
        elif op in LIFECYCLE:
            code, both = lifecycle_code(st, nxt)
            e = {"op": op} if op != "init" or code == 3 else {"op": "init", "driver_ok": False}
            if self.op("lifecycle", bytes([code]), e) and both:
                self.expect.append({"op": "init"})
            return 2 if both else 1
        elif op == "wait":
            self.op("wait", b"", {"op": "wait"})
        elif op == "kick" and "kick" in self.OP and q < self.nq:
            self.op("kick", bytes([q]), {"op": "kick", "queue": q})
        # expect, expect.output, gpu.expect_scanout, poll, fault.delay_irq: not in the format
        return 1


def encode_device(target, sc):
    """(bytes, expected decoded steps) of a scenario of the target's device, or raise Unsupported."""
    enc = DevEncoder(target, sc)
    steps = sc["steps"]
    i = 0
    while i < len(steps) and enc.ops < MAX_OPS:
        i += enc.step(steps[i], steps[i + 1] if i + 1 < len(steps) else None)
    return enc.header + bytes(enc.out), enc.expect


# Seeds for paths no scenario takes (scenario dicts, encoded like the files):
# frames waiting on a pair that VQ_PAIRS_SET then disables; ASSIGN_UUID of a
# resource with RESOURCE_UUID offered and accepted.
BCAST_FRAME = "ffffffffffff 5254000000aa 0806" + "00" * 46
DEV_EXTRA_SEEDS = {
    "fuzz_net_request": {
        "extra_mq-frames-on-a-disabled-pair": {
            "device": "net", "num_queues": 5, "steps": [
                {"op": "req.raw", "queue": 4, "data": "04 00 0200", "len": 1},
                {"op": "wait"},
                {"op": "host.input", "port": 1, "data": BCAST_FRAME},
                {"op": "host.input", "port": 3, "data": BCAST_FRAME},
                {"op": "req.raw", "queue": 4, "data": "04 00 0100", "len": 1},
                {"op": "req.raw", "queue": 2, "len": 1526},
                {"op": "req.raw", "queue": 0, "len": 1526},
                {"op": "host.input", "port": 1, "data": BCAST_FRAME},
                {"op": "wait"}]}},
    "fuzz_gpu_request": {
        "extra_assign-uuid": {
            "device": "gpu", "device_config": {"resource_uuid": True}, "steps": [
                {"op": "req.raw", "data": "01010000 00000000 0000000000000000 00000000 00000000 "
                                          "01000000 01000000 40000000 40000000", "len": 24},
                {"op": "req.raw", "data": "0b010000 00000000 0000000000000000 00000000 00000000 01000000 00000000",
                 "len": 40},
                {"op": "wait"}]}},
}


def dev_seeds(target, scenario_dir):
    """The target's seeds: its device's scenario directories, encoded, and
    DEV_EXTRA_SEEDS."""
    seeds = {name: encode_device(target, sc)[0] for name, sc in DEV_EXTRA_SEEDS.get(target, {}).items()}
    for sub in DEV_SEED_DIRS[DEV_TARGETS[target]]:
        for f in sorted((Path(scenario_dir) / sub).glob("*.json")):
            try:
                seeds[sub + "_" + f.stem] = encode_device(target, json.loads(f.read_text()))[0]
            except Unsupported:
                pass  # another device's regression scenario

    return seeds


# ---- UAPI constants, for the device dictionaries ----

UAPI = Path("/usr/include/linux")


def uapi_constants(header, prefix):
    """NAME -> value for the `#define NAME number` lines and the enum members
    (implicit values counted on) of <linux/HEADER> whose name starts with
    prefix: the protocol's constants as the kernel headers spell them."""
    import re
    text = (UAPI / header).read_text()
    out = {}
    for m in re.finditer(r"^\s*#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\b", text, re.M):
        if m.group(1).startswith(prefix):
            out[m.group(1)] = int(m.group(2), 0)
    for body in re.findall(r"enum\s+\w*\s*\{(.*?)\};", text, re.S):
        body = re.sub(r"/\*.*?\*/", "", body, flags=re.S)
        v = -1
        for item in body.split(","):
            item = item.strip()
            if not item:
                continue
            m = re.match(r"(\w+)\s*(?:=\s*(0x[0-9a-fA-F]+|\d+))?$", item)
            if not m:
                break
            v = int(m.group(2), 0) if m.group(2) else v + 1
            if m.group(1).startswith(prefix):
                out[m.group(1)] = v
    return out


def dev_dict(target):
    """Protocol values (from the UAPI headers, little-endian as the requests
    carry them) and whole ops in the target's byte format."""
    dev = DEV_TARGETS[target]
    O = {n: i for i, n in enumerate(DEV_OPS[target])}
    lines = ["# %s: protocol constants from <linux/virtio_%s.h> and whole ops in the byte format of "
             "fuzz/README.md (generated by fuzz/make_corpus.py)" % (target, dev)]
    seen = set()

    def add(name, data):
        if data not in seen:
            seen.add(data)
            lines.append(dict_line(name, data))

    if dev == "net":
        for name, v in sorted(uapi_constants("virtio_net.h", "VIRTIO_NET_CTRL_").items()):
            if v < 0x100:
                add(name.lower()[11:], bytes([v]))
        for name, v in sorted(uapi_constants("virtio_net.h", "VIRTIO_NET_HDR_").items()):
            add(name.lower()[11:], bytes([v]))
        for name, cls, cmd in (("rx_promisc", 0, 0), ("rx_allmulti", 0, 1), ("mac_table", 1, 0),
                               ("mac_addr", 1, 1), ("vlan_add", 2, 0), ("vlan_del", 2, 1), ("announce_ack", 3, 0),
                               ("mq_pairs", 4, 0)):
            add("cmd_" + name, bytes([cls, cmd]))
        for name, v in (("ethertype_ipv4", 0x0800), ("ethertype_ipv6", 0x86DD), ("ethertype_arp", 0x0806),
                        ("ethertype_vlan", 0x8100)):
            add(name, v.to_bytes(2, "big"))
        add("mac_own", bytes.fromhex("525400123456"))
        add("mac_bcast", b"\xff" * 6)
        add("mac_mcast", bytes.fromhex("01005e000001"))
        add("hdr_needs_csum_tcp4", bytes([1, 0]) + u16(0) + u16(0) + u16(34) + u16(16) + u16(0))
        add("hdr_gso_tcp4", bytes([1, 1]) + u16(54) + u16(1448) + u16(34) + u16(16) + u16(0))
        add("ipv4_hdr", bytes.fromhex("4500002e00000000401100000a0000010a000002"))
        ops = [("op_tx_60", [O["tx"], 0, 0, 0, 0, 0, 0, 0, 0, 15 << 2, 0]),
               ("op_ctrl_promisc_off", [O["ctrl"], 0, 0, 0x00, 0]),
               ("op_ctrl_mq_pairs_2", [O["ctrl"], 9, 2, 0, 0]),
               ("op_rx_1526", [O["rx"], 0, 0, 9 << 2]), ("op_rx_mrg_64", [O["rx"], 0, 3, 8 << 2]),
               ("op_hostin_60", [O["host.input"], 0, 15 << 2, 14]), ("op_wait", [O["wait"]]),
               ("op_reset_init", [O["lifecycle"], 0])]
    elif dev == "gpu":
        for name, v in sorted(uapi_constants("virtio_gpu.h", "VIRTIO_GPU_").items()):
            if name.startswith(("VIRTIO_GPU_CMD_", "VIRTIO_GPU_RESP_", "VIRTIO_GPU_FORMAT_")):
                add(name.lower()[11:], u32(v))
        for name, v in (("flag_fence", 1), ("id_1", 1), ("dim_64", 64), ("u32_max", 0xFFFFFFFF),
                        ("u32_2p31", 1 << 31)):
            add(name, u32(v))
        add("addr_scratch", u64(DEV_SCRATCH))
        add("addr_ring", u64(0x1000))
        ops = [("op_create_2d_1_64x64", [O["ctrl"], 1, 0, 1, 0, 0x80 | 64, 0x80 | 64, 0, 0]),
               ("op_attach_1_scratch", [O["ctrl"], 6, 0, 1, 1, 1, 0, 0, 0, 8 << 2, 0, 0]),
               ("op_transfer_1", [O["ctrl"], 5, 0, 0x80, 0x80, 0x80 | 64, 0x80 | 64, 0x80, 1, 0, 0]),
               ("op_set_scanout_1", [O["ctrl"], 3, 0, 0x80, 0x80, 0x80 | 64, 0x80 | 64, 0, 1, 0, 0]),
               ("op_flush_1", [O["ctrl"], 4, 0, 0x80, 0x80, 0x80 | 64, 0x80 | 64, 1, 0, 0]),
               ("op_display_info", [O["ctrl"], 0, 0, 0, 4 << 2]), ("op_edid", [O["ctrl"], 10, 0, 0, 0, 6 << 2]),
               ("op_fenced_create", [O["ctrl"], 1, 1, 7, 0, 2, 0, 0x81, 0x81, 0, 0]),
               ("op_cursor_1", [O["cursor"], 0, 0, 0, 10, 10, 1, 0, 0, 0, 0]),
               ("op_backing_write", [O["backing.write"], 0, 0, 4, 0x10, 0x20, 0x30, 0xFF]),
               ("op_events_clear", [O["config.write"], 4, 2, 1, 0, 0, 0]), ("op_wait", [O["wait"]])]
    elif dev == "console":
        for name, v in sorted(uapi_constants("virtio_console.h", "VIRTIO_CONSOLE_").items()):
            if not name.startswith("VIRTIO_CONSOLE_F_") and v <= 0xFFFF:
                add(name.lower()[15:], u16(v))
        add("bad_id", u32(0xFFFFFFFF))
        add("msg_device_ready", u32(0) + u16(0) + u16(1))
        add("msg_port_ready_1", u32(1) + u16(3) + u16(1))
        add("msg_port_open_1", u32(1) + u16(6) + u16(1))
        ops = [("op_device_ready", [O["ctrl.tx"], 0, 0, 1, 0]), ("op_port_ready_1", [O["ctrl.tx"], 1, 3, 1, 0]),
               ("op_port_open_1", [O["ctrl.tx"], 1, 6, 1, 0]), ("op_port_open_0", [O["ctrl.tx"], 0, 6, 0, 0]),
               ("op_ctrl_rx_128", [O["ctrl.rx"], 0, 9 << 2]), ("op_rx_16", [O["port.rx"], 0, 0, 0]),
               ("op_rx_port1", [O["port.rx"], 1, 0, 0]), ("op_tx_ok", [O["port.tx"], 0, 2 << 2 | 1, 2, 0x6F, 0x6B]),
               ("op_hostin_hi", [O["host.input"], 0, 2 << 2 | 1, 2, 0x68, 0x69]),
               ("op_unplug_1", [O["host.event"], 1, 2, 0]), ("op_plug_1", [O["host.event"], 1, 3, 0]),
               ("op_resize", [O["host.event"], 0, 4, 0xFF, 80, 0, 25, 0]),
               ("op_emerg_wr", [O["config.write"], 8, 0, 0x41]), ("op_wait", [O["wait"]])]
    else:
        codes = uapi_constants("input-event-codes.h", "EV_")
        for name, v in sorted(codes.items()):
            if v < 0x20:
                add(name.lower(), u16(v))
        for name, v in sorted(uapi_constants("virtio_input.h", "VIRTIO_INPUT_CFG_").items()):
            add(name.lower()[13:], bytes([v]))
        for name, v in (("key_a", 30), ("led_numl", 0), ("syn_report", 0), ("abs_x", 0), ("rel_wheel", 8)):
            add(name, u16(v))
        add("event_key_a_down", u16(1) + u16(30) + u32(1))
        add("event_syn", bytes(8))
        add("event_led_numl", u16(0x11) + u16(0) + u32(1))
        ops = [("op_status_led", [O["status"], 0, 0, 1, 0]), ("op_eventbuf_8", [O["eventbuf"], 0, 0]),
               ("op_key_press", [O["events"], 0x10, 0, 30, 1]), ("op_flood", [O["events"], 0xFF] + [0, 30, 1] * 16),
               ("op_select_name", [O["config.write"], 0, 0, 1]), ("op_subsel_0", [O["config.write"], 1, 0, 0]),
               ("op_select_ev_bits", [O["config.write"], 0, 0, 0x11]), ("op_read_size", [O["config.read"], 2, 0]),
               ("op_wait", [O["wait"]])]
    ops.append(("op_reset_init", [O["lifecycle"], 0]))
    ops.append(("op_queue_reset_enable", [O["queue"], 0, 0]))
    for n, b in ops:
        add(n, bytes(b))
    return "\n".join(lines) + "\n"


# ---- dictionaries -----------------------------------------------------------

def dict_line(name, data):
    esc = "".join("\\x%02x" % b for b in data)
    return '%s="%s"' % (name, esc)


def split_dict():
    lines = ["# fuzz_split_device: ring field values in the byte format of fuzz/README.md",
             "# (little-endian operands; generated by fuzz/make_corpus.py)"]
    for name, v in [("idx_ffff", 0xFFFF), ("idx_8000", 0x8000), ("idx_0100", 0x100)]:
        lines.append(dict_line(name, u16(v)))
    for name, v in [("len_2p31", 1 << 31), ("len_max", 0xFFFFFFFF), ("len_64k", 0x10000),
                    ("len_16", 16), ("len_512", 512), ("len_4096", 4096), ("len_4097", 4097)]:
        lines.append(dict_line(name, u32(v)))
    for name, v in [("addr_scratch", SCRATCH), ("addr_arena_end", ARENA), ("addr_arena_end_m8", ARENA - 8),
                    ("addr_top", 0xFFFFFFFFFFFFFFFF), ("addr_top_m15", 0xFFFFFFFFFFFFFFF0),
                    ("addr_2p63", 1 << 63), ("addr_ring", RING_BASE), ("sector_cap", DISK_SECTORS)]:
        lines.append(dict_line(name, u64(v)))
    for name, v in [("flags_next", 1), ("flags_write", 2), ("flags_next_write", 3), ("flags_indirect", 4),
                    ("flags_indirect_write", 6), ("flags_all", 7)]:
        lines.append(dict_line(name, bytes([v])))
    # whole ops (opcode + operands): a chain's parts, publishing, kicking, lifecycle
    ops = [("op_desc_hdr", [OP["raw.desc"], 0, 1, 4 << 2, 1, 1]),
           ("op_desc_data_w", [OP["raw.desc"], 1, 1 | (1 << 3), 10 << 2, 3, 2]),
           ("op_desc_status_w", [OP["raw.desc"], 2, 1 | (2 << 3), 1 << 2, 2, 0]),
           ("op_desc_indirect", [OP["raw.desc"], 0, 1 | (4 << 3), 2 | (2 << 2), 4, 0]),
           ("op_avail_0", [OP["raw.avail"], 0, 0]),
           ("op_avail_idx_jump", [OP["raw.avail_idx"], 0x80, 0xFF, 0xFF]),
           ("op_kick", [OP["kick"], 0]), ("op_wait", [OP["wait"]]),
           ("op_reset_init", [OP["lifecycle"], 0]), ("op_read", [OP["blk.read"], 0, 0]),
           ("op_write", [OP["blk.write"], 0, 0, 7])]
    lines += [dict_line(n, bytes(b)) for n, b in ops]
    return "\n".join(lines) + "\n"


def packed_dict():
    lines = ["# fuzz_packed_device: packed ring field values in the byte format of fuzz/README.md",
             "# (little-endian operands; generated by fuzz/make_corpus.py)"]
    for name, v in [("id_ffff", 0xFFFF), ("id_8000", 0x8000), ("id_0100", 0x100), ("id_0101", 0x101),
                    ("flags_avail", PF_AVAIL), ("flags_used", PF_USED), ("flags_avail_used", PF_AVAIL | PF_USED),
                    ("flags_avail_next", PF_AVAIL | 1), ("flags_avail_write", PF_AVAIL | 2),
                    ("flags_avail_indirect", PF_AVAIL | 4), ("flags_used_next", PF_USED | 1),
                    ("flags_used_write", PF_USED | 2), ("off_wrap_8000", 0x8000), ("evt_disable", 1),
                    ("evt_desc", 2), ("evt_reserved", 3)]:
        lines.append(dict_line(name, u16(v)))
    for name, v in [("len_2p31", 1 << 31), ("len_max", 0xFFFFFFFF), ("len_64k", 0x10000),
                    ("len_16m", PDESC_MAX_LEN), ("len_16", 16), ("len_512", 512), ("len_4096", 4096),
                    ("len_4097", 4097), ("len_indirect_3", 48)]:
        lines.append(dict_line(name, u32(v)))
    for name, v in [("addr_scratch", SCRATCH), ("addr_arena_end", ARENA), ("addr_arena_end_m8", ARENA - 8),
                    ("addr_top", 0xFFFFFFFFFFFFFFFF), ("addr_top_m15", 0xFFFFFFFFFFFFFFF0),
                    ("addr_2p63", 1 << 63), ("addr_ring", RING_BASE), ("sector_cap", DISK_SECTORS)]:
        lines.append(dict_line(name, u64(v)))
    # flags bytes: lap bits added by the engine (< 0x80), exact (0x80 | AVAIL 8 | USED 0x10)
    for name, v in [("pflags_next", 1), ("pflags_write", 2), ("pflags_next_write", 3),
                    ("pflags_indirect", 4), ("pflags_exact_none", 0x80), ("pflags_exact_avail", 0x88),
                    ("pflags_exact_used", 0x90), ("pflags_exact_both", 0x98),
                    ("pflags_exact_avail_next", 0x89), ("pflags_exact_used_write", 0x92)]:
        lines.append(dict_line(name, bytes([v])))
    # a whole packed descriptor, as raw.write data into the ring (available on lap 0)
    lines.append(dict_line("desc_avail_next", u64(SCRATCH) + u32(16) + u16(0) + u16(PF_AVAIL | 1)))
    lines.append(dict_line("desc_avail_write", u64(SCRATCH + 0x800) + u32(1) + u16(0) + u16(PF_AVAIL | 2)))
    # whole ops: a FLUSH list (header, status) written last to first, published, kicked
    P = POP
    ops = [("op_pdesc_status_w", [P["raw.pdesc"], 1, 1 | (1 << 3), 1 << 2, 0, 2]),
           ("op_pdesc_hdr", [P["raw.pdesc"], 0, 1, 4 << 2, 0, 1]),
           ("op_pdesc_indirect", [P["raw.pdesc"], 0, 1 | (4 << 3), 2 | (2 << 2), 0, 4]),
           ("op_pdesc_exact_used", [P["raw.pdesc"], 0, 1, 4 << 2, 0, 0x90]),
           ("op_ppublish_2", [P["raw.ppublish"], 2, 0]), ("op_ppublish_1", [P["raw.ppublish"], 1, 0]),
           ("op_write_flush_hdr", [P["raw.write"], 1, 4, 4, 0, 0, 0]),
           ("op_kick", [P["kick"], 0]), ("op_wait", [P["wait"]]),
           ("op_reset_init", [P["lifecycle"], 0]), ("op_queue_reset_enable", [P["queue"], 0]),
           ("op_read", [P["blk.read"], 0, 0]), ("op_write", [P["blk.write"], 0, 0, 7])]
    lines += [dict_line(n, bytes(b)) for n, b in ops]
    return "\n".join(lines) + "\n"


def driver_dict(packed):
    name = "fuzz_packed_driver" if packed else "fuzz_split_driver"
    O = PDOP if packed else SDOP
    lines = ["# %s: a malicious device's values in the byte format of fuzz/README.md" % name,
             "# (little-endian operands; generated by fuzz/make_corpus.py)"]
    for n, v in [("idx_ffff", 0xFFFF), ("idx_8000", 0x8000), ("idx_0100", 0x100), ("id_0101", 0x101)]:
        lines.append(dict_line(n, u16(v)))
    for n, v in [("len_2p31", 1 << 31), ("len_max", 0xFFFFFFFF), ("len_64k", 0x10000), ("len_513", 513),
                 ("len_21", 21), ("len_1", 1)] + ([] if packed else [("id_u32_max", 0xFFFFFFFF)]):
        lines.append(dict_line(n, u32(v)))
    # id selectors: the next chain, the last id again, explicit ids
    for n, v in [("id_next", [0]), ("id_last", [0x80]), ("id_0", [0xC0, 0]), ("id_1", [0xC0, 1]),
                 ("id_size", [0xFE, 0]), ("id_size_p1", [0xFE, 1])]:
        lines.append(dict_line(n, bytes(v)))
    # mode bytes: irq auto / on / off, with a status byte OK, publish false or a skip byte
    for n, v in [("mode_status_ok", [4, 0]), ("mode_irq_on_status_ok", [5, 0]), ("mode_irq_off", [2]),
                 ("mode_status_ioerr", [4, 1])] + ([("mode_skip_1", [8, 1]), ("mode_skip_0", [8, 0])] if packed
                                                   else [("mode_no_publish", [8])]):
        lines.append(dict_line(n, bytes(v)))
    ops = [("op_used_ok", [O["dev.used"], 0, 1 << 2, 4, 0]),
           ("op_used_last", [O["dev.used"], 0x80, 1 << 2, 0]),
           ("op_used_bad_id", [O["dev.used"], 0xFE, 0, 1 << 2, 0]),
           ("op_used_len_over", [O["dev.used"], 0, 3, 0, 0, 1, 0, 4, 0]),
           ("op_irq", [O["dev.irq"]]), ("op_needs_reset", [O["dev.needs_reset"], 0]),
           ("op_config_capacity", [O["dev.config"], 0, 8] + list(u64(16))),
           ("op_flush", [O["blk.other"], 0]), ("op_read", [O["blk.read"], 0, 0]),
           ("op_write", [O["blk.write"], 0, 0, 7]), ("op_reset_init", [O["lifecycle"], 0]),
           ("op_poll", [O["poll"]]), ("op_queue1", [O["select_queue"], 1])]
    if packed:
        ops += [("op_pused_wrong_wrap", [O["dev.pused"], 0, 1 << 2, 0x80, 4, 0]),
                ("op_pused_used_only", [O["dev.pused"], 0, 1 << 2, 0x90, 0]),
                ("op_pevent_disable", [O["dev.pevent"], 1, 0]), ("op_pevent_desc", [O["dev.pevent"], 2, 0x81])]
        for n, v in [("pflags_exact_none", 0x80), ("pflags_exact_avail", 0x88), ("pflags_exact_used", 0x90),
                     ("pflags_exact_both", 0x98)]:
            lines.append(dict_line(n, bytes([v])))
    else:
        ops += [("op_used_idx_jump", [O["dev.used_idx"], 3, 0]), ("op_used_idx_back", [O["dev.used_idx"], 0xFF, 1]),
                ("op_avail_event_far", [O["dev.avail_event"], 0x80, 0xE8, 0x03]),
                ("op_used_flags_no_notify", [O["dev.used_flags"], 1])]
    lines += [dict_line(n, bytes(b)) for n, b in ops]
    return "\n".join(lines) + "\n"


def blk_dict():
    lines = ["# fuzz_blk_request: request field values (little-endian; generated by fuzz/make_corpus.py)"]
    for t in (0, 1, 4, 8, 10, 11, 13, 14, 0x80000000):
        lines.append(dict_line("type_%x" % t, u32(t)))
    for name, v in [("sector_top", 0xFFFFFFFFFFFFFFFF), ("sector_cap", 64), ("sector_2p55", 1 << 55)]:
        lines.append(dict_line(name, u64(v)))
    for name, v in [("num_max", 0xFFFFFFFF), ("flags_unmap", 1), ("flags_unknown", 2),
                    ("num_2p23", 1 << 23)]:
        lines.append(dict_line(name, u32(v)))
    for name, v in [("len_512", 512), ("len_4096", 4096), ("len_16", 16), ("len_20", 20)]:
        lines.append(dict_line(name, u16(v)))
    return "\n".join(lines) + "\n"


def scenario_dict(scenarios):
    words = set()

    def walk(x):
        if isinstance(x, dict):
            for k, v in x.items():
                words.add('"%s":' % k)
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, str) and len(x) <= 40 and not all(c in "0123456789abcdefABCDEF " for c in x) and x.replace(".", "").replace("-", "").replace("_", "").replace(":", "").isalnum():
            words.add('"%s"' % x)

    for sc in scenarios:
        walk(sc)
    words |= {"true", "false", "null", '"0x', '"0xffffffffffffffff"', "18446744073709551615",
              "9223372036854775807", "-1", "1e3", "1.0", '{"pattern":', '{"fill":', '"bit:63"',
              "[]", "{}", '"\\u0000"', '"\\ud800"'}
    lines = ["# fuzz_scenario: the scenario format's words (keys and names from scenarios/; "
             "generated by fuzz/make_corpus.py)"]
    for i, w in enumerate(sorted(words)):
        esc = w.replace("\\", "\\\\").replace('"', '\\"')
        lines.append('w%d="%s"' % (i, esc))
    return "\n".join(lines) + "\n"


# ---- main -------------------------------------------------------------------

def write_dir(path, files):
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    seen = set()
    for name, data in sorted(files.items()):
        h = hashlib.sha1(data).hexdigest()
        if h in seen:
            continue
        seen.add(h)
        (path / name).write_bytes(data)
    return len(seen)


# fuzz_scenario seeds: at most this many bytes in all (the smallest seeds
# first), so that the corpora stay small as scenarios/ grows; the fuzzer
# reaches the larger ones' shapes from the dictionary's words
SCENARIO_SEED_BUDGET = 128 * 1024


def compact_seed(sc):
    """A scenario file as a seed: the same scenario with no indentation and
    no top-level description (prose is no input the loader looks at twice;
    the structure and the words are)."""
    sc = {k: v for k, v in sc.items() if k != "description"}
    return (json.dumps(sc, separators=(",", ":")) + "\n").encode()


def within_budget(seeds, budget):
    """The smallest seeds (by size, then name) whose sizes add up to at most
    `budget` bytes."""
    kept, used = {}, 0
    for name, data in sorted(seeds.items(), key=lambda kv: (len(kv[1]), kv[0])):
        if used + len(data) > budget:
            break
        kept[name] = data
        used += len(data)
    return kept


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(REPO / "fuzz"), help="where corpus/ and dict/ go")
    ap.add_argument("--scenarios", default=str(REPO / "scenarios"))
    ap.add_argument("--max-scenario-bytes", type=int, default=2048,
                    help="fuzz_scenario seeds: only scenario files up to this size")
    ap.add_argument("--only", help="rewrite this target's corpus and dictionary only")
    ap.add_argument("--cli", default=os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim"),
                    help="the virtio-sim CLI (fuzz_vhost_user seeds are completed with it)")
    args = ap.parse_args()
    out = Path(args.out)
    if args.only == "fuzz_vhost_user" or not args.only:
        n_vu = write_dir(out / "corpus" / "fuzz_vhost_user", vu_seeds(args.cli))
        (out / "dict").mkdir(parents=True, exist_ok=True)
        (out / "dict" / "fuzz_vhost_user.dict").write_text(vu_dict())
        print("fuzz_vhost_user: %d seeds (skeletons completed by fuzz-complete)" % n_vu)
        if args.only:
            return 0
    want = lambda t: not args.only or args.only == t
    files = sorted(Path(args.scenarios).rglob("*.json"))
    scenarios, split, packed, texts, skipped, pskipped = [], {}, {}, {}, [], []
    sdrv, pdrv = {}, {}
    for f in files:
        rel = f.relative_to(args.scenarios).with_suffix("").as_posix().replace("/", "_")
        text = f.read_bytes()
        sc = json.loads(text)
        scenarios.append(sc)
        # and not the few with a huge arena: allocating and zeroing 1 GiB
        # under ASan costs seconds per execution, and on a loaded machine
        # more than libFuzzer's -timeout (the fuzzer can still get there)
        if len(text) <= args.max_scenario_bytes and int(str(sc.get("arena_size", 0)), 0) <= MAX_SEED_ARENA:
            texts[rel + ".json"] = compact_seed(sc)
        try:
            split[rel] = encode_split(sc)[0]
        except Unsupported as e:
            skipped.append("%s (%s)" % (rel, e))
        try:
            packed[rel] = encode_packed(sc)[0]
        except Unsupported as e:
            pskipped.append("%s (%s)" % (rel, e))
        for drv, is_packed in ((sdrv, False), (pdrv, True)):
            try:
                drv[rel] = encode_driver(sc, is_packed)[0]
            except Unsupported:
                pass
    texts = within_budget(texts, SCENARIO_SEED_BUDGET)
    (out / "dict").mkdir(parents=True, exist_ok=True)
    n_split = n_packed = n_sdrv = n_pdrv = n_blk = n_sc = 0
    n_dev = {}
    for t, files_of, dict_of in (
            ("fuzz_split_device", lambda: split, split_dict),
            ("fuzz_packed_device", lambda: packed, packed_dict),
            ("fuzz_split_driver", lambda: sdrv, lambda: driver_dict(False)),
            ("fuzz_packed_driver", lambda: pdrv, lambda: driver_dict(True)),
            ("fuzz_blk_request", blk_seeds, blk_dict),
            ("fuzz_scenario", lambda: texts, lambda: scenario_dict(scenarios)),
            *((t, (lambda t=t: dev_seeds(t, args.scenarios)), (lambda t=t: dev_dict(t))) for t in DEV_TARGETS)):
        if not want(t):
            continue
        n = write_dir(out / "corpus" / t, files_of())
        (out / "dict" / (t + ".dict")).write_text(dict_of())
        if t in DEV_TARGETS:
            n_dev[t] = n
            continue
        n_split, n_packed, n_sdrv, n_pdrv, n_blk, n_sc = [
            n if t == name else old for name, old in zip(
                ("fuzz_split_device", "fuzz_packed_device", "fuzz_split_driver", "fuzz_packed_driver",
                 "fuzz_blk_request", "fuzz_scenario"), (n_split, n_packed, n_sdrv, n_pdrv, n_blk, n_sc))]
    total = sum(p.stat().st_size for p in (out / "corpus").rglob("*") if p.is_file())
    print("fuzz_split_device: %d seeds from %d scenarios (%d skipped)" % (n_split, len(files), len(skipped)))
    for s in skipped:
        print("  skipped: " + s)
    print("fuzz_packed_device: %d seeds from %d scenarios (%d skipped: split raw ops, queue size)"
          % (n_packed, len(files), len(pskipped)))
    print("fuzz_split_driver: %d seeds; fuzz_packed_driver: %d seeds (the scripted-device scenarios)"
          % (n_sdrv, n_pdrv))
    print("fuzz_blk_request: %d seeds; fuzz_scenario: %d seeds" % (n_blk, n_sc))
    for t, n in n_dev.items():
        size = sum(p.stat().st_size for p in (out / "corpus" / t).iterdir())
        print("%s: %d seeds from scenarios/%s (%d bytes)" % (t, n, ", scenarios/".join(
            DEV_SEED_DIRS[DEV_TARGETS[t]]), size))
    print("corpus total %d bytes" % total)
    return 0


if __name__ == "__main__":
    sys.exit(main())
