"""virtio-sim against a second real vhost-user back-end: virtiofsd, the C
virtio-fs daemon of QEMU 7.2 (Debian's qemu-system-common, installed by
`make deps`, at /usr/lib/qemu/virtiofsd).

What is tested here:
  - `virtio-sim run --backend vhost-user:SOCKET` runs each scenario of
    scenarios/fs-smoke against a daemon this test starts on a temporary
    shared directory (C virtiofsd serves one connection and exits when it
    closes: one daemon per run): negotiation, FUSE_INIT, FUSE_GETATTR of the
    root, FUSE_LOOKUP + FUSE_OPEN + FUSE_READ of a file the test put in the
    shared directory, a device reset in the middle and a new session;
  - the data read through the simulated driver is the file's content: the
    same scenario fails, naming the field, when the file holds other bytes;
  - `virtio-sim conform --backend vhost-user --backend-cmd '...{socket}...'
    --device fs --suite fs-smoke` (the README's command) passes, with no
    daemon and no temporary directory left behind;
  - what virtiofsd 7.2 does wrong is a verdict, not a hang: a request
    shorter than fuse_in_header makes it abort (an assertion in
    fv_queue_worker), which is `crashed` with the daemon's last words;
  - an fs scenario without a back-end is a clear error.
Every daemon is started with a bound and stopped by PID. In the sanitizer
pass the daemons are started without the preloaded ASan runtime.
"""
import json
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

import daemons
from daemons import daemon_root, pids, run, unsanitized  # noqa: F401 (daemon_root: a fixture)

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI", str(REPO / "build" / "virtio-sim"))
FSD = "/usr/lib/qemu/virtiofsd"
SMOKE = sorted((REPO / "scenarios" / "fs-smoke").glob("*.json"))

# The file the fs-smoke scenarios look up and read (tools/fs_smoke_gen.py).
FILE_NAME = "hello.txt"
FILE_DATA = b"virtio-sim read this through virtiofsd\n"
# As root in a container: chroot instead of namespaces (no unshare), no
# cache (every request reaches the daemon), the requests served in the
# queue's own thread (no pool: the order of replies is the order of
# requests), the file limit left as it is.
FSD_OPTS = ["-o", "sandbox=chroot", "-o", "cache=none", "--thread-pool-size=0", "--rlimit-nofile=0"]

# The README's copy-and-paste --backend-cmd for virtiofsd, as written there.
FSD_CMD = unsanitized(re.search(r"--backend-cmd '([^']*virtiofsd[^']*)'", (REPO / "README.md").read_text()).group(1))


def require_fsd():
    assert os.access(FSD, os.X_OK), "virtiofsd is missing: `make deps` installs qemu-system-common"


def fsd_pids():
    return pids("virtiofsd")


class Daemon(daemons.Daemon):
    """virtiofsd on a shared directory in tmp_path holding FILE_NAME, stopped by
    PID (C virtiofsd exits by itself when the connection closes: 2 s of grace
    before SIGTERM)."""

    def __init__(self, tmp_path, data=FILE_DATA):
        require_fsd()
        self.share = tmp_path / "share"
        self.share.mkdir()
        (self.share / FILE_NAME).write_bytes(data)
        sock = tmp_path / "fs.sock"
        super().__init__([FSD, f"--socket-path={sock}", "-o", f"source={self.share}", *FSD_OPTS], sock,
                         tmp_path / "virtiofsd.log", "virtiofsd", grace=2.0)


@pytest.fixture
def fsd(tmp_path):
    d = Daemon(tmp_path)
    yield d
    d.stop()


@pytest.mark.parametrize("scenario", SMOKE, ids=lambda p: p.stem)
def test_fs_smoke_scenario_against_virtiofsd(fsd, scenario):
    rc, doc = run(scenario, f"vhost-user:{fsd.sock}")
    assert rc == 0, (doc["failures"], doc["violations"])
    assert doc["failures"] == [] and doc["violations"] == []
    want = json.loads(scenario.read_text())["expect"]["completed"]
    assert doc["completed"] == want
    if want:
        assert doc["kicks"] >= 1 and doc["interrupts"] >= 1


def test_the_format_references_fs_example_runs(fsd, tmp_path):
    """scenarios/README.md's req.raw example, as written there."""
    text = (REPO / "scenarios" / "README.md").read_text()
    (block,) = [b for b in re.findall(r"```json\n(.*?)```", text, re.S) if '"device": "fs"' in b]
    path = tmp_path / "readme-fs.json"
    path.write_text(block)
    rc, doc = run(path, f"vhost-user:{fsd.sock}")
    assert rc == 0 and doc["completed"] == 1, (doc["failures"], doc["violations"])


