"""The built-in virtio-net model and its driver-side judge.

  - every net scenario (scenarios/net, scenarios/net-edges, the net mutant
    proofs) holds on both ring layouts and both transports;
  - the scenarios are what tools/net_scenarios_gen.py writes (the checksums
    in them are computed there, so a hand edit would go stale);
  - `virtio-sim conform --backend builtin:net --device net` passes cleanly;
  - a hostile driver (random headers, frames and control commands on every
    queue) never breaks the device: no DEVICE_NEEDS_RESET, no device-side
    violation, a deterministic run;
  - device_config is validated; the transmit checksum is the RFC 1071 one.
"""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from virtiosim import Sim

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim")
# the sanitizer pass (the Makefile preloads the runtimes): samples, not sweeps
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
SCEN = REPO / "scenarios"
FILES = sorted(list((SCEN / "net").glob("*.json")) + list((SCEN / "net-edges").glob("*.json")) +
               [p for p in (SCEN / "mutants").glob("*.json") if ".net-" in p.name])


def _id(p):
    return "%s/%s" % (p.parent.name, p.stem)


def run(*args):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", FILES, ids=_id)
@pytest.mark.parametrize("ring,transport", [("split", "mmio"), ("packed", "pci")])
def test_scenario_holds(path, ring, transport):
    r = run("run", path, "--ring", ring, "--transport", transport, "--quiet")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]


def test_generated_scenarios_are_current(tmp_path):
    subprocess.run([sys.executable, str(REPO / "tools" / "net_scenarios_gen.py"), "--out", str(tmp_path)],
                   check=True, timeout=60)
    made = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert made, "the generator wrote nothing"
    stale = [str(rel) for rel in made if (SCEN / rel).read_text() != (tmp_path / rel).read_text()]
    assert not stale, "regenerate with tools/net_scenarios_gen.py: %s" % stale


def test_conform_builtin_net_passes(tmp_path):
    d = tmp_path / "rep"
    args = ["conform", "--backend", "builtin:net", "--device", "net", "--jobs", "2", "--quiet", "--report", d]
    if SANITIZED:
        args += ["--matrix", "native"]
    r = run(*args)
    assert r.returncode == 0, r.stdout[-3000:]
    rep = json.loads((d / "report.json").read_text())
    verdicts = {t["verdict"] for t in rep["tests"]}
    assert verdicts <= {"pass", "reject"}, verdicts
    assert any(t["id"].startswith("net:net-edges/") and t["verdict"] == "reject" for t in rep["tests"])
    assert any(t["id"].startswith("net:net/rx-mrg") and t["verdict"] == "pass" for t in rep["tests"])


def test_a_broken_model_fails_the_suite():
    r = run("conform", "--backend", "builtin:net?mutant=dev.net-ctrl-ack-2", "--device", "net", "--matrix", "native")
    assert r.returncode == 1 and "net.dev-ctrl-ack" in r.stdout, r.stdout[-2000:]


def _hostile(seed, n=120):
    """A driver sending garbage: random headers and frames on the transmit
    queues, random commands (right and wrong lengths) on the control queue,
    receive buffers of any size, host frames of any size, on two pairs."""
    rnd = random.Random(seed)
    steps = []
    for _ in range(n):
        k = rnd.randrange(5)
        if k == 0:
            data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 80)))
            steps.append({"op": "req.raw", "queue": rnd.choice([1, 3]), "data": data.hex() or "00"})
        elif k == 1:
            cls, cmd = rnd.randrange(10), rnd.randrange(8)
            data = bytes([cls, cmd]) + bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 20)))
            steps.append({"op": "req.raw", "queue": 4, "data": data[: rnd.randrange(1, len(data) + 1)].hex(),
                          "len": rnd.randrange(0, 3)} if rnd.random() < 0.9 else
                         {"op": "req.raw", "queue": 4, "data": data.hex()})
        elif k == 2:
            steps.append({"op": "req.raw", "queue": rnd.choice([0, 2]), "len": rnd.randrange(1, 200)})
        elif k == 3:
            frame = bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 160)))
            steps.append({"op": "host.input", "port": rnd.randrange(4), "data": frame.hex()})
        else:
            steps.append({"op": "wait"})
    return {"name": "net-hostile-%d" % seed, "device": "net", "num_queues": 5, "queue_size": 16,
            "policy": "random", "seed": seed, "steps": steps}


DEVICE_CHECKS_OK = set()  # a hostile driver must not make the device break any rule


