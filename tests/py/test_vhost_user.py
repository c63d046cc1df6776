"""virtio-sim against a real vhost-user back-end: qemu-storage-daemon's
vhost-user-blk export (Debian's qemu-system-common, installed by `make deps`).

What is tested here:
  - `virtio-sim run --backend vhost-user:SOCKET` against a daemon this test
    starts on a temporary raw image: writes, reads back and a flush complete,
    and the bytes written through the simulated driver are in the image file
    at the right offsets; a reset in the middle (rings stopped with
    GET_VRING_BASE, restarted with new fds) loses nothing;
  - the only findings about qemu-storage-daemon 7.2's handshake are the
    known ones (GET_CONFIG ignores the offset; a 60-byte config space);
  - `virtio-sim conform --backend vhost-user --backend-cmd '...{socket}...'`
    runs the blk suite with a fresh daemon per test, completes with no hang,
    and leaves no daemon and no temporary directory behind;
  - the blk suite's verdicts against the daemon are sorted: its known bugs
    (conformance/known/qemu-storage-daemon-7.2.xfail, each naming the clause)
    come out as xfail and nothing else fails, in the strict and the compat
    profile; what the spec leaves open (multi-segment requests beyond the
    daemon's max_discard_seg, requests of features not negotiated, reads after
    a discard, which error status a malformed request gets) is not judged;
  - malformed rings that make the daemon drop the connection (vu_panic) are
    `crashed` with the daemon's own last words, and the run goes on;
  - a back-end that never answers is an error within the reply bound, not a hang.
Every daemon is started with a timeout and stopped by PID.
"""
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

import daemons
from daemons import daemon_root, pids, unsanitized  # noqa: F401 (daemon_root: a fixture)

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI", str(REPO / "build" / "virtio-sim"))
QSD = shutil.which("qemu-storage-daemon") or "/usr/bin/qemu-storage-daemon"

# The connection-level findings qemu-storage-daemon 7.2 is known for.
KNOWN_QSD = {"vhost-user.get-config-offset", "vhost-user.get-config-size"}

# The README's copy-and-paste daemon command, as written there: a fresh
# 1 MiB image per daemon ({dir} is its private directory; the blk scenarios
# assume 2048 sectors, and no test must see another's data).
# (The sanitizer pass starts it without the preloaded runtime: daemons.py.)
QSD_CMD = unsanitized(re.search(r"--backend-cmd '([^']*)'", (REPO / "README.md").read_text()).group(1))


def require_qsd():
    assert os.access(QSD, os.X_OK), "qemu-storage-daemon is missing: `make deps` installs qemu-system-common"


def qsd_pids():
    return pids("qemu-storage-daemon")


class Daemon(daemons.Daemon):
    """qemu-storage-daemon on a raw image in tmp_path, stopped by PID."""

    def __init__(self, tmp_path, size=1 << 20):
        require_qsd()
        self.img = tmp_path / "disk.img"
        with open(self.img, "wb") as f:
            f.truncate(size)
        sock = tmp_path / "vhost.sock"
        super().__init__([QSD, "--blockdev", f"driver=file,node-name=disk,filename={self.img}",
                          "--export", "type=vhost-user-blk,id=exp,node-name=disk,addr.type=unix,"
                          f"addr.path={sock},writable=on,num-queues=4"],
                         sock, tmp_path / "qsd.log", "qemu-storage-daemon")


@pytest.fixture
def qsd(tmp_path):
    d = Daemon(tmp_path)
    yield d
    d.stop()


def run(scenario, backend, *extra, timeout=120):
    return daemons.run(scenario, backend, *extra, timeout=timeout)[1]


def write_scenario(path, steps, name="vhost-user-data"):
    path.write_text(json.dumps({"name": name, "device": "blk", "steps": steps}))
    return path


def findings(doc):
    return {v["check"] for v in doc["violations"]}


def test_write_read_flush_reach_the_image(qsd, tmp_path):
    pattern = bytes(range(256)) * 8  # 2048 bytes, 4 sectors
    steps = [
        {"op": "blk.write", "sector": 3, "data": pattern.hex(), "expect_status": "OK"},
        {"op": "blk.write", "sector": 100, "data": {"fill": 0x5A, "len": 8192}, "expect_status": "OK"},
        {"op": "wait"},
        {"op": "blk.read", "sector": 3, "len": 2048, "expect_status": "OK", "expect_data": pattern.hex()},
        {"op": "blk.read", "sector": 100, "len": 8192, "expect_status": "OK",
         "expect_data": {"fill": 0x5A, "len": 8192}},
        {"op": "blk.flush", "expect_status": "OK"},
        {"op": "wait"},
    ]
    doc = run(write_scenario(tmp_path / "s.json", steps), f"vhost-user:{qsd.sock}")
    # the scenario expects no violation: the known findings are its only failure
    assert doc["failures"] in ([], ["2 violation(s), none expected"]), doc["failures"]
    assert findings(doc) <= KNOWN_QSD, doc["violations"]
    assert doc["completed"] == 5
    assert doc["interrupts"] >= 1
    data = qsd.img.read_bytes()
    assert data[3 * 512:3 * 512 + 2048] == pattern
    assert data[100 * 512:100 * 512 + 8192] == b"\x5a" * 8192
    assert data[:3 * 512] == bytes(3 * 512)  # nothing written elsewhere


