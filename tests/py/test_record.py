"""Recording what a back-end does, and replaying it without the back-end.

What is tested here:
  - every scenario, run against the built-in model with `--record-backend`,
    writes the model's calls into its trace, and `virtio-sim replay` plays
    them back (the model is not created) with every event identical; the
    only exceptions are the runs whose events depend on the model being in
    the process (fault injection into the model, counting its guest-memory
    accesses), and those are checked to diverge, with the reason named;
  - a recording that was tampered with (a call renamed, a call removed, an
    answer changed) is a divergence naming the trace line, not a crash;
  - a device's writes judged byte by byte (the recorder's comparison with the
    mirror) find what the in-process checks find: mutants that write what
    they must not are caught without those checks;
  - against qemu-storage-daemon: the trace of a run replays identically
    without the daemon (and with it, `--live`); `conform --report` keeps the
    trace of each failing test and says how to replay it, and the daemon's
    crash replays as a crash.
"""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI", str(REPO / "build" / "virtio-sim"))
SCENARIOS = REPO / "scenarios"
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")

# Runs whose events need the model in the process: a stand-in cannot make
# the model enter NEEDS_RESET on the scenario's command (fault.needs_reset
# reaches into the built-in model), nor make the guest-memory accesses that
# liveness.dev-unbounded-work counts.
IN_PROCESS_ONLY = {
    "mutants/dev.needs-reset-silent.json": "needs_reset",
    "negotiation/needs-reset-end.json": "needs_reset",
    "negotiation/needs-reset-idle.json": "needs_reset",
    "mutants/dev.no-loop-check.json": "violation",
}


