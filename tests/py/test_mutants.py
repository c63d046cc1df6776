"""Every mutant of the built-in models is caught by its own check, and only there.

scenarios/mutants/NAME.json is the scenario for mutant NAME (include/virtiosim/mutants.h).
The vhost-user back-end's mutants (vu.*) are planted by the scripted back-end
the scenario names ("backend": "vhost-user-script:vu-backend.vu-script", beside
it): the same two runs, against the real vhost-user front-end.
For each one:
  (a) the catalog printed by `virtio-sim mutants` and the files agree, name for name;
  (b) the scenario, run through the binding, fires the mutant's own check and holds
      all its expectations (so any other check it fires is listed, and justified in
      its "description");
  (c) the same scenario with "mutants" removed stays quiet on the correct models:
      no violation at all, except the driver violations a scenario commits on
      purpose to exercise the rule (QUIET below), and no failure.

The CLI is found through VSIM_CLI (set by the Makefile's test-py target), else
build/virtio-sim in the repository.
"""
import copy
import json
import os
import subprocess
from pathlib import Path

import pytest

import virtiosim
from virtiosim import Sim

REPO = Path(__file__).resolve().parents[2]
MUTANT_DIR = REPO / "scenarios" / "mutants"
CLI = os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim")

# Violations a mutant scenario commits itself, on purpose, whatever the model:
# they fire on the correct model too.
QUIET = {
    # the only way to hand the device a buffer before DRIVER_OK is to notify it,
    # which is the driver's own violation
    "dev.early-use": {"notify.drv-before-driver-ok"},
    # the buffer over the descriptor table is the driver's own violation; the
    # correct model refuses it
    "dev.trust-buffers": {"split.desc-write-overlap"},
    # the loop the mutant follows is the driver's mistake, which the correct
    # device reports (and then gives up on the queue)
    "dev.no-loop-check": {"split.desc-chain-too-long"},
}


def _catalog():
    """{mutant name: check id} from `virtio-sim mutants` ("name -> check  what")."""
    out = subprocess.run([CLI, "mutants"], capture_output=True, text=True, check=True).stdout
    cat = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and parts[1] == "->":
            cat[parts[0]] = parts[2]
    return cat


@pytest.fixture(scope="module")
def catalog():
    cat = _catalog()
    assert cat, "`%s mutants` printed no mutant" % CLI
    return cat


FILES = sorted(MUTANT_DIR.glob("*.json"))


def _name(path):
    return path.name[: -len(".json")]


def _report(sim):
    return "failures=%r violations=%r counters=%r repro=%s" % (
        sim.failures, [(v["check"], v["detail"]) for v in sim.violations], sim.counters, sim.repro)


def test_every_mutant_has_a_scenario(catalog):
    names = {_name(p) for p in FILES}
    missing = sorted(set(catalog) - names)
    extra = sorted(names - set(catalog))
    assert not missing, "mutants without scenarios/mutants/NAME.json: %s" % missing
    assert not extra, "scenarios/mutants/ files that name no mutant: %s" % extra


def test_catalog_checks_exist(catalog):
    for name, check in catalog.items():
        assert virtiosim.check_lookup(check) is not None, (name, check)


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_mutant_fires_its_check(path, catalog):
    name = _name(path)
    sc = json.loads(path.read_text())
    assert sc.get("mutants") == [name], "%s must select exactly its own mutant" % path.name
    expected = set(sc.get("expect", {}).get("violations", []))
    check = catalog[name]
    assert check in expected, "%s does not expect its mutant's check %s" % (path.name, check)
    if expected - {check}:
        assert sc.get("description"), "%s expects %s besides %s: justify it in the description" % (
            path.name, sorted(expected - {check}), check)
    with Sim.load(path) as sim:
        ok = sim.run()
        fired = {v["check"] for v in sim.violations}
        assert check in fired, _report(sim)
        assert ok, _report(sim)
        assert fired == expected, _report(sim)


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_correct_model_stays_quiet(path):
    name = _name(path)
    sc = json.loads(path.read_text())
    quiet = copy.deepcopy(sc)
    del quiet["mutants"]
    want = QUIET.get(name, set())
    # only the violation set is kept: status and counts legitimately differ
    # without the mutant (e.g. a probe that no longer fails)
    quiet["expect"] = {"violations": sorted(want)}
    quiet["name"] = sc["name"] + "-quiet"
    if "backend" in quiet:
        # the vu.* proofs name their scripted back-end relative to the file;
        # a scenario loaded from memory resolves against its name's directory
        kind, _, rel = quiet["backend"].partition(":")
        quiet["backend"] = "%s:%s" % (kind, path.parent / rel)
    with Sim.from_json(quiet, name="%s (no mutant)" % path) as sim:
        ok = sim.run()
        fired = {v["check"] for v in sim.violations}
        assert fired == want, _report(sim)
        assert ok, _report(sim)
        assert not sim.counters["stalled"], _report(sim)
