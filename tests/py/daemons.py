"""Real vhost-user daemons for the tests: started on a socket under a temp
directory, bounded by timeouts, stopped by PID.

Shared by test_vhost_user.py (qemu-storage-daemon), test_virtiofsd.py
(virtiofsd) and test_daemon_dirs.py. The daemons and `ps` run without the
sanitizer runtime the ASan pass preloads into everything (they are not ours
to instrument, and hang with it).
"""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI", str(REPO / "build" / "virtio-sim"))
SANITIZED = "libasan" in os.environ.get("LD_PRELOAD", "")
DAEMON_ENV = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


def unsanitized(cmd):
    """A --backend-cmd that starts its daemon without the preloaded runtime."""
    return "env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS " + cmd if SANITIZED else cmd


def pids(marker):
    """PIDs of processes whose command line holds `marker` (ps, as a person would look)."""
    out = subprocess.run(["ps", "-eo", "pid=,args="], capture_output=True, text=True, check=True, timeout=30,
                         env=DAEMON_ENV).stdout
    return {int(l.split()[0]) for l in out.splitlines() if marker in l and "ps -eo" not in l}


class DaemonRoot:
    """A temporary directory of one test's own (TMPDIR for the runs given
    `env`, short enough for sockets below it): conform makes its daemon root
    there and sweeps it at the end, so every daemon it starts has its
    directory, its socket and so its command line under it. Leftovers are
    looked for there only, so tests running side by side (pytest-xdist) do
    not count each other's daemons."""

    def __init__(self):
        self.path = tempfile.mkdtemp(prefix="vsim-t", dir="/tmp")
        self.env = {k: v for k, v in os.environ.items() if k != "VSIM_DAEMON_ROOT"}
        self.env["TMPDIR"] = self.path

    def daemons(self):
        return pids(self.path)

    def dirs(self):
        return sorted(os.listdir(self.path))


@pytest.fixture
def daemon_root():
    root = DaemonRoot()
    yield root
    shutil.rmtree(root.path, ignore_errors=True)


class Daemon:
    """`argv` started in its own session with its output in `log_path`; ready
    once `sock` exists (10 s bound). stop(): after an optional grace period
    for a daemon that exits by itself, SIGTERM, then SIGKILL; it must be gone
    from the process list afterwards (`marker`)."""

    def __init__(self, argv, sock, log_path, marker, grace=0.0):
        self.sock, self.log_path, self.marker, self.grace = sock, log_path, marker, grace
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True, env=DAEMON_ENV)
        deadline = time.monotonic() + 10
        while not Path(sock).exists():
            assert self.proc.poll() is None, Path(log_path).read_text()
            assert time.monotonic() < deadline, f"{marker} did not listen within 10 s"
            time.sleep(0.02)

    def stop(self):
        try:
            self.proc.wait(self.grace)
        except subprocess.TimeoutExpired:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        assert self.proc.pid not in pids(self.marker)


def run(scenario, backend, *extra, timeout=120):
    """`virtio-sim run --json` against `backend`: (exit status, the JSON)."""
    r = subprocess.run([CLI, "run", str(scenario), "--backend", backend, "--json", *extra],
                       capture_output=True, text=True, timeout=timeout)
    assert r.returncode in (0, 1), (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    return r.returncode, json.loads(r.stdout)