def cli(*args, timeout=120, env=None):
    return subprocess.run([CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def lines(trace):
    return Path(trace).read_text().splitlines()


def has_builtin_model(p):
    # fs scenarios have no built-in model (test_virtiofsd.py runs them against virtiofsd)
    try:
        return json.loads(p.read_text()).get("device") in ({"blk", "console", "input", "net", "gpu"})
    except ValueError:
        return False


def scenario_files():
    return sorted(p for p in SCENARIOS.rglob("*.json") if p.parent.name != "malformed" and has_builtin_model(p))


# steps that drive a built-in model's host side, past the ops table: a
# recording cannot hold them, so the run says its recording is incomplete
# and the trace replays with the model (replay --live)
HOST_SIDE_OPS = {"host.input", "host.event", "expect.output"}


def drives_host_side(path):
    return any(st.get("op") in HOST_SIDE_OPS for st in json.loads(path.read_text()).get("steps", []))


def is_scripted(path):
    try:
        return bool(json.loads(path.read_text()).get("device_scripted"))
    except ValueError:
        return False


# A sweep of the whole corpus checks logic, not memory safety: the ASan pass
# already runs every scenario through the instrumented binary (the Makefile's
# loop) and the stand-in's parsing under ASan (tests/c/test_be_record.c), so
# the sweep runs in the plain pass only (make test stays under its bound).
@pytest.mark.skipif(SANITIZED, reason="corpus sweep: plain pass only")
@pytest.mark.parametrize("path", scenario_files(), ids=lambda p: str(p.relative_to(SCENARIOS)))
def test_every_scenario_replays_from_its_recording(path, tmp_path):
    rel = str(path.relative_to(SCENARIOS))
    trace = tmp_path / "t.jsonl"
    run = cli("run", path, "--record-backend", "--trace", trace, "--quiet")
    assert run.returncode in (0, 1), run.stderr
    text = lines(trace)
    header = json.loads(text[0])["header"]
    records = [json.loads(l) for l in text if l.startswith('{"be"')]
    if is_scripted(path):
        # the scripted device is the scenario's: there is no back-end call to record
        assert "backend_recorded" not in header and not records
        return
    assert header["backend_recorded"] is True
    # the vu.* proofs bring their back-end ("backend": the scripted vhost-user one)
    own = json.loads(path.read_text()).get("backend", "").partition(":")[0]
    assert records[0]["op"] == "create" and records[0]["name"] == (own or "builtin")
    assert [r["be"] for r in records] == list(range(len(records))), "calls are numbered in order"
    # a net model's transmitted frames are judged against its wire, its host
    # side too: a scenario that transmits records incompletely
    incomplete = "recording in the trace is incomplete" in run.stdout
    if drives_host_side(path) or (incomplete and json.loads(path.read_text()).get("device") == "net"):
        assert incomplete, run.stdout
        live = cli("replay", trace, "--live")
        assert live.returncode == 0 and "identical" in live.stdout, live.stdout + live.stderr
        return
    replay = cli("replay", trace)
    if rel in IN_PROCESS_ONLY:
        if IN_PROCESS_ONLY[rel] == "needs_reset":
            # the model acted outside any call into it: the run says its recording is incomplete
            assert "recording in the trace is incomplete" in run.stdout, run.stdout
        assert replay.returncode == 1, replay.stdout
        assert "first divergence" in replay.stdout + replay.stderr
        assert f'"kind":"{IN_PROCESS_ONLY[rel]}"' in replay.stdout + replay.stderr
        return
    assert replay.returncode == 0, replay.stdout + replay.stderr
    assert "identical" in replay.stdout


def record(tmp_path, scenario="blk/read-write-sizes.json"):
    trace = tmp_path / "t.jsonl"
    cli("run", SCENARIOS / scenario, "--record-backend", "--trace", trace, "--quiet")
    return trace


def test_a_renamed_call_is_a_divergence_naming_the_line(tmp_path):
    trace = record(tmp_path)
    text = lines(trace)
    at = next(i for i, l in enumerate(text) if '"op":"queue_run"' in l)
    text[at] = text[at].replace('"op":"queue_run"', '"op":"queue_notify"')
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(text) + "\n")
    out = cli("replay", bad)
    assert out.returncode == 1
    msg = out.stdout + out.stderr
    assert f"bad.jsonl:{at + 1}: recorded back-end: the engine calls queue_run, the recording has queue_notify here" in msg


def test_a_removed_call_or_a_changed_answer_diverges(tmp_path):
    trace = record(tmp_path)
    text = lines(trace)
    # a call removed: the calls after it no longer line up
    at = next(i for i, l in enumerate(text) if '"op":"queue_run"' in l)
    gone = tmp_path / "gone.jsonl"
    gone.write_text("\n".join(text[:at] + text[at + 1:]) + "\n")
    out = cli("replay", gone)
    assert out.returncode == 1 and "recorded back-end" in out.stdout + out.stderr
    # the device's written data changed: what the driver reads back differs
    at = next(i for i, l in enumerate(text) if '["w",' in l and len(l) > 2000)
    rec = json.loads(text[at])
    for fx in rec["fx"]:
        if fx[0] == "w" and len(fx[2]) >= 1024:
            fx[2] = ("00" if fx[2][:2] != "00" else "11") + fx[2][2:]
            break
    text[at] = json.dumps(rec, separators=(",", ":"))
    changed = tmp_path / "changed.jsonl"
    changed.write_text("\n".join(text) + "\n")
    out = cli("replay", changed)
    assert out.returncode == 1, out.stdout
    assert "first divergence" in out.stdout + out.stderr


def test_an_unknown_check_in_a_recording_is_a_failure_not_a_crash(tmp_path):
    # a recorded violation names a check id: one the catalog lacks is the
    # backend's error (the same for a plugin), never an index out of bounds
    trace = record(tmp_path, "blk/flush-ok.json")
    text = lines(trace)
    at = next(i for i, l in enumerate(text) if '"op":"queue_run"' in l)
    rec = json.loads(text[at])
    rec.setdefault("fx", []).insert(0, ["viol", 99999, 0, "bogus"])
    text[at] = json.dumps(rec, separators=(",", ":"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(text) + "\n")
    for args in (["replay", bad], ["show", bad, "--at", "40"], ["replay", bad, "--timeline", tmp_path / "t.json"]):
        out = cli(*args)
        assert out.returncode in (0, 1), (args, out.returncode, out.stderr)


def test_a_backend_record_needs_the_header_to_say_so(tmp_path):
    trace = record(tmp_path)
    text = lines(trace)
    header = json.loads(text[0])
    del header["header"]["backend_recorded"]
    text[0] = json.dumps(header, separators=(",", ":"))
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(text) + "\n")
    out = cli("replay", bad)
    assert out.returncode == 2
    assert "bad.jsonl:2: a backend record, but the header does not say \"backend_recorded\"" in out.stderr


@pytest.mark.parametrize("mutant,check", [
    ("dev.write-readonly", "mem.dev-write-readonly"),
    ("dev.write-desc-table", "mem.dev-write-readonly"),
    ("dev.trust-buffers", "mem.dev-write-readonly"),
    ("dev.queue-reset-ignored", "mem.dev-out-of-bounds"),
])
def test_writes_judged_byte_by_byte_catch_the_mutants(mutant, check):
    # with a recorded (or out-of-process) back-end the per-step copies and
    # fingerprints stay quiet: the comparison with the mirror judges alone
    out = cli("run", SCENARIOS / "mutants" / f"{mutant}.json", "--record-backend", "--json")
    doc = json.loads(out.stdout)
    ids = {v["check"] for v in doc["violations"]}
    assert check in ids, doc["violations"]
    detail = next(v["detail"] for v in doc["violations"] if v["check"] == check)
    assert re.search(r"device wrote \d+ byte\(s\) of ", detail), detail


# ---- a real daemon ----

QSD = shutil.which("qemu-storage-daemon") or "/usr/bin/qemu-storage-daemon"
QSD_CMD = re.search(r"--backend-cmd '([^']*)'", (REPO / "README.md").read_text()).group(1)
if SANITIZED:
    QSD_CMD = "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS " + QSD_CMD


def no_daemon_env():
    """PATH without qemu-storage-daemon: a replay that tried to start it would fail."""
    env = dict(os.environ)
    env["PATH"] = "/nonexistent"
    return env


def test_a_daemon_run_replays_without_the_daemon(tmp_path):
    assert os.access(QSD, os.X_OK), "qemu-storage-daemon is missing: `make deps` installs qemu-system-common"
    trace = tmp_path / "qsd.jsonl"
    run = cli("run", SCENARIOS / "blk/read-write-sizes.json", "--backend", "vhost-user", "--backend-cmd", QSD_CMD,
              "--trace", trace, "--quiet")
    assert run.returncode in (0, 1), run.stderr
    text = lines(trace)
    assert json.loads(text[0])["header"]["backend_recorded"] is True
    create = json.loads(next(l for l in text if l.startswith('{"be":0,')))
    assert create["name"] == "vhost-user"
    # the handshake findings were made at creation: played back from there
    assert any(fx[0] == "viol" for fx in create["fx"])
    # the data the daemon wrote into guest memory is in the recording
    assert any('["w",' in l for l in text if l.startswith('{"be"'))
    out = cli("replay", trace, env=no_daemon_env())
    assert out.returncode == 0, out.stdout + out.stderr
    assert "identical" in out.stdout
    live = cli("replay", trace, "--live")
    assert live.returncode == 0 and "identical" in live.stdout, live.stdout + live.stderr


def test_conform_keeps_failing_traces_that_replay_without_the_daemon(tmp_path):
    assert os.access(QSD, os.X_OK)
    rep = tmp_path / "rep"
    out = cli("conform", "--backend", "vhost-user", "--backend-cmd", QSD_CMD, "--device", "blk", "--suite", "blk",
              "--matrix", "native", "--report", rep, "--no-details", timeout=600)
    assert out.returncode in (0, 1), out.stderr
    doc = json.loads((rep / "report.json").read_text())
    # what cannot be seen of a daemon is said, not passed over quietly
    assert {u["check"] for u in doc["unobserved_checks"]} == {"liveness.dev-unbounded-work",
                                                             "mem.dev-out-of-bounds"}
    assert "Not (fully) observable with this back-end" in (rep / "index.html").read_text()
    kept = {t["id"]: t for t in doc["tests"] if "replay" in t}
    assert kept, "no failing test kept its trace"
    for t in doc["tests"]:
        has = "replay" in t
        assert has == (t["verdict"] in ("fail", "warn", "wedged", "crashed")), t
    assert "replay without the back-end: virtio-sim replay" in out.stdout
    crashed = [t for t in kept.values() if t["verdict"] == "crashed"]
    assert crashed, "qemu-storage-daemon 7.2 dies on a zero-length segment: expected one crashed test"
    for t in list(kept.values())[:6] + crashed:
        path = re.match(r"virtio-sim replay '([^']*)'", t["replay"]).group(1)
        again = cli("replay", path, env=no_daemon_env())
        assert again.returncode == 0 and "identical" in again.stdout, (t["id"], again.stdout, again.stderr)
    # a passing test leaves nothing behind
    passed = [t["id"] for t in doc["tests"] if t["verdict"] == "pass"]
    assert passed and len(list((rep / "traces").iterdir())) == len(kept)