def test_known_handshake_findings_are_named(qsd, tmp_path):
    doc = run(REPO / "scenarios" / "blk" / "flush-ok.json", f"vhost-user:{qsd.sock}")
    got = {v["check"]: v for v in doc["violations"]}
    assert set(got) == KNOWN_QSD, doc["violations"]
    assert "offset is ignored" in got["vhost-user.get-config-offset"]["detail"]
    assert got["vhost-user.get-config-offset"]["label"].startswith("vhost-user:")
    assert "60 bytes answered" in got["vhost-user.get-config-size"]["detail"]
    assert doc["completed"] == 2


def test_reset_and_restart_keep_the_data(qsd):
    doc = run(REPO / "scenarios" / "vhost-user" / "restart.json", f"vhost-user:{qsd.sock}")
    assert findings(doc) <= KNOWN_QSD, doc["violations"]
    assert doc["completed"] == 2
    assert all("vhost-user.get-config" in f for f in doc["failures"]), doc["failures"]


def test_conform_blk_suite_with_a_daemon_per_test(tmp_path, daemon_root):
    require_qsd()
    rep = tmp_path / "rep"
    t0 = time.monotonic()
    r = subprocess.run([CLI, "conform", "--backend", "vhost-user", "--backend-cmd", QSD_CMD, "--device", "blk",
                        "--suite", "blk", "--matrix", "native", "--jobs", "2", "--timeout", "60",
                        "--report", str(rep)], capture_output=True, text=True, timeout=600,
                       env=daemon_root.env)
    elapsed = time.monotonic() - t0
    assert r.returncode in (0, 1), (r.returncode, r.stdout[-3000:], r.stderr[-3000:])
    doc = json.loads((rep / "report.json").read_text())
    verdicts = [t["verdict"] for t in doc["tests"]]
    counts = {v: verdicts.count(v) for v in set(verdicts)}
    print(f"blk suite against qemu-storage-daemon: {counts} in {elapsed:.1f} s")
    assert len(doc["tests"]) > 30
    assert counts.get("pass", 0) >= 15, counts
    # our tool never hangs on the daemon; the daemon may die on what it does
    # not expect (qemu-storage-daemon 7.2 panics on a zero-length segment
    # before the data, blk-edges/zero-length-segment): that is the verdict it
    # earns, with its own log line as the reason, and the run goes on
    assert counts.get("wedged", 0) == 0, counts
    for t in doc["tests"]:
        if t["verdict"] == "crashed":
            assert t["reason"], t
    # the connection's own findings are judged once, by the vhost-user suite
    # (except the daemon dying, which is that test's own verdict)
    for t in doc["tests"]:
        ids = {c["id"] for c in t.get("checks", [])} - {"vhost-user.backend-gone"}
        assert not any(i.startswith("vhost-user.") for i in ids), t
    # nothing left behind: no daemon, no private directory
    assert daemon_root.daemons() == set()
    assert daemon_root.dirs() == []


XFAIL_FILE = REPO / "conformance" / "known" / "qemu-storage-daemon-7.2.xfail"


def xfail_entries():
    out = {}
    for line in XFAIL_FILE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            pattern, reason = line.split(None, 1)
            out[pattern] = reason
    return out


def test_known_failures_name_their_clause():
    entries = xfail_entries()
    assert entries, "the known-failures file lists nothing"
    for pattern, reason in entries.items():
        # a daemon bug is kept only with the clause it breaks, quoted
        assert "normative" in reason or "MUST" in reason, (pattern, reason)
        assert '"' in reason, (pattern, reason)


