"""virtio-pci (modern): the transport as a whole.

  (a) `conform --suite pci` passes on the built-in blk model, over the feature
      matrix, and reports the pci scenarios;
  (b) every blk, negotiation, reset and ring scenario gives the same
      violations (an MMIO check by its PCI counterpart), the same completions
      and the same device status over virtio-pci (`run --transport pci`) as
      over virtio-mmio, on the rings it runs on: the driver and device cores
      do not know which layout carries them (scenarios that poke MMIO
      registers by offset are MMIO's own);
  (c) a run over pci records its transport in the trace and replays from it;
  (d) the pci checks are in the catalog with their labels and mutants;
  (e) transport is a dimension of `conform`: a scenario written for neither
      runs over both (virtio-pci in its own features), the report names the
      transport of each test (JSON, JUnit property, HTML column), and
      `--transport` pins one;
  (f) the interrupt events of an MSI-X run carry their vectors.
"""
import json
import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI", str(REPO / "build" / "virtio-sim"))
# transport-specific scenarios (their registers are MMIO's) and the ones that
# need a daemon or select mutants are not carried over
SKIP_DIRS = {"mmio", "vhost-user", "mutants", "pci"}
# nor are the ones that write MMIO registers by offset (mmio.read / mmio.write)
# fs scenarios have no built-in model (test_virtiofsd.py runs them against virtiofsd)
SCENARIOS = sorted(p for p in (REPO / "scenarios").rglob("*.json")
                   if p.parent.name not in SKIP_DIRS and '"mmio.' not in p.read_text()
                   and json.loads(p.read_text()).get("device") in ({"blk", "console", "input", "net", "gpu"}))


def run(*args, timeout=120):
    r = subprocess.run([CLI, "run", *map(str, args)], capture_output=True, text=True, timeout=timeout)
    assert r.returncode in (0, 1), r.stderr
    return json.loads(r.stdout)


# the same rule in each layout's words
EQUIV = {
    "mmio.drv-notify-queue": "pci.drv-notify",
    "mmio.drv-queue-size": "pci.drv-queue-size",
    "mmio.drv-queue-while-ready": "pci.drv-queue-while-enabled",
    "mmio.dev-queue-reset-done": "pci.dev-queue-reset-done",
    "mmio.dev-reset-clears": "pci.dev-reset-clears",
}


def essence(d):
    return (sorted({EQUIV.get(v["check"], v["check"]) for v in d["violations"]}), d["completed"],
            d["device_status"])


def test_conform_pci_suite(tmp_path):
    rep = tmp_path / "rep"
    r = subprocess.run([CLI, "conform", "--backend", "builtin:blk", "--device", "blk", "--suite", "pci",
                        "--seeds", "1", "--quiet", "--report", str(rep)],
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:]
    tests = json.loads((rep / "report.json").read_text())["tests"]
    names = {t["id"].split("[")[0] for t in tests}
    for s in ("caps-walk-roundtrip", "common-cfg-readback", "queue-setup-rules", "notify-rules",
              "isr-read-clears", "reset-reinit", "access-widths"):
        assert any(s in n for n in names), (s, sorted(names))


# A sweep of the whole corpus checks logic, not memory safety: the ASan pass
# runs every scenario through the instrumented binary already (the
# Makefile's loop), so the sweep runs in the plain pass only.
@pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""), reason="corpus sweep: plain pass only")
@pytest.mark.parametrize("ring", ["split", "packed"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: str(p.relative_to(REPO / "scenarios")))
def test_scenario_same_over_pci(path, ring):
    named = json.loads(path.read_text()).get("ring")
    if named and named != ring:
        pytest.skip("the scenario is written for the %s ring" % named)
    a = run(path, "--ring", ring, "--json")
    b = run(path, "--ring", ring, "--json", "--transport", "pci")
    assert essence(a) == essence(b), (a["violations"], b["violations"], b["failures"])
    if a["result"] != b["result"]:
        # a scenario that expects an MMIO check by name fails over pci only for that name
        assert any(v["check"] in EQUIV for v in a["violations"]), b["failures"]
        assert all("mmio." in f or "pci." in f for f in b["failures"]), b["failures"]


def test_pci_run_replays(tmp_path):
    t = tmp_path / "t.jsonl"
    d = run(REPO / "scenarios" / "blk" / "flush-ok.json", "--transport", "pci", "--trace", t, "--json")
    assert d["result"] == "pass" and "--transport pci" in d["repro"]
    r = subprocess.run([CLI, "replay", str(t)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_conform_transport_dimension(tmp_path):
    both, mmio = tmp_path / "both", tmp_path / "mmio"
    args = ["conform", "--backend", "builtin:blk", "--device", "blk", "--suite", "blk", "--seeds", "1", "--quiet"]
    r = subprocess.run([CLI, *args, "--report", str(both)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:]
    tests = json.loads((both / "report.json").read_text())["tests"]
    by = {}
    for t in tests:
        by.setdefault(t["transport"], set()).add(t["id"])
    assert set(by) == {"mmio", "pci"}
    # virtio-pci runs each ring as the scenario enables it; mmio ids are unchanged
    assert all(",pci]" in i for i in by["pci"]) and not any(",pci" in i for i in by["mmio"])
    def stems(ids):  # scenario and ring
        return {re.match(r"[^\[]*\[[a-z]+", i).group() for i in ids}
    assert stems(by["pci"]) <= stems(by["mmio"])
    junit = (both / "junit.xml").read_text()
    assert '<property name="transport" value="pci"/>' in junit
    assert "<th>transport</th>" in (both / "index.html").read_text()
    r = subprocess.run([CLI, *args, "--transport", "mmio", "--report", str(mmio)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stdout[-2000:]
    only = json.loads((mmio / "report.json").read_text())["tests"]
    assert {t["transport"] for t in only} == {"mmio"} and {t["id"] for t in only} == by["mmio"]


def test_msix_irq_events_carry_vectors(tmp_path):
    t = tmp_path / "t.jsonl"
    d = run(REPO / "scenarios" / "blk" / "flush-ok.json", "--transport", "pci", "--trace", t, "--json")
    assert d["result"] == "pass"
    irqs = [json.loads(l) for l in t.read_text().splitlines() if '"irq"' in l]
    irqs = [e for e in irqs if e.get("event") == "irq" or e.get("ev") == "irq" or e.get("kind") == "irq"]
    assert irqs, "no irq event in the trace"
    # queue 0's vector is entry 1 (entry 0 is the config vector), c = 1: MSI-X
    assert all(e.get("b") == 1 and e.get("c") == 1 for e in irqs), irqs[:3]


def test_pci_checks_in_catalog():
    cat = {c["id"]: c for c in json.loads(subprocess.run([CLI, "checks", "--json"], capture_output=True,
                                                             text=True, check=True).stdout)}
    pci = {k: v for k, v in cat.items() if k.startswith("pci.")}
    assert len(pci) >= 8
    for k, c in pci.items():
        assert "Virtio Over PCI Bus" in c["label"], k
        assert c["applies"]["transport"] == "pci", k
