"""The fuzzers' input decoding and `virtio-sim fuzz-repro` (fuzz/README.md).

  - the decoders are total and deterministic: any byte string (seeded random
    ones, and hypothesis-generated ones) decodes, the same way twice, to a
    scenario that loads, and the targets' oracles hold on it;
  - what fuzz-repro prints replays with `virtio-sim run`: loads, and runs to the
    same trace hash twice;
  - every committed corpus file decodes and passes its oracles;
  - fuzz/make_corpus.py's encoder is the decoder's inverse on the scenarios'
    raw ops;
  - fuzz-repro's usage errors exit 2.

The CLI is found through VSIM_CLI (set by the Makefile's test-py target), else
build/virtio-sim in the repository. Every check is one short CLI process per
input: a few seconds in all. Under the sanitizer pass (test-asan preloads
libasan, and every CLI process then costs ~10x more) the corpus, random and
hypothesis checks run on a fixed sample instead of everything.
"""
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim")
CORPUS = REPO / "fuzz" / "corpus"
TARGETS = ["fuzz_split_device", "fuzz_blk_request", "fuzz_scenario"]
RING_TARGETS = ["fuzz_split_device", "fuzz_blk_request"]  # the ones that emit a scenario of their own

# the sanitizer pass: sample instead of everything (see the docstring)
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
SAMPLE = 8 if SANITIZED else 1  # every SAMPLE-th corpus file / scenario
RANDOM_INPUTS = 6 if SANITIZED else 30
EXAMPLES = 6 if SANITIZED else 25

# Engine findings the fuzzers made, not fixed yet: a fuzz-repro failure whose
# message holds one of these is an expected failure (xfail) naming the finding,
# not a red test. Remove an entry when the engine is fixed.
# Engine findings the fuzzers made that are not fixed yet: a substring of the
# sanitizer report -> what it is. Empty: every finding so far is fixed (the
# first, memcpy(out, NULL, 0) for an empty data spec, is a regression scenario).
KNOWN_FINDINGS = {}

sys.path.insert(0, str(REPO / "fuzz"))
import make_corpus  # noqa: E402  (the encoder)


def repro(tmp_path, target, data, name="input.bin"):
    """fuzz-repro on `data`: (exit status, stdout bytes, stderr text)."""
    f = tmp_path / name
    f.write_bytes(data)
    p = subprocess.run([CLI, "fuzz-repro", target, str(f)], capture_output=True)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def decode_ok(tmp_path, target, data):
    """The scenario text `data` decodes to; fails the test unless the oracles hold."""
    rc, out, err = repro(tmp_path, target, data)
    for where, what in KNOWN_FINDINGS.items():
        if rc != 0 and where in err:
            pytest.xfail("known engine finding: " + what)
    assert rc == 0, "fuzz-repro %s on %s (%d bytes) exited %d:\n%s" % (target, data.hex(), len(data), rc, err)
    return out


def run_json(path):
    p = subprocess.run([CLI, "run", str(path), "--json"], capture_output=True, text=True)
    assert p.returncode in (0, 1), "virtio-sim run %s exited %d:\n%s" % (path, p.returncode, p.stderr)
    return json.loads(p.stdout)


def random_inputs(seed, n):
    rng = random.Random(seed)
    sizes = [0, 1, 2, 5, 6, 7, 16, 40, 100, 300, 900]
    return [bytes(rng.randrange(256) for _ in range(rng.choice(sizes))) for _ in range(n)]


@pytest.mark.parametrize("target", RING_TARGETS)
def test_decoder_total_and_deterministic(tmp_path, target):
    for data in random_inputs(20240 + len(target), RANDOM_INPUTS):
        first = decode_ok(tmp_path, target, data)
        assert decode_ok(tmp_path, target, data) == first, "two decodings differ"
        sc = json.loads(first)
        assert sc["name"] == target and sc["device"] == "blk"
        assert isinstance(sc["steps"], list)


