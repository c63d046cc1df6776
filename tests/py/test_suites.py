"""Scenario suites under other schedules, and index wrap-around.

1. Every scenario under scenarios/ is written for its own policy (scripted unless it
   says otherwise). Its expectations are about the protocol, not the interleaving,
   so they must still hold when the scheduler interleaves driver and device
   differently: round-robin, and random with seeds 1..3. A failure here is an
   ordering bug in a model or a checker (or a scenario that depends on the
   order without saying so). Scenarios whose expectations do depend on the order
   say "policy-dependent" in their "description" and are skipped.

2. A split ring's indices are 16-bit and wrap after 65536 entries; used_event /
   avail_event arithmetic across the wrap is where notification bugs hide. A
   queue of 8 has to carry more than 65536 requests for that, which is too
   long for a scenario file: the scenario is built here in memory.
"""
import json
from pathlib import Path

import pytest

from virtiosim import Sim

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
FILES = sorted(SCENARIOS.rglob("*.json"))
# device types with a built-in model (fs scenarios need a daemon)
BUILTIN_DEVICES = {"blk", "console", "input", "net", "gpu"}
SCHEDULES = [("round-robin", None), ("random", 1), ("random", 2), ("random", 3)]


def _id(path):
    return path.relative_to(SCENARIOS).as_posix()


def _report(sim):
    return "failures=%r violations=%r counters=%r\nreproduce: %s" % (
        sim.failures, [(v["check"], v["detail"]) for v in sim.violations][:20], sim.counters, sim.repro)


@pytest.mark.parametrize("policy,seed", SCHEDULES, ids=["%s-%s" % (p, s or "file") for p, s in SCHEDULES])
@pytest.mark.parametrize("path", FILES, ids=_id)
def test_scenario_under_other_schedules(path, policy, seed):
    try:
        desc = json.loads(path.read_text()).get("description", "")
    except ValueError:
        pytest.skip("not valid JSON (the scenario collector reports it)")
    if "policy-dependent" in desc:
        pytest.skip("policy-dependent scenario")
    if json.loads(path.read_text()).get("device") not in BUILTIN_DEVICES:
        pytest.skip("no built-in model for this device type (test_virtiofsd.py runs the fs scenarios)")
    kw = {"policy": policy}
    if seed is not None:
        kw["seed"] = seed
    with Sim.load(path, **kw) as sim:
        assert sim.run(), _report(sim)


# ---- 16-bit index wrap-around ----

WRAP_REQUESTS = 65536 + 300
NO_EVENT_IDX = ["VERSION_1", "INDIRECT_DESC", "FLUSH"]


def wrap_scenario(policy, seed=1, accept=None, poll=False, queue_size=8, batch=1):
    steps = [{"op": "blk.write", "sector": 0, "data": {"pattern": 3, "len": 512}}]
    steps += [{"op": "blk.flush", "expect_status": "OK"}] * (WRAP_REQUESTS - 2)
    steps += [{"op": "blk.read", "sector": 0, "expect_data": {"pattern": 3, "len": 512}}, {"op": "wait"}]
    sc = {
        "name": "py-index-wrap",
        "device": "blk",
        "queue_size": queue_size,
        "policy": policy,
        "seed": seed,
        "device_batch": batch,
        "driver_poll": poll,
        "max_steps": 50 * WRAP_REQUESTS,
        "steps": steps,
        "expect": {"violations": [], "completed": WRAP_REQUESTS,
                   "status_has": ["DRIVER_OK"], "status_lacks": ["NEEDS_RESET", "FAILED"]},
    }
    if accept is not None:
        sc["accept_features"] = accept
    return sc


@pytest.mark.parametrize("kw,irqs", [
    (dict(policy="scripted"), None),
    (dict(policy="round-robin", accept=NO_EVENT_IDX), None),
    (dict(policy="random", seed=5, batch=3), None),
    # A polling driver with EVENT_IDX parks used_event at last_used - 1 = 0xffff
    # (as far away as 16 bits allow) and does not move it while polling: used.idx
    # crosses it exactly once in 65536 completions, and that interrupt is due.
    (dict(policy="random", seed=6, poll=True, queue_size=4), 1),
    # with VRING_AVAIL_F_NO_INTERRUPT instead there is never one
    (dict(policy="round-robin", poll=True, accept=NO_EVENT_IDX), 0),
], ids=["scripted-event-idx", "round-robin-flags", "random-batch3", "random-poll-event-idx-q4",
        "round-robin-poll-flags"])
def test_index_wrap_16bit(kw, irqs):
    assert WRAP_REQUESTS > 1 << 16
    with Sim.from_json(wrap_scenario(**kw), name="index-wrap") as sim:
        assert sim.run(), _report(sim)
        c = sim.counters
        assert c["completed"] == WRAP_REQUESTS
        assert 1 <= c["kicks"] <= WRAP_REQUESTS
        assert c["interrupts"] <= WRAP_REQUESTS
        if irqs is not None:
            assert c["interrupts"] == irqs, _report(sim)