def test_the_data_read_is_the_files_content(tmp_path):
    """The read is compared with what is in the file: the same bytes pass, other
    bytes of the same length fail naming the field (and nothing else does)."""
    other = FILE_DATA.replace(b"virtiofsd", b"VIRTIOFSD")
    assert len(other) == len(FILE_DATA) and other != FILE_DATA
    scen = REPO / "scenarios" / "fs-smoke" / "lookup-read.json"
    d = Daemon(tmp_path, data=other)
    try:
        rc, doc = run(scen, f"vhost-user:{d.sock}")
    finally:
        d.stop()
    assert rc == 1
    assert len(doc["failures"]) == 1, doc["failures"]
    assert "reply field 'read data' (offset 16)" in doc["failures"][0]
    assert "at byte %d (got 0x56, expected 0x76)" % FILE_DATA.index(b"virtiofsd") in doc["failures"][0]
    assert doc["completed"] == 6
    # and the bytes the scenario expects are the file's, as written here
    steps = json.loads(scen.read_text())["steps"]
    read = [f for st in steps for f in st.get("expect_reply", []) if f.get("name") == "read data"]
    assert bytes.fromhex(read[0]["data"]) == FILE_DATA


def test_conform_fs_smoke_with_a_daemon_per_test(tmp_path, daemon_root):
    require_fsd()
    rep = tmp_path / "rep"
    t0 = time.monotonic()
    r = subprocess.run([CLI, "conform", "--backend", "vhost-user", "--backend-cmd", FSD_CMD, "--device", "fs",
                        "--suite", "fs-smoke", "--jobs", "2", "--timeout", "60", "--report", str(rep)],
                       capture_output=True, text=True, timeout=600,
                       env=daemon_root.env)
    elapsed = time.monotonic() - t0
    assert r.returncode == 0, (r.stdout[-3000:], r.stderr[-3000:])
    doc = json.loads((rep / "report.json").read_text())
    verdicts = [t["verdict"] for t in doc["tests"]]
    counts = {v: verdicts.count(v) for v in set(verdicts)}
    print(f"fs-smoke suite against virtiofsd: {counts} in {elapsed:.1f} s")
    ran = [t for t in doc["tests"] if t["verdict"] != "skip"]
    assert len(ran) >= 5 * 4, counts  # five scenarios, split ring, INDIRECT/EVENT_IDX on and off
    assert all(t["verdict"] == "pass" for t in ran), [(t["id"], t["verdict"], t.get("reason")) for t in ran]
    # the packed ring is what is skipped: a vhost-user back-end is not offered it (yet)
    for t in doc["tests"]:
        if t["verdict"] == "skip":
            assert "[packed" in t["id"], t
    assert daemon_root.daemons() == set()
    assert daemon_root.dirs() == []


def test_a_short_request_kills_virtiofsd_and_that_is_the_verdict(tmp_path, daemon_root):
    """virtiofsd 7.2 asserts on a request shorter than fuse_in_header (it
    aborts the whole daemon on guest input): `crashed`, its own last line as
    the reason, within the bounds; the run goes on to the next test."""
    require_fsd()
    rep = tmp_path / "rep"
    r = subprocess.run([CLI, "conform", "--backend", "vhost-user", "--backend-cmd", FSD_CMD, "--device", "fs",
                        "--suite", "fs-edges", "--matrix", "native", "--timeout", "60", "--report", str(rep)],
                       capture_output=True, text=True, timeout=300,
                       env=daemon_root.env)
    assert r.returncode == 1, (r.stdout[-3000:], r.stderr[-3000:])
    doc = json.loads((rep / "report.json").read_text())
    (t,) = doc["tests"]
    assert t["verdict"] == "crashed", t
    # its own last line follows: the assertion (fuse_virtio.c) when its
    # thread wrote it before the abort took the daemon, else the line before
    # (the abort does not wait for the other threads' output)
    assert "killed by signal 6" in t["reason"], t["reason"]
    assert re.search(r"killed by signal 6 \(Aborted\): \S", t["reason"]), t["reason"]
    ids = {c["id"] for c in t.get("checks", [])}
    assert "vhost-user.backend-gone" in ids, t
    assert daemon_root.daemons() == set()
    assert daemon_root.dirs() == []


def test_fs_without_a_backend_is_a_clear_error():
    r = subprocess.run([CLI, "run", str(SMOKE[0])], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "device 'fs' has no built-in model" in r.stderr and "--backend vhost-user" in r.stderr


def test_a_virtiofsd_run_replays_without_the_daemon(fsd, tmp_path):
    """The trace of a run against virtiofsd carries what the daemon did (each
    call, its answers, the bytes it wrote): it replays with no daemon at all,
    the file's content included."""
    trace = tmp_path / "fs.jsonl"
    rc, doc = run(REPO / "scenarios" / "fs-smoke" / "lookup-read.json", f"vhost-user:{fsd.sock}", "--trace",
                  str(trace))
    assert rc == 0, doc["failures"]
    text = trace.read_text()
    assert FILE_DATA.hex() in text  # the read data, as the daemon wrote it into guest memory
    env = dict(os.environ, PATH="/nonexistent")
    r = subprocess.run([CLI, "replay", str(trace)], capture_output=True, text=True, timeout=60, env=env)
    assert r.returncode == 0 and "identical" in r.stdout, r.stdout + r.stderr
