"""Reproducing bug traces: `virtio-sim replay`, `show` (text and SVG), the
timeline export and `minimize` (sim/replay.c, reports/show.c,
reports/timeline.c, sim/minimize.c, sim/cmd_trace.c).

  - every scenario in scenarios/ is recorded (under a policy and ring that vary
    from one scenario to the next) and replays identically;
  - the recorded scheduler decisions are what make a replay exact: a trace
    whose header names another seed still replays under the random policy;
  - a perturbed trace reports its first divergence (file:line, step, expected
    and got events) and exits 1; a malformed one exits 2 with file:line;
  - show prints the rings' state at a step; its SVG is well-formed, names the
    indices, and (when Debian's chromium is installed) renders to a PNG that is
    not blank;
  - the timeline is Chrome trace-event JSON with tracks, spans and instants;
  - minimize shrinks a planted bug's 500-step scenario to a handful of steps
    that still fire the same check and pass as a regression scenario, and does
    it deterministically.

The CLI is found through VSIM_CLI (set by the Makefile's test-py target), else
build/virtio-sim in the repository.
"""
import json
import os
import re
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
CLI = os.environ.get("VSIM_CLI") or str(REPO / "build" / "virtio-sim")
CHROMIUM = "/usr/bin/chromium"

# the sanitizer pass: every CLI process costs ~10x more there, so sample
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
SAMPLE = 8 if SANITIZED else 1


def cli(*args, check_rc=None):
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=300)
    if check_rc is not None:
        assert r.returncode == check_rc, (args, r.returncode, r.stdout, r.stderr)
    return r


def _dispatches():
    if not Path(CLI).exists():
        return False
    r = subprocess.run([CLI, "replay"], capture_output=True, text=True)
    return "unknown command" not in r.stderr


pytestmark = pytest.mark.skipif(
    not _dispatches(), reason="this virtio-sim does not dispatch replay/show/minimize yet "
    "(sim/cli.c's main must call vsim_cli_trace_command)")


def record(tmp_path, scenario, *opts, name="t.jsonl"):
    trace = tmp_path / name
    r = cli("run", scenario, "--trace", trace, "--quiet", *opts)
    assert r.returncode in (0, 1), (scenario, r.stderr)
    assert trace.exists()
    return trace


def lines_of(trace):
    return trace.read_text().splitlines()


# ---- replay of every scenario ----

# fs scenarios have no built-in model (test_virtiofsd.py runs them against virtiofsd)
ALL = sorted(p.relative_to(SCENARIOS).as_posix() for p in SCENARIOS.rglob("*.json")
             if json.loads(p.read_text()).get("device") in ({"blk", "console", "input", "net", "gpu"}))
POLICIES = ["scripted", "round-robin", "random"]


@pytest.mark.parametrize("rel", ALL[::SAMPLE])
def test_replay_matches(rel, tmp_path):
    """Record under a policy and ring chosen by the scenario's position (so
    that the whole set covers all of them), replay, expect identity."""
    i = ALL.index(rel)
    opts = ["--policy", POLICIES[i % 3], "--seed", str(3 + i), "--ring", "packed" if i % 2 else "split"]
    trace = record(tmp_path, SCENARIOS / rel, *opts)
    footer = json.loads(lines_of(trace)[-1])["footer"]
    r = cli("replay", trace)
    assert r.returncode == 0, (rel, opts, r.stdout, r.stderr)
    assert r.stdout.splitlines()[0] == "replayed %d events, identical, hash %s" % (
        footer["events"], footer["hash"]), r.stdout


def test_header_carries_the_run(tmp_path):
    sc = SCENARIOS / "examples" / "blk-roundtrip.json"
    trace = record(tmp_path, sc, "--seed", "9", "--policy", "random")
    lines = lines_of(trace)
    h = json.loads(lines[0])["header"]
    assert h["scenario_text"] == sc.read_text()
    assert (h["seed"], h["policy"], h["ring"], h["format"], h["checkers"]) == (9, "random", "split", 2, True)
    assert h["options"] == {"seed": 9, "policy": "random"}
    assert h["max_steps"] == 100000
    f = json.loads(lines[-1])["footer"]
    # the decisions: one per step, run-length encoded
    total = 0
    for tok in f["picks"].split():
        m = re.fullmatch(r"(D|T|Q\d+)(?:\*(\d+))?", tok)
        assert m, tok
        total += int(m.group(2) or 1)
    assert total == f["steps"]
    events = [json.loads(x) for x in lines[1:-1]]
    assert len(events) == f["events"]


