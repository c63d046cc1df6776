"""The check catalog against the spec index and the scenarios.

Every check cites a normative label that exists in the spec's index
(conformance/normative-index.json, the 133 in-scope sections of VIRTIO 1.4),
says MUST or SHOULD, and has at least one scenario under scenarios/ in which
it fires on purpose (a mutant or malformed input), so no check is one that
cannot fail.
"""
import glob
import json
import os

import virtiosim

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def spec_labels():
    with open(os.path.join(ROOT, "conformance", "normative-index.json")) as f:
        return {e["label"]: e for e in json.load(f)}


def scenario_expected_checks():
    fired = {}
    for path in glob.glob(os.path.join(ROOT, "scenarios", "**", "*.json"), recursive=True):
        with open(path) as f:
            doc = json.load(f)
        for cid in doc.get("expect", {}).get("violations", []):
            fired.setdefault(cid, []).append(os.path.relpath(path, ROOT))
    return fired


def test_every_label_is_a_normative_section():
    labels = spec_labels()
    for c in virtiosim.checks():
        assert c["label"] in labels, f"{c['id']} cites unknown label {c['label']!r}"
        kind = labels[c["label"]]["kind"]
        assert c["label"].startswith(kind + "normative:")


def test_severity_matches_the_section():
    """A MUST check must cite a section that has MUST sentences (same for SHOULD)."""
    labels = spec_labels()
    for c in virtiosim.checks():
        entry = labels[c["label"]]
        key = "must" if c["severity"] == "MUST" else "should"
        assert entry[key] > 0, f"{c['id']} is {c['severity']} but {c['label']} has no {key} sentence"


def test_every_check_fails_somewhere():
    fired = scenario_expected_checks()
    missing = [c["id"] for c in virtiosim.checks() if c["id"] not in fired]
    assert not missing, f"checks no scenario makes fire: {missing}"


def test_ids_are_unique_and_well_formed():
    ids = [c["id"] for c in virtiosim.checks()]
    assert len(ids) == len(set(ids))
    for cid in ids:
        area, _, name = cid.partition(".")
        assert area and name and cid == cid.lower(), cid


def test_coverage_command_counts_cited_sections():
    """`virtio-sim coverage --json` marks exactly the sections some check cites."""
    import subprocess
    cli = os.environ.get("VSIM_CLI", os.path.join(ROOT, "build", "virtio-sim"))
    out = subprocess.run([cli, "coverage", "--json"], capture_output=True, text=True, check=True).stdout
    doc = json.loads(out)
    cited = {c["label"] for c in virtiosim.checks()}
    covered = {s["label"] for s in doc["sections"] if s["checks"] > 0}
    assert covered == cited
    assert doc["total"] == len(spec_labels())
    assert doc["covered"] == len(cited)
    for s in doc["sections"]:
        want = sum(1 for c in virtiosim.checks() if c["label"] == s["label"])
        assert s["checks"] == want, s["label"]
