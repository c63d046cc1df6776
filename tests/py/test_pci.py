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
  (d) the pci checks are in the catalog with their labels and mutants.
"""
import json
import os
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
                   and json.loads(p.read_text()).get("device") == "blk")


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


def test_pci_checks_in_catalog():
    cat = {c["id"]: c for c in json.loads(subprocess.run([CLI, "checks", "--json"], capture_output=True,
                                                             text=True, check=True).stdout)}
    pci = {k: v for k, v in cat.items() if k.startswith("pci.")}
    assert len(pci) >= 8
    for k, c in pci.items():
        assert "Virtio Over PCI Bus" in c["label"], k
        assert c["applies"]["transport"] == "pci", k
