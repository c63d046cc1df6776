"""The built-in virtio-gpu model (backend-model/gpu.c) and its suite.

- every scenario of scenarios/gpu and scenarios/gpu-edges holds on both ring
  layouts and both transports, and the committed files are what
  tools/gpu_scenarios_gen.py writes;
- `conform --backend builtin:gpu --device gpu` passes cleanly;
- gpu.expect_scanout fails a step naming the pixel when the picture differs;
- --scanout-png writes a PNG that zlib decodes to the scanout's pixels;
- device_config and num_queues mistakes are refused with a message;
- a hostile driver (seeded random commands) gets answers, never a crash, and
  the model breaks no rule while answering.
"""
import json
import os
import random
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim")
SCEN = sorted((REPO / "scenarios" / "gpu").glob("*.json")) + sorted((REPO / "scenarios" / "gpu-edges").glob("*.json"))


def run(*args, rc=None):
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120)
    if rc is not None:
        assert r.returncode == rc, r.stdout[-2000:] + r.stderr[-2000:]
    return r


def test_scenarios_hold_on_every_ring_and_transport():
    assert len(SCEN) >= 20
    # the sanitizer pass: every fourth (its scenario sweep runs them all as written)
    for path in SCEN[::4] if "libasan" in os.environ.get("LD_PRELOAD", "") else SCEN:
        for ring in ("split", "packed"):
            for transport in ("mmio", "pci"):
                r = run("run", path, "--ring", ring, "--transport", transport, "--json")
                doc = json.loads(r.stdout)
                assert r.returncode == 0 and doc["result"] == "pass", (path.name, ring, transport, doc)


def test_generator_writes_the_committed_scenarios(tmp_path):
    subprocess.run([sys.executable, str(REPO / "tools" / "gpu_scenarios_gen.py"), "--root", str(tmp_path)], check=True)
    made = sorted(tmp_path.glob("scenarios/*/*.json"))
    assert len(made) >= 25
    for f in made:
        rel = f.relative_to(tmp_path)
        assert (REPO / rel).read_text() == f.read_text(), f"{rel} is stale: run tools/gpu_scenarios_gen.py"


def test_conform_gpu_suite_passes(tmp_path):
    r = run("conform", "--backend", "builtin:gpu", "--device", "gpu", "--jobs", "2", "--report", tmp_path / "r", rc=0)
    rep = json.loads((tmp_path / "r" / "report.json").read_text())
    verdicts = {t["verdict"] for t in rep["tests"]}
    assert verdicts == {"pass"}, verdicts
    # both rings and both transports are in the matrix
    ids = " ".join(t["id"] for t in rep["tests"])
    assert "packed" in ids and ",pci" in ids


def _basic():
    return json.loads((REPO / "scenarios" / "gpu" / "scanout-basic.json").read_text())


def test_expect_scanout_names_the_wrong_pixel(tmp_path):
    doc = _basic()
    st = next(s for s in doc["steps"] if s["op"] == "gpu.expect_scanout")
    st["expect_data"] = st["expect_data"][:8] + "00" + st["expect_data"][10:]  # pixel (1, 0), byte 0
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(doc))
    r = run("run", p, rc=1)
    assert "pixel (1, 0) byte 0" in r.stdout
    st["expect_data"] = st["expect_data"][:-8]  # one pixel short
    p.write_text(json.dumps(doc))
    assert "expect_data has" in run("run", p, rc=1).stdout