# the sanitizer pass takes the strict profile: the two differ only in the
# verdict bookkeeping, not in what the front-end does with the daemon
@pytest.mark.parametrize("profile", ["strict"] if daemons.SANITIZED else ["strict", "compat"])
def test_blk_suite_sorted_known_bugs_xfail_nothing_else_fails(tmp_path, profile, daemon_root):
    require_qsd()
    rep = tmp_path / "rep"
    r = subprocess.run([CLI, "conform", "--backend", "vhost-user", "--backend-cmd", QSD_CMD, "--device", "blk",
                        "--suite", "blk", "--matrix", "native", "--jobs", "2", "--timeout", "60",
                        "--profile", profile, "--xfail", str(XFAIL_FILE), "--report", str(rep)],
                       capture_output=True, text=True, timeout=600,
                       env=daemon_root.env)
    # the known bugs are expected failures: the run passes
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    doc = json.loads((rep / "report.json").read_text())
    by_id = {t["id"]: t for t in doc["tests"]}
    verdicts = {t["id"]: t["verdict"] for t in doc["tests"]}
    # every listed bug is still there (an xpass would fail the run anyway)
    for pattern in xfail_entries():
        assert by_id[pattern]["verdict"] == "xfail", by_id[pattern]
    assert by_id["blk:blk-edges/zero-length-segment[split]#0"]["xfail_reason"].startswith("vu_panic")
    # nothing else fails, hangs, crashes or warns
    bad = {i: v for i, v in verdicts.items() if v in ("fail", "wedged", "crashed", "warn", "xpass")}
    assert not bad, bad
    # what was sorted as the scenarios' wrong assumptions, one by one
    # - qsd's max_discard_seg / max_write_zeroes_seg are 1: two segments are
    #   the driver's violation there, not a test of the device
    for stem in ("blk/discard-multi-segment-raw", "blk/write-zeroes-multi-segment-bad-flags-raw"):
        t = by_id[f"blk:{stem}[split]#0"]
        assert t["verdict"] == "skip" and "max_" in t["reason"] and "_seg is 1" in t["reason"], t
    # - a request type not negotiated: any valid status; discard: the
    #   discarded range's contents are unspecified
    for stem in ("blk/discard-not-negotiated", "blk/write-zeroes-not-negotiated", "blk/discard-ok"):
        assert verdicts[f"blk:{stem}[split]#0"] == "pass", by_id[f"blk:{stem}[split]#0"]
    # - malformed requests: UNSUPP or IOERR are both an error answer
    for stem in ("blk-edges/discard-second-segment-wraps", "blk-edges/write-zeroes-second-segment-wraps",
                 "regress/raw-write-zeroes-partial-segment"):
        assert verdicts[f"blk:{stem}[split]#0"] == "reject", by_id[f"blk:{stem}[split]#0"]
    assert sum(v == "pass" for v in verdicts.values()) >= 20, verdicts
    assert daemon_root.daemons() == set()


def test_conform_vhost_user_suite_names_the_known_behaviours():
    require_qsd()
    r = subprocess.run([CLI, "conform", "--backend", "vhost-user", "--backend-cmd", QSD_CMD, "--device", "blk",
                        "--suite", "vhost-user", "--matrix", "native"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1, (r.stdout[-3000:], r.stderr[-3000:])
    assert "vhost-user.get-config-offset [MUST]" in r.stdout
    assert "vhost-user.get-config-size [SHOULD]" in r.stdout
    assert "vhost-user:Front-end message types / VHOST_USER_GET_CONFIG" in r.stdout


@pytest.mark.skipif(daemons.SANITIZED, reason="a suite of daemon crashes: the plain pass (the front-end's hang-up "
                    "paths run under the sanitizer in tests/c/test_vhost_user.c, vu.hang-up)")
def test_malformed_rings_crash_the_daemon_and_the_run_goes_on(tmp_path, daemon_root):
    require_qsd()
    rep = tmp_path / "rep"
    r = subprocess.run([CLI, "conform", "--backend", "vhost-user", "--backend-cmd", QSD_CMD, "--device", "blk",
                        "--suite", "split-ring", "--matrix", "native", "--report", str(rep)],
                       capture_output=True, text=True, timeout=600,
                       env=daemon_root.env)
    assert r.returncode == 1, (r.stdout[-3000:], r.stderr[-3000:])
    doc = json.loads((rep / "report.json").read_text())
    crashed = [t for t in doc["tests"] if t["verdict"] == "crashed"]
    assert crashed, [t["verdict"] for t in doc["tests"]]
    # the daemon's own account (libvhost-user's vu_panic) is in the reason
    assert any("vu_panic" in t["reason"] for t in crashed), [t["reason"] for t in crashed]
    # and the tests after a crash still ran against a fresh daemon
    assert any(t["verdict"] in ("pass", "reject") for t in doc["tests"])
    assert daemon_root.daemons() == set()
    assert daemon_root.dirs() == []


def test_a_silent_backend_is_an_error_not_a_hang(tmp_path):
    silent = ("env -u LD_PRELOAD /usr/bin/python3 -c 'import socket,sys,time\n"
              "s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(1)\n"
              "c,_=s.accept(); time.sleep(120)' {socket}")
    t0 = time.monotonic()
    r = subprocess.run([CLI, "run", str(REPO / "scenarios" / "blk" / "flush-ok.json"), "--backend", "vhost-user",
                        "--backend-cmd", silent], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "no reply to GET_FEATURES" in r.stderr
    assert time.monotonic() - t0 < 30


def test_backend_cmd_needs_vhost_user_and_a_socket_placeholder():
    r = subprocess.run([CLI, "run", str(REPO / "scenarios" / "blk" / "flush-ok.json"), "--backend", "builtin:blk",
                        "--backend-cmd", "x {socket}"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "--backend vhost-user" in r.stderr
    r = subprocess.run([CLI, "run", str(REPO / "scenarios" / "blk" / "flush-ok.json"), "--backend", "vhost-user",
                        "--backend-cmd", "qemu-storage-daemon --no-socket-here"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "{socket}" in r.stderr
