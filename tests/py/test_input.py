"""virtio-input: the built-in model, its driver model and the input suite.

  (a) every scenarios/input/ scenario holds on both rings and both transports
      (except those written for one of them);
  (b) host.input takes whole events: a partial record fails the step;
  (c) an update the device accepted and never delivered is a stall of the
      eventq, while eventq buffers waiting for events are not;
  (d) the input suite passes on the correct model and catches both device
      mutants (the SHOULD one as a warning).

The CLI is found through VSIM_CLI, else build/virtio-sim in the repository.
"""
import json
import os
import subprocess
from pathlib import Path

import pytest

from virtiosim import Sim

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim")
INPUT = sorted((REPO / "scenarios" / "input").glob("*.json"))


def _run(path, *args):
    r = subprocess.run([CLI, "run", str(path), "--json", *args], capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout)


@pytest.mark.parametrize("path", INPUT, ids=lambda p: p.stem)
def test_input_scenarios_hold_everywhere(path):
    text = path.read_text()
    transports = ["mmio"] if '"mmio.' in text else ["mmio", "pci"]
    rings = ["split"] if '"ring": "split"' in text else ["split", "packed"]
    for ring in rings:
        for transport in transports:
            d = _run(path, "--ring", ring, "--transport", transport)
            assert d["result"] == "pass", (ring, transport, d.get("failures"), d.get("violations"))


def _input(steps, **top):
    sc = {"name": "t", "device": "input", "steps": steps}
    sc.update(top)
    return sc


def test_partial_event_record_fails_the_step():
    with Sim.from_json(_input([{"op": "host.input", "data": "0100 1e00 0100"}])) as sim:
        assert not sim.run()
        assert any("whole virtio_input_event records" in f for f in sim.failures), sim.failures


def test_accepted_update_never_delivered_is_a_stall():
    # the scripted device serves no queue: the buffer posted by req.raw waits
    # for an update the model took and nobody delivers (a mouse: no LED
    # status event, whose statusq buffer would wait too)
    sc = _input([{"op": "req.raw", "queue": 0, "len": 8}, {"op": "host.input", "data": "0100 1e00 01000000"}],
                device_scripted=True, device_config={"kind": "mouse"}, expect={"violations": ["liveness.stall"]})
    with Sim.from_json(sc) as sim:
        assert sim.run(), (sim.failures, sim.violations)
        assert [v["queue"] for v in sim.violations] == [0]
    sc["steps"] = sc["steps"][:1]
    sc["expect"] = {"violations": []}
    with Sim.from_json(sc) as sim:
        assert sim.run(), (sim.failures, sim.violations)
        assert not sim.counters["stalled"]


def _conform(*args):
    return subprocess.run([CLI, "conform", "--device", "input", "--suite", "input", "--jobs", "2", "--quiet", *args],
                          capture_output=True, text=True, timeout=300)


def test_input_suite_passes_and_catches_device_mutants():
    r = _conform("--backend", "builtin:input")
    assert r.returncode == 0 and "result: PASS" in r.stdout, r.stdout[-2000:]
    r = _conform("--backend", "builtin:input?mutant=dev.input-size-garbage", "--matrix", "native", "--seeds", "1")
    assert r.returncode == 1, r.stdout[-1500:]
    # a SHOULD broken: warnings, and the run passes
    r = _conform("--backend", "builtin:input?mutant=dev.input-split-update", "--matrix", "native", "--seeds", "1")
    assert r.returncode == 0 and "warn" in r.stdout, r.stdout[-1500:]
    line = next(l for l in r.stdout.splitlines() if l.startswith("input "))
    assert int(line.split()[3]) > 0, line  # the warn column
