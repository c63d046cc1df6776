"""Nothing is left in /tmp when conform kills a worker that started a daemon.

`conform --timeout` SIGKILLs a worker that hangs; the worker cannot remove
the private directory of the daemon it started (its socket and log). conform
points every daemon of its run at one root directory of its own
($VSIM_DAEMON_ROOT) and sweeps it when the run ends, so neither the
daemon's directory nor the root stays behind, and the daemon itself (killed
with its parent) does not stay running either.
"""
import glob
import os
import subprocess
import tempfile
import time
from pathlib import Path

from daemons import pids, unsanitized

REPO = Path(__file__).resolve().parents[2]
CLI = os.environ.get("VSIM_CLI", str(REPO / "build" / "virtio-sim"))

# listens, accepts the front-end, and never answers a message
SILENT = ("/usr/bin/python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); "
          "s.listen(); c,_=s.accept(); time.sleep(120)  # vsim-silent-daemon' {socket}")
SILENT = unsanitized(SILENT)


def leftovers(tmp):
    return set(glob.glob(tmp + "/vsim-vhost-*")) | set(glob.glob(tmp + "/vsim-conform-*"))


def silent_daemons():
    return pids("vsim-silent-daemon")


def test_a_killed_worker_leaves_no_daemon_and_no_directory():
    # conform's own root goes under a short TMPDIR of this test's, so runs of
    # other tests side by side (pytest-xdist) are not counted
    tmp = tempfile.mkdtemp(prefix="vt", dir="/tmp")
    env = {k: v for k, v in os.environ.items() if k != "VSIM_DAEMON_ROOT"}
    env["TMPDIR"] = tmp
    start = time.monotonic()
    out = subprocess.run([CLI, "conform", "--backend", "vhost-user", "--backend-cmd", SILENT, "--device", "blk",
                          "--suite", "blk", "--matrix", "native", "--timeout", "2", "--quiet"],
                         capture_output=True, text=True, timeout=120, env=env)
    assert time.monotonic() - start < 60
    assert out.returncode == 2, out.stdout + out.stderr
    assert "no answer within 2 s" in out.stderr
    for _ in range(50):  # the daemon dies with its parent: give the kernel a moment
        if not silent_daemons():
            break
        time.sleep(0.1)
    assert not silent_daemons()
    assert leftovers(tmp) == set()
    os.rmdir(tmp)  # and nothing else was left there either