def test_decisions_replay_under_another_seed(tmp_path):
    """Under the random policy the seed decides the interleaving; the recorded
    decisions make the replay exact even when the header names another seed."""
    trace = record(tmp_path, SCENARIOS / "blk" / "multiqueue.json", "--policy", "random", "--seed", "5")
    lines = lines_of(trace)
    h = json.loads(lines[0])
    h["header"]["seed"] = 6
    lines[0] = json.dumps(h, separators=(",", ":"))
    other = tmp_path / "other-seed.jsonl"
    other.write_text("\n".join(lines) + "\n")
    assert cli("replay", other).returncode == 0
    # without the decisions the new seed interleaves differently
    f = json.loads(lines[-1])
    del f["footer"]["picks"]
    lines[-1] = json.dumps(f, separators=(",", ":"))
    # (the first event of each step still names its actor: derived picks)
    derived = tmp_path / "derived.jsonl"
    derived.write_text("\n".join(lines) + "\n")
    assert cli("replay", derived).returncode == 0


def test_truncated_trace_replays_its_prefix(tmp_path):
    """A run that crashed leaves no footer: the recorded prefix is compared."""
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json")
    lines = lines_of(trace)[:60]
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines) + "\n")
    r = cli("replay", cut, check_rc=0)
    assert r.stdout.startswith("replayed 59 events, identical (the trace has no footer"), r.stdout


def test_replay_rerecords_the_same_trace(tmp_path):
    trace = record(tmp_path, SCENARIOS / "blk" / "multiqueue.json", "--policy", "round-robin")
    again = tmp_path / "again.jsonl"
    cli("replay", trace, "--trace", again, check_rc=0)
    # the header differs only in the overrides the replay gives itself
    assert lines_of(again)[1:] == lines_of(trace)[1:]


# ---- divergence ----

