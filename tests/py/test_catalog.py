"""The check catalog against the spec index and the scenarios.

Every check cites a normative label that exists in the spec's index
(conformance/normative-index.json, the 133 in-scope sections of VIRTIO 1.4),
says MUST or SHOULD, and has at least one scenario under scenarios/ in which
it fires on purpose (a mutant or malformed input), so no check is one that
cannot fail.

The vhost-user protocol is not part of the VIRTIO specification and has no
normative index: its checks (area "vhost-user") cite "vhost-user:<section>",
one of the section titles of QEMU's docs/interop/vhost-user.rst listed in
VHOST_USER_SECTIONS below, and are proven by tests/c/test_vhost_user.c (a
scripted back-end that breaks each rule), since no scenario can make a
built-in model send a vhost-user message.
"""
import glob
import json
import os
from pathlib import Path

import virtiosim

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


# Sections of docs/interop/vhost-user.rst a vhost-user check may cite.
VHOST_USER_SECTIONS = {
    "Message Specification / Header",
    "Message Specification / Payload",
    "Communication",
    "Communication / Ring states",
    "VHOST_USER_PROTOCOL_F_REPLY_ACK",
    "Front-end message types / VHOST_USER_GET_CONFIG",
}


def is_vhost_user(c):
    return c["id"].startswith("vhost-user.")


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
        if is_vhost_user(c):
            kind, _, section = c["label"].partition(":")
            assert kind == "vhost-user" and section in VHOST_USER_SECTIONS, c
            continue
        assert c["label"] in labels, f"{c['id']} cites unknown label {c['label']!r}"
        kind = labels[c["label"]]["kind"]
        assert c["label"].startswith(kind + "normative:")


def test_severity_matches_the_section():
    """A MUST check must cite a section that has MUST sentences (same for SHOULD)."""
    labels = spec_labels()
    for c in virtiosim.checks():
        if is_vhost_user(c):
            continue  # no sentence counts outside the VIRTIO index
        entry = labels[c["label"]]
        key = "must" if c["severity"] == "MUST" else "should"
        assert entry[key] > 0, f"{c['id']} is {c['severity']} but {c['label']} has no {key} sentence"


def test_every_check_fails_somewhere():
    fired = scenario_expected_checks()
    missing = [c["id"] for c in virtiosim.checks() if c["id"] not in fired and not is_vhost_user(c)]
    assert not missing, f"checks no scenario makes fire: {missing}"


def test_every_vhost_user_check_is_proven_by_the_c_tests():
    """Each vhost-user check is made to fire by a scripted back-end in
    tests/c/test_vhost_user.c (its id is named where it is asserted)."""
    text = (Path(ROOT) / "tests" / "c" / "test_vhost_user.c").read_text()
    vu = [c["id"] for c in virtiosim.checks() if is_vhost_user(c)]
    assert vu
    missing = [cid for cid in vu if cid not in text]
    assert not missing, f"vhost-user checks no C test makes fire: {missing}"


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
    cited = {c["label"] for c in virtiosim.checks() if not is_vhost_user(c)}
    covered = {s["label"] for s in doc["sections"] if s["checks"] > 0}
    assert covered == cited
    assert doc["total"] == len(spec_labels())
    assert doc["covered"] == len(cited)
    for s in doc["sections"]:
        want = sum(1 for c in virtiosim.checks() if c["label"] == s["label"])
        assert s["checks"] == want, s["label"]