def test_decoder_prefixes_are_inputs(tmp_path):
    """Past the end every byte reads as 0: any prefix of an input decodes."""
    data = random_inputs(99, 1)[0] or bytes(range(64))
    for k in (0, 1, 3, 5, 6, len(data) // 2, len(data)):
        decode_ok(tmp_path, "fuzz_split_device", data[:k])


def test_scenario_target_passes_input_through(tmp_path):
    text = (REPO / "scenarios" / "examples" / "blk-roundtrip.json").read_bytes()
    assert decode_ok(tmp_path, "fuzz_scenario", text) == text
    # garbage: the loader says why, with the file name first; the oracle holds
    assert decode_ok(tmp_path, "fuzz_scenario", b"{\"name\": 1,") == b"{\"name\": 1,"


@pytest.mark.parametrize("target", RING_TARGETS)
def test_repro_replays_with_the_same_trace_hash(tmp_path, target):
    inputs = random_inputs(7, 4) + [p.read_bytes() for p in sorted((CORPUS / target).iterdir())[:4]]
    for i, data in enumerate(inputs):
        out = tmp_path / ("s%d.json" % i)
        out.write_bytes(decode_ok(tmp_path, target, data))
        a, b = run_json(out), run_json(out)
        assert (a["trace_hash"], a["steps"], a["events"]) == (b["trace_hash"], b["steps"], b["events"])
        sc = json.loads(out.read_bytes())
        assert "expect" not in sc
        if target == "fuzz_split_device":
            assert a["steps"] < sc["max_steps"]


def test_repro_output_option(tmp_path):
    data = bytes([3, 0x27, 0, 1, 0, 8, 0, 0, 7])
    f = tmp_path / "in.bin"
    f.write_bytes(data)
    o = tmp_path / "out.json"
    p = subprocess.run([CLI, "fuzz-repro", "fuzz_split_device", str(f), "-o", str(o)],
                       capture_output=True)
    assert p.returncode == 0 and p.stdout == b""
    assert o.read_bytes() == decode_ok(tmp_path, "fuzz_split_device", data)


@pytest.mark.parametrize("target", TARGETS)
def test_every_corpus_file_decodes(tmp_path, target):
    files = sorted((CORPUS / target).iterdir())
    assert files, "fuzz/corpus/%s is empty (run fuzz/make_corpus.py)" % target
    for f in files[::SAMPLE]:
        out = decode_ok(tmp_path, target, f.read_bytes())
        if target in RING_TARGETS:
            json.loads(out)


def test_corpus_and_dictionaries_stay_small():
    total = sum(p.stat().st_size for p in (REPO / "fuzz").glob("corpus/*/*"))
    total += sum(p.stat().st_size for p in (REPO / "fuzz").glob("dict/*.dict"))
    assert total < 200 * 1024, "seed corpora and dictionaries hold %d bytes" % total
    for t in TARGETS:
        assert (REPO / "fuzz" / "dict" / (t + ".dict")).is_file()


def test_encoder_is_the_decoders_inverse(tmp_path):
    """Encoding a scenario and decoding it gives back its raw ops exactly."""
    checked = 0
    for f in sorted((REPO / "scenarios").rglob("*.json"))[::SAMPLE]:
        sc = json.loads(f.read_text())
        try:
            data, expect = make_corpus.encode_split(sc)
        except make_corpus.Unsupported:
            continue
        if not any(e["op"].startswith("raw.") for e in expect):
            continue
        got = json.loads(decode_ok(tmp_path, "fuzz_split_device", data))
        assert json.loads(json.dumps(got["queue_size"])) == int(sc.get("queue_size", 8))
        assert [s["op"] for s in got["steps"]] == [e["op"] for e in expect], f
        for g, e in zip(got["steps"], expect):
            assert all(g.get(k) == v for k, v in e.items()), "%s: decoded %s, encoded %s" % (f, g, e)
        checked += 1
    assert checked >= 10 // SAMPLE


def test_blk_chain_scenario_is_equivalent(tmp_path):
    """The blk target's scenario hands the same chain to the device: a chain
    without room for a header is refused there too (DEVICE_NEEDS_RESET)."""
    ok = CORPUS / "fuzz_blk_request" / "in-512"
    short = CORPUS / "fuzz_blk_request" / "header-too-short"
    for f, needs_reset in ((ok, False), (short, True)):
        out = tmp_path / (f.name + ".json")
        out.write_bytes(decode_ok(tmp_path, "fuzz_blk_request", f.read_bytes()))
        r = run_json(out)
        assert bool(r["device_status"] & 0x40) == needs_reset, r
        assert r["violations"] == [], r["violations"]


@pytest.mark.parametrize("args", [[], ["fuzz_split_device"], ["no_such_target", "x"],
                                  ["fuzz_split_device", "/nonexistent/input"],
                                  ["fuzz_split_device", "a", "b"], ["fuzz_split_device", "a", "--bogus"]])
def test_repro_usage_errors(args):
    p = subprocess.run([CLI, "fuzz-repro"] + args, capture_output=True, text=True)
    assert p.returncode == 2 and p.stderr


@pytest.mark.parametrize("target", TARGETS)
def test_any_bytes_property(tmp_path, target):
    @settings(max_examples=EXAMPLES, database=None, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
    @given(st.binary(max_size=600))
    def prop(data):
        out = decode_ok(tmp_path, target, data)
        if target in RING_TARGETS:
            sc = json.loads(out)
            assert sc["steps"] is not None
        else:
            assert out == data

    prop()