def _png_pixels(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    i, idat, ihdr = 8, b"", None
    while i < len(data):
        n = struct.unpack(">I", data[i:i + 4])[0]
        kind, body = data[i + 4:i + 8], data[i + 8:i + 8 + n]
        assert zlib.crc32(kind + body) == struct.unpack(">I", data[i + 8 + n:i + 12 + n])[0], kind
        if kind == b"IHDR":
            ihdr = struct.unpack(">IIBBBBB", body)
        if kind == b"IDAT":
            idat += body
        i += 12 + n
    w, h = ihdr[0], ihdr[1]
    assert ihdr[2:] == (8, 6, 0, 0, 0)
    raw = zlib.decompress(idat)
    rows = [raw[y * (w * 4 + 1):(y + 1) * (w * 4 + 1)] for y in range(h)]
    assert all(r[0] == 0 for r in rows)
    return w, h, b"".join(r[1:] for r in rows)


@pytest.mark.parametrize("name", ["scanout-basic", "backing-scatter"])
def test_scanout_png_is_the_scanout(tmp_path, name):
    path = REPO / "scenarios" / "gpu" / (name + ".json")
    doc = json.loads(path.read_text())
    want = bytes.fromhex(next(s for s in doc["steps"] if s["op"] == "gpu.expect_scanout")["expect_data"])
    run("run", path, "--quiet", "--scanout-png", tmp_path / "s.png", rc=0)
    w, h, rgba = _png_pixels((tmp_path / "s.png").read_bytes())
    assert w * h * 4 == len(want)
    # B8G8R8A8 in memory -> R G B A
    bgra_as_rgba = b"".join(bytes([want[i + 2], want[i + 1], want[i], want[i + 3]]) for i in range(0, len(want), 4))
    assert rgba == bgra_as_rgba


def test_scanout_png_without_a_picture(tmp_path):
    r = run("run", REPO / "scenarios" / "gpu-edges" / "resource-id-zero.json", "--quiet", "--scanout-png",
            tmp_path / "x.png", rc=2)
    assert "shows nothing" in r.stderr
    r = run("run", REPO / "scenarios" / "blk" / "flush-ok.json", "--quiet", "--scanout-png", tmp_path / "x.png", rc=2)
    assert "not the built-in gpu model" in r.stderr


@pytest.mark.parametrize("cfg,msg", [
    ({"num_scanouts": 0}, "num_scanouts"), ({"num_scanouts": 17}, "num_scanouts"), ({"colour": 1}, "unknown"),
    ({"edid": "yes"}, "true or false"), ({"max_backing_entries": 1025}, "max_backing_entries"),
    ({"max_resource_bytes": -1}, "max_resource_bytes"),
])
def test_device_config_mistakes_are_refused(tmp_path, cfg, msg):
    doc = _basic()
    doc["device_config"] = cfg
    p = tmp_path / "c.json"
    p.write_text(json.dumps(doc))
    r = run("run", p, rc=2)
    assert msg in r.stderr


def test_gpu_has_two_queues(tmp_path):
    doc = _basic()
    doc["num_queues"] = 1
    p = tmp_path / "q.json"
    p.write_text(json.dumps(doc))
    assert "exactly two queues" in run("run", p, rc=2).stderr


def _hostile(seed):
    rnd = random.Random(seed)
    steps = []
    for _ in range(40):
        typ = rnd.choice([0x100, 0x101, 0x102, 0x103, 0x104, 0x105, 0x106, 0x107, 0x10a, 0x200, 0x300, rnd.getrandbits(32)])
        body = struct.pack("<IIQIB3x", typ, rnd.getrandbits(1), rnd.getrandbits(64), 0, 0)
        # small ids and sizes so that commands meet each other's resources
        words = [rnd.choice([0, 1, 2, 3, 4, 64, 0xFFFFFFFF, rnd.getrandbits(32)]) for _ in range(10)]
        if typ == 0x106:
            words[1] = rnd.choice([1, 2, 3, 0xFFFFFFFF])
            words[2:4] = [0xF0000 + rnd.randrange(0, 0x10000), 0]
            words[4] = rnd.choice([16, 64, 4096, 0xFFFFFFFF])
        body += struct.pack("<10I", *words)[:rnd.randrange(0, 41)]
        steps.append({"op": "req.raw", "queue": 1 if typ == 0x300 else 0, "data": body.hex(),
                      "len": rnd.choice([0, 23, 24, 408, 1056])})
    steps.append({"op": "wait"})
    return {"name": "gpu-hostile-%d" % seed, "device": "gpu", "seed": seed, "policy": "random",
            "device_config": {"max_resource_bytes": 1 << 20}, "steps": steps,
            "expect": {"violations": []}}


@pytest.mark.parametrize("seed", range(6))
def test_hostile_driver_gets_answers(tmp_path, seed):
    p = tmp_path / "h.json"
    p.write_text(json.dumps(_hostile(seed)))
    for ring in ("split", "packed"):
        r = run("run", p, "--ring", ring, "--json")
        doc = json.loads(r.stdout)
        assert r.returncode == 0, (ring, doc["violations"], doc["failures"])


@pytest.mark.parametrize("edit,msg", [
    (lambda d: d.update(device="blk"), "needs device \"gpu\""),
    (lambda d: d["steps"][-1].update(index=16), "at most 16 scanouts"),
    (lambda d: d["steps"][-1].update(expect_data=""), "expect_data is empty"),
])
def test_expect_scanout_is_validated_by_the_loader(tmp_path, edit, msg):
    doc = _basic()
    assert doc["steps"][-1]["op"] == "gpu.expect_scanout"
    edit(doc)
    p = tmp_path / "l.json"
    p.write_text(json.dumps(doc))
    assert msg in run("run", p, rc=2).stderr