def test_perturbed_event_reports_first_divergence(tmp_path):
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json")
    lines = lines_of(trace)
    k = next(i for i, x in enumerate(lines) if '"kind":"pop"' in x)
    ev = json.loads(lines[k])
    ev["c"] += 1  # readable bytes of the popped chain
    lines[k] = json.dumps(ev, separators=(",", ":"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("replay", bad, check_rc=1)
    out = r.stdout.splitlines()
    assert out[0] == "%s:%d: first divergence at step %d (event %d)" % (bad, k + 1, ev["step"], k), r.stdout
    assert out[1].strip() == "expected: " + lines[k]
    got = json.loads(out[2].split("got:", 1)[1])
    assert got == dict(ev, c=ev["c"] - 1)


def test_perturbed_decision_reports_divergence(tmp_path):
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json")
    lines = lines_of(trace)
    f = json.loads(lines[-1])
    # make step 1 (the driver's initialisation) a device step: nothing to do there
    f["footer"]["picks"] = "Q0 " + f["footer"]["picks"].replace("D*2", "D", 1)
    lines[-1] = json.dumps(f, separators=(",", ":"))
    bad = tmp_path / "bad-pick.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("replay", bad, check_rc=1)
    assert "first divergence at step 1: the recorded decision (run dev.q0) is not possible" in r.stdout


def test_changed_footer_is_reported(tmp_path):
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json")
    lines = lines_of(trace)
    f = json.loads(lines[-1])
    f["footer"]["hash"] = "0123456789abcdef"
    lines[-1] = json.dumps(f, separators=(",", ":"))
    bad = tmp_path / "bad-footer.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("replay", bad, check_rc=1)
    assert "the footer says" in r.stdout and "0123456789abcdef" in r.stdout


@pytest.mark.parametrize("edit,line,msg", [
    (lambda ls: ls[1:], 1, "expected the header"),
    (lambda ls: ls[:5] + ['{"step":1,"actor":"driver"'] + ls[5:], 6, "expected"),
    (lambda ls: ls[:5] + ['{"step":1,"actor":"driver","kind":"kick","q":0,"a":1,"b":0,"c":0}'] + ls[5:], 6,
     "missing field 'd'"),
    (lambda ls: ls[:5] + ['{"step":1,"actor":"driver","kind":"kick","q":0,"a":1,"b":0,"c":0,"d":0,"e":1}'] + ls[5:],
     6, "unknown field 'e'"),
    (lambda ls: ls[:5] + ['{"step":1,"actor":"driver","kind":"kick","q":0,"a":-1,"b":0,"c":0,"d":0}'] + ls[5:], 6,
     "negative value"),
    (lambda ls: ls[:-2] + ['{"step":0,"actor":"driver","kind":"kick","q":0,"a":1,"b":0,"c":0,"d":0}'] + ls[-1:],
     None, "steps never go back"),
    (lambda ls: ls + ['{"step":1}'], None, "text after the footer"),
    (lambda ls: ls[:-1] + [ls[-1].replace('"picks":"', '"picks":"X ')], None, "picks"),
    (lambda ls: ls[:3] + [""] + ls[3:], 4, "empty line"),
])
def test_malformed_trace_exits_2(tmp_path, edit, line, msg):
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json")
    lines = edit(lines_of(trace))
    bad = tmp_path / "malformed.jsonl"
    bad.write_text("\n".join(lines) + "\n")
    r = cli("replay", bad, check_rc=2)
    m = re.match(r"(.*):(\d+): (.*)", r.stderr.splitlines()[0])
    assert m and m.group(1) == str(bad), r.stderr
    if line is not None:
        assert int(m.group(2)) == line, r.stderr
    assert msg in m.group(3), r.stderr


def test_unknown_file_and_usage(tmp_path):
    assert cli("replay").returncode == 2
    assert cli("replay", tmp_path / "nope.jsonl").returncode == 2
    assert cli("show", tmp_path / "nope.jsonl").returncode == 2  # no --at
    assert cli("minimize", SCENARIOS / "examples" / "blk-roundtrip.json").returncode == 2  # no --check


# ---- show ----

def first_step_of(trace, kind):
    for x in lines_of(trace)[1:-1]:
        e = json.loads(x)
        if e["kind"] == kind:
            return e["step"]
    raise AssertionError(kind)


def test_show_split(tmp_path):
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json")
    at = first_step_of(trace, "kick")  # the driver published a chain and kicked
    r = cli("show", trace, "--at", at, check_rc=0)
    out = r.stdout
    assert out.startswith("state after step %d of blk-roundtrip" % at)
    assert "status 0x0f ACKNOWLEDGE DRIVER FEATURES_OK DRIVER_OK" in out
    assert "features negotiated" in out and "VERSION_1" in out
    assert "queue 0: split, size 8; descriptor table 0x1000, available ring 0x1080, used ring 0x10c0" in out
    assert "driver: avail_idx 1 (next avail slot 1), last_used 0, in flight 1" in out
    assert "device: next_avail 0, next_used 0" in out
    assert "available ring: flags 0x0000, idx 1, used_event" in out
    assert "used ring: flags 0x0000, idx 0, avail_event" in out
    assert re.search(r"ring\[   0\] =     0  published, not yet popped", out), out
    assert "in flight (device's) (chain of head 0)" in out
    assert "chains in flight:\n    head 0:" in out
    # after the device ran: popped, used, then reaped
    r2 = cli("show", trace, "--at", at + 1, check_rc=0).stdout
    assert "device: next_avail 1, next_used 1, published used 1" in r2
    assert "published, not yet reaped" in r2


def test_show_packed(tmp_path):
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json", "--ring", "packed")
    at = first_step_of(trace, "kick")
    out = cli("show", trace, "--at", at, check_rc=0).stdout
    assert "queue 0: packed, size 8; descriptor ring 0x1000" in out
    assert "driver: next_avail 1, avail wrap counter 1, next_used 0, used wrap counter 1, in flight 1" in out
    assert "device: next_avail 0, avail wrap counter 1" in out
    assert "driver event suppression (controls interrupts): flags" in out
    assert "device event suppression (controls kicks): flags" in out
    assert re.search(r"\[   0\] addr 0x[0-9a-f]{16} len +\d+ id +0 flags \S*AVAIL\S* +A=1 U=0  available", out), out
    assert "lists in flight (by buffer id):\n    id 0:" in out


def test_show_past_the_end(tmp_path):
    trace = record(tmp_path, SCENARIOS / "examples" / "blk-roundtrip.json")
    steps = json.loads(lines_of(trace)[-1])["footer"]["steps"]
    out = cli("show", trace, "--at", 10 ** 6, check_rc=0).stdout
    assert out.startswith("note: the run ended after %d steps" % steps)


SVG = "{http://www.w3.org/2000/svg}"


def _png_colours(path):
    """Distinct pixel colours of an 8-bit RGB/RGBA PNG (zlib + struct only)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, w = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), (depth, ctype)
            bpp = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    colours = set()
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pred) & 255
        if y % 4 == 0:
            for x in range(0, stride, bpp * 2):
                colours.add(bytes(line[x:x + 3]))
        prev = line
    return colours


def test_show_svg(tmp_path):
    trace = record(tmp_path, SCENARIOS / "blk" / "multiqueue.json")
    at = first_step_of(trace, "kick")
    svg = tmp_path / "state.svg"
    cli("show", trace, "--at", at, "--svg", svg, check_rc=0)
    root = ET.parse(svg).getroot()  # well-formed XML
    assert root.tag == SVG + "svg"
    texts = [t.text or "" for t in root.iter(SVG + "text")]
    joined = "\n".join(texts)
    for want in ("queue 0: split, size 8", "descriptor table", "available ring", "used ring",
                 "avail.idx 1", "used.idx 0", "drv last_used 0", "dev next 0", "head 0"):
        assert want in joined, (want, joined[:2000])
    fills = {r.get("fill") for r in root.iter(SVG + "rect")}
    assert "#f6b26b" in fills  # the chain in flight is drawn in the device's colour
    assert len(fills) >= 3

    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed: the SVG was checked by content only")
    png = tmp_path / "state.png"
    profile = tmp_path / "chromium-profile"
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync", "--no-first-run",
                        "--user-data-dir=%s" % profile, "--screenshot=%s" % png, "--window-size=1200,800",
                        svg.as_uri()], capture_output=True, text=True, timeout=120,
                       # the sanitizer pass preloads libasan: not for the browser
                       env={k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS")})
    assert png.exists(), (r.returncode, r.stderr[-2000:])
    colours = _png_colours(png)
    assert len(colours) > 2, colours


def test_show_svg_packed(tmp_path):
    trace = record(tmp_path, SCENARIOS / "blk" / "multiqueue.json", "--ring", "packed")
    svg = tmp_path / "packed.svg"
    cli("show", trace, "--at", first_step_of(trace, "kick"), "--svg", svg, check_rc=0)
    root = ET.parse(svg).getroot()
    joined = "\n".join(t.text or "" for t in root.iter(SVG + "text"))
    for want in ("queue 0: packed, size 8", "descriptor ring", "drv avail w1", "dev avail w1", "driver event"):
        assert want in joined, want


# ---- timeline ----

def test_timeline(tmp_path):
    trace = record(tmp_path, SCENARIOS / "notify" / "delayed-irq.json", "--policy", "random")
    out = tmp_path / "timeline.json"
    cli("replay", trace, "--timeline", out, check_rc=0)
    doc = json.loads(out.read_text())
    ev = doc["traceEvents"]
    assert isinstance(ev, list) and ev
    phases = {e["ph"] for e in ev}
    assert {"M", "X", "i"} <= phases, phases
    names = {e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "thread_name"}
    assert {"driver", "dev.q0", "interrupt timer"} <= names, names
    assert any(n.startswith("driver requests") for n in names)
    assert any(n.startswith("dev.q0 requests") for n in names)
    xs = [e for e in ev if e["ph"] == "X"]
    assert all(isinstance(e["ts"], int) and isinstance(e["dur"], int) and e["dur"] > 0 for e in xs)
    assert any(e["name"].startswith("blk.write (scenario step") and e["args"].get("completed") for e in xs)
    assert any(e["name"].startswith("request ") and e["args"].get("completed") for e in xs)
    inst = {e["name"] for e in ev if e["ph"] == "i"}
    assert "kick q0" in inst and "interrupt q0" in inst, inst
    # spans on one track never overlap (complete events must nest)
    by_tid = {}
    for e in xs:
        by_tid.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
    for spans in by_tid.values():
        spans.sort()
        for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
            assert a1 <= b0, (a0, a1, b0, b1)
    # deterministic: the same trace gives the same bytes
    out2 = tmp_path / "timeline2.json"
    cli("replay", trace, "--timeline", out2, check_rc=0)
    assert out.read_bytes() == out2.read_bytes()


# ---- minimize ----

def _big_used_len_over(path):
    steps = []
    for i in range(250):
        steps.append({"op": "blk.write", "sector": i % 64, "data": {"fill": i % 256, "len": 512}})
        steps.append({"op": "blk.read", "sector": i % 64, "expect_data": {"fill": i % 256, "len": 512}})
    path.write_text(json.dumps({"name": "big-used-len-over", "device": "blk", "mutants": ["dev.used-len-over"],
                                "offered_features": ["VERSION_1", "FLUSH", "EVENT_IDX", "INDIRECT_DESC"],
                                "steps": steps, "expect": {"violations": ["split.used-len-exceeds"]}}, indent=1))


def _big_loop(path):
    steps = []
    for i in range(500):
        if i == 250:  # a malformed chain (0 -> 1 -> 0) in the middle of good traffic
            steps += [{"op": "wait"},
                      {"op": "raw.write", "addr": "0xf0000", "data": "00000000 00000000 0000000000000000"},
                      {"op": "raw.desc", "index": 0, "addr": "0xf0000", "len": 16, "flags": ["NEXT"], "next": 1},
                      {"op": "raw.desc", "index": 1, "addr": "0xf1000", "len": 512, "flags": ["NEXT"], "next": 0},
                      {"op": "raw.avail", "heads": [0]}]
        if i % 2 == 0:
            steps.append({"op": "blk.write", "sector": i % 32, "data": {"pattern": i, "len": 512}})
        else:
            steps.append({"op": "blk.read", "sector": i % 32})
    # a fixed offer (no IN_ORDER: its own checks would see the loop first)
    path.write_text(json.dumps({"name": "big-loop", "device": "blk",
                                "offered_features": ["VERSION_1", "FLUSH", "EVENT_IDX", "INDIRECT_DESC"],
                                "steps": steps}, indent=1))


@pytest.mark.parametrize("build,check,nsteps", [
    (_big_used_len_over, "split.used-len-exceeds", 500),
    (_big_loop, "split.desc-chain-too-long", 505),
])
def test_minimize_planted_bug(tmp_path, build, check, nsteps):
    big = tmp_path / "big.json"
    build(big)
    out = tmp_path / "min.json"
    r = cli("minimize", big, "--check", check, "-o", out, check_rc=0)
    m = re.search(r"^steps: (\d+) -> (\d+)$", r.stdout, re.M)
    assert m, r.stdout
    assert int(m.group(1)) == nsteps
    assert int(m.group(2)) <= 5, out.read_text()
    sc = json.loads(out.read_text())
    assert len(sc["steps"]) == int(m.group(2))
    assert check in sc["expect"]["violations"]
    # it is a regression scenario: it passes, and the check fires in it
    run = cli("run", out, "--json", check_rc=0)
    assert check in {v["check"] for v in json.loads(run.stdout)["violations"]}
    # deterministic: the same input gives the same minimal scenario
    again = cli("minimize", big, "--check", check, check_rc=0)
    assert again.stdout == out.read_text()


def test_minimize_shrinks_lists(tmp_path):
    """The heads of a raw.avail step and the feature list shrink too."""
    sc = {"name": "heads", "device": "blk",
          "offered_features": ["VERSION_1", "FLUSH", "EVENT_IDX", "INDIRECT_DESC", "DISCARD"],
          "steps": [{"op": "blk.write", "sector": 1, "data": {"fill": 1, "len": 512}},
                    {"op": "raw.avail", "heads": [9, 10, 11, 12]}]}
    src = tmp_path / "heads.json"
    src.write_text(json.dumps(sc))
    r = cli("minimize", src, "--check", "split.avail-head-range", check_rc=0)
    out = json.loads(r.stdout)
    assert len(out["steps"]) == 1 and out["steps"][0]["op"] == "raw.avail", out
    assert len(out["steps"][0]["heads"]) == 1, out
    assert len(out["offered_features"]) <= 1, out
    assert "steps: 2 -> 1" in r.stderr


def test_minimize_check_that_does_not_fire(tmp_path):
    r = cli("minimize", SCENARIOS / "examples" / "blk-roundtrip.json", "--check", "split.used-len-exceeds")
    assert r.returncode == 1 and "does not fire" in r.stderr
    assert cli("minimize", SCENARIOS / "examples" / "blk-roundtrip.json", "--check", "no.such-check").returncode == 2
