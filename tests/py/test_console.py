"""virtio-console: the built-in model, receive buffers held for input, and the console suite.

  (a) every scenarios/console/ scenario holds on both rings and both transports
      (except those written for one ring or one transport);
  (b) a receive buffer held for lack of input is neither waited for nor a stall,
      but input the device accepted and never delivered is (liveness.stall):
      the exemption is exactly as wide as the rule;
  (c) host input beyond the model's FIFO is dropped and only what it kept is
      owed: a wait after it does not hang;
  (d) the console suite passes on the correct model and fails on every console
      device mutant, over `virtio-sim conform`;
  (e) bad host-side steps are step failures, never crashes.

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
CONSOLE = sorted((REPO / "scenarios" / "console").glob("*.json"))


def _run(path, *args):
    r = subprocess.run([CLI, "run", str(path), "--json", *args], capture_output=True, text=True, timeout=60)
    return json.loads(r.stdout)


def _variants(path):
    text = path.read_text()
    rings = ["split"] if '"ring": "split"' in text else ["split", "packed"]
    transports = ["mmio"] if '"mmio.' in text and '"transport": "pci"' not in text else (
        ["pci"] if '"transport": "pci"' in text else ["mmio", "pci"])
    return [(r, t) for r in rings for t in transports]


@pytest.mark.parametrize("path", CONSOLE, ids=lambda p: p.stem)
def test_console_scenarios_hold_everywhere(path):
    for ring, transport in _variants(path):
        d = _run(path, "--ring", ring, "--transport", transport)
        assert d["result"] == "pass", (ring, transport, d.get("failures"), d.get("violations"))


def _console(steps, **top):
    sc = {"name": "t", "device": "console", "steps": steps}
    sc.update(top)
    return sc


def test_held_receive_buffer_is_not_a_stall():
    # a receive buffer and no input: the run ends cleanly, wait does not wait for it
    sc = _console([{"op": "req.raw", "queue": 0, "len": 8}, {"op": "wait"}],
                  expect={"violations": [], "completed": 0})
    with Sim.from_json(sc) as sim:
        assert sim.run(), sim.failures
        assert not sim.counters["stalled"]


def test_undelivered_input_is_a_stall():
    # the scripted device serves no queue: the model takes the input, the
    # buffer is never filled, and that is a stall of the receive queue
    sc = _console([{"op": "req.raw", "queue": 0, "len": 8}, {"op": "host.input", "data": "61"}],
                  device_scripted=True, expect={"violations": ["liveness.stall"]})
    with Sim.from_json(sc) as sim:
        assert sim.run(), (sim.failures, sim.violations)
        assert sim.counters["stalled"]
        assert [v["queue"] for v in sim.violations] == [0]
    # without the input the same run is quiet
    sc["steps"] = sc["steps"][:1]
    sc["expect"] = {"violations": []}
    with Sim.from_json(sc) as sim:
        assert sim.run(), (sim.failures, sim.violations)
        assert not sim.counters["stalled"]


def test_transmit_buffer_is_still_waited_for():
    # only receive queues are exempt: a transmit buffer the device never
    # serves is a stall as before
    sc = _console([{"op": "req.raw", "queue": 1, "data": "61"}], device_scripted=True,
                  expect={"violations": ["liveness.stall"]})
    with Sim.from_json(sc) as sim:
        assert sim.run(), (sim.failures, sim.violations)
        assert [v["queue"] for v in sim.violations] == [1]


def test_input_beyond_the_fifo_is_dropped_not_owed():
    sc = _console([{"op": "host.input", "data": {"fill": 65, "len": 10000}},
                   {"op": "req.raw", "queue": 0, "len": 8192, "expect_used_len": 4096},
                   {"op": "wait"},
                   {"op": "req.raw", "queue": 0, "len": 8}, {"op": "wait"}],
                  expect={"violations": [], "completed": 1})
    with Sim.from_json(sc) as sim:
        assert sim.run(), sim.failures
        assert not sim.counters["stalled"]


@pytest.mark.parametrize("step,msg", [
    ({"op": "host.input", "port": 1, "data": "61"}, "no port 1"),
    ({"op": "expect.output", "port": 7, "data": ""}, "no port 7"),
    ({"op": "expect.output", "data": "61"}, "output 0 byte(s), expected 1"),
    ({"op": "host.event", "port": 0, "type": 2}, "port 0 is not present"),
    ({"op": "host.event", "port": 0, "type": 9}, "unknown host event 9"),
    ({"op": "host.event", "port": 3, "type": 1}, "no port 3"),
])
def test_bad_host_steps_fail_the_step(step, msg):
    with Sim.from_json(_console([step])) as sim:
        assert not sim.run()
        assert any(msg in f for f in sim.failures), sim.failures


def test_console_suite_passes_and_catches_device_mutants(tmp_path):
    r = subprocess.run([CLI, "conform", "--backend", "builtin:console", "--device", "console", "--suite",
                        "console", "--jobs", "2", "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "result: PASS" in r.stdout, r.stdout[-2000:]
    for mutant in ("dev.console-add-twice", "dev.console-remove-unknown", "dev.console-emerg-refused-early"):
        r = subprocess.run([CLI, "conform", "--backend", "builtin:console?mutant=" + mutant, "--device", "console",
                            "--suite", "console", "--matrix", "native", "--seeds", "1", "--quiet"],
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 1 and "result: FAIL" in r.stdout, (mutant, r.stdout[-1500:])