@pytest.mark.parametrize("seed", range(3 if SANITIZED else 12))
def test_hostile_driver_never_breaks_the_device(seed):
    doc = _hostile(seed)
    hashes = []
    for _ in range(2):
        with Sim.from_json(doc, name=doc["name"]) as sim:
            sim.run()
            dev = {v["check"] for v in sim.violations if not v["check"].startswith("net.drv-")
                   and v["check"] != "liveness.stall"}
            assert dev <= DEVICE_CHECKS_OK, (seed, dev, sim.violations[:5])
            c = sim.counters
            assert not (c["device_status"] & 0x40), "DEVICE_NEEDS_RESET after hostile input (seed %d)" % seed
            # the script ran to its end and nothing was left hanging: the only
            # failure is the violation count (the driver's own, on purpose)
            assert not c["stalled"], (seed, sim.failures)
            assert all(f.endswith("none expected") for f in sim.failures), (seed, sim.failures)
            assert c["completed"] > len(doc["steps"]) // 3, (seed, c)
            hashes.append(sim.trace_hash)
    assert hashes[0] == hashes[1], "the same seed gave two runs"


def test_device_config_is_validated():
    for cfg, msg in [({"mtu": 20}, "mtu"), ({"mac": "52:54:00"}, "mac"), ({"max_virtqueue_pairs": 0}, "max_virtqueue"),
                     ({"duplex": 7}, "duplex"), ({"colour": "blue"}, "unknown device_config key")]:
        doc = {"name": "net-bad-config", "device": "net", "device_config": cfg, "steps": []}
        with pytest.raises(Exception) as e:
            Sim.from_json(doc, name="bad")
        assert msg in str(e.value), (cfg, str(e.value))


def test_config_space_reads_what_was_configured():
    doc = {"name": "net-config", "device": "net", "num_queues": 5,
           "device_config": {"mac": "02:00:00:00:00:01", "mtu": 9000, "speed": 10000, "duplex": 1},
           "steps": [{"op": "mmio.read", "offset": 0x100, "value": 0x00000002},
                     {"op": "mmio.read", "offset": 0x104, "len": 2, "value": 0x0100},
                     {"op": "mmio.read", "offset": 0x106, "len": 2, "value": 1, "comment": "status: LINK_UP"},
                     {"op": "mmio.read", "offset": 0x108, "len": 2, "value": 2, "comment": "max_virtqueue_pairs"},
                     {"op": "mmio.read", "offset": 0x10a, "len": 2, "value": 9000, "comment": "mtu"},
                     {"op": "mmio.read", "offset": 0x10c, "value": 10000, "comment": "speed"},
                     {"op": "mmio.read", "offset": 0x110, "len": 1, "value": 1, "comment": "duplex"}],
           "expect": {"violations": ["config.drv-no-generation-loop"]}}
    with Sim.from_json(doc, name="cfg") as sim:
        ok = sim.run()
        assert ok, sim.failures


def _pcap_frames(path):
    import struct
    data = Path(path).read_bytes()
    magic, vmaj, vmin, _, _, snap, link = struct.unpack("<IHHiIII", data[:24])
    assert (magic, vmaj, vmin, snap, link) == (0xA1B2C3D4, 2, 4, 65535, 1)
    out, at = [], 24
    while at < len(data):
        sec, usec, cap, length = struct.unpack("<IIII", data[at:at + 16])
        assert cap == length and usec < 1000000
        out.append((sec * 1000000 + usec, data[at + 16:at + 16 + cap]))
        at += 16 + cap
    assert at == len(data)
    return out


def test_pcap_holds_the_wire(tmp_path):
    """--pcap writes every frame that crossed the wire, both ways, in order,
    stamped with virtual time; the same run writes the same bytes."""
    scen = SCEN / "net" / "mq-pairs.json"
    doc = json.loads(scen.read_text())
    sent = [bytes.fromhex(s["data"].replace(" ", ""))[12:] for s in doc["steps"]
            if s["op"] == "req.raw" and s["queue"] in (1, 3)]
    got = [bytes.fromhex(s["data"].replace(" ", "")) for s in doc["steps"] if s["op"] == "host.input"]
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    for p in (a, b):
        r = run("run", scen, "--pcap", p, "--quiet")
        assert r.returncode == 0, r.stdout + r.stderr
    assert a.read_bytes() == b.read_bytes()
    frames = _pcap_frames(a)
    assert sorted(f for _, f in frames) == sorted(sent + got)
    assert [t for t, _ in frames] == sorted(t for t, _ in frames)
    r = run("run", SCEN / "blk" / "flush-ok.json", "--pcap", tmp_path / "c.pcap")
    assert r.returncode == 2 and "built-in net model" in r.stderr


def test_checksum_completion_matches_rfc1071():
    # the tx-csum scenario's expected frame is the generator's RFC 1071 sum;
    # check that sum independently against a known vector (RFC 1071 §3)
    sys.path.insert(0, str(REPO / "tools"))
    import net_scenarios_gen as gen
    assert gen.csum16(bytes.fromhex("0001f203f4f5f6f7")) == 0xDDF2
    full = gen.udp_frame(partial=False)
    # a correct UDP checksum sums (with the pseudo header) to 0xffff
    saddr, daddr, udp = full[26:30], full[30:34], full[34:]
    pseudo = saddr + daddr + bytes([0, 17]) + len(udp).to_bytes(2, "big")
    assert gen.csum16(pseudo + udp) == 0xFFFF
