"""The test cluster does not outlive a test run that is killed (pg_cluster's watchdog)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pg_cluster import find_bin

HERE = Path(__file__).resolve().parent

# Starts a cluster, prints its folder and postmaster pid, then waits to be killed.
_OWNER = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from pg_cluster import Cluster, find_bin
cluster = Cluster(find_bin()).start()
pid = (cluster.folder / "data" / "postmaster.pid").read_text().split()[0]
print(cluster.folder, pid, flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.skipif(find_bin() is None, reason="PostgreSQL is not installed")
def test_a_killed_test_run_leaves_no_cluster_behind():
    owner = subprocess.Popen([sys.executable, "-c", _OWNER, str(HERE)],
                             stdout=subprocess.PIPE, text=True)
    try:
        folder, pid = owner.stdout.readline().split()
        postmaster = int(pid)
        assert _alive(postmaster)
        owner.send_signal(signal.SIGKILL)  # no finally, no atexit
        owner.wait()
        deadline = time.monotonic() + 60  # the watchdog looks once a second
        while (_alive(postmaster) or Path(folder).exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(postmaster), "the postmaster outlived the killed test run"
        assert not Path(folder).exists(), "the cluster's folder was left behind"
    finally:
        owner.kill()
        owner.wait()
