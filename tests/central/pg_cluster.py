"""A throw-away PostgreSQL cluster for the tests, from Debian's ``postgresql`` package.

PostgreSQL refuses to run as root, so as root ``initdb`` and ``pg_ctl`` run through
``runuser -u postgres --`` with the data folder in a temporary directory owned by
``postgres``; it listens on 127.0.0.1 and a free port, its socket in that directory.

A test run that is killed (a CI timeout, a technician's Ctrl-C twice, SIGKILL) never reaches
``stop()``, and a postmaster outlives its parent. So each started cluster has a watchdog: a
small process in its own session that stops the cluster and removes its folder once the
process that started it is gone.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg

# argv: the owner's pid, the folder, then the pg_ctl command that stops the cluster.
_WATCHDOG = """
import os, shutil, subprocess, sys, time
owner, folder, stop = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
while True:
    try:
        os.kill(owner, 0)
    except ProcessLookupError:
        break
    except PermissionError:
        pass
    if not os.path.isdir(folder):
        sys.exit(0)  # stopped by its owner
    time.sleep(1)
subprocess.run(stop, capture_output=True, timeout=120)
shutil.rmtree(folder, ignore_errors=True)
"""


class ClusterError(RuntimeError):
    """The cluster could not be made or started; the message carries its log."""


def find_bin() -> Path | None:
    """The newest installed ``/usr/lib/postgresql/<n>/bin`` with initdb, or None."""
    found = [Path(p) for p in glob.glob("/usr/lib/postgresql/*/bin")
             if (Path(p) / "initdb").exists()]
    found.sort(key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """``start()`` makes and starts a cluster; ``url(db)`` names a database in it;
    ``create_database()``/``drop_database()`` give each test its own; ``stop()`` removes it."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        # as root, in /tmp: the postgres user must reach it, and TMPDIR may be under /root
        self._as_root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="kiosk-pg-",
                                            dir="/tmp" if self._as_root else None))
        self.port = 0
        self._count = 0
        self._watchdog: subprocess.Popen | None = None

    def _command(self, *args: str) -> list[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        return ["runuser", "-u", "postgres", "--", *cmd] if self._as_root else cmd

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(self._command(*args), capture_output=True, text=True,
                              timeout=120)

    def _stop_command(self) -> list[str]:
        return self._command("pg_ctl", "-D", str(self.folder / "data"), "-m", "immediate",
                             "-w", "stop")

    def _start_watchdog(self) -> None:
        """Stops the cluster once this process is gone, however it went (see the top)."""
        watchdog = [sys.executable, "-c", _WATCHDOG, str(os.getpid()), str(self.folder),
                    *self._stop_command()]
        self._watchdog = subprocess.Popen(watchdog, start_new_session=True,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL)

    def start(self) -> Cluster:
        if self._as_root:
            shutil.chown(self.folder, "postgres", "postgres")
        data = self.folder / "data"
        init = self._run("initdb", "-D", str(data), "-U", "postgres", "-A", "trust",
                         "-E", "UTF8", "--locale=C", "--no-sync")
        if init.returncode != 0:
            raise ClusterError(f"initdb failed:\n{init.stdout}\n{init.stderr}")
        for _ in range(5):  # a port picked free may be taken before the server binds it
            self.port = _free_port()
            opts = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                    "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                    "-c max_connections=200")
            run = self._run("pg_ctl", "-D", str(data), "-o", opts, "-l",
                            str(self.folder / "server.log"), "-w", "-t", "60", "start")
            if run.returncode == 0:
                self._start_watchdog()
                return self
        log = (self.folder / "server.log").read_text(errors="replace")[-4000:]
        raise ClusterError(f"pg_ctl start failed:\n{run.stdout}\n{run.stderr}\n{log}")

    def stop(self) -> None:
        if self.port:
            subprocess.run(self._stop_command(), capture_output=True, timeout=120)
        shutil.rmtree(self.folder, ignore_errors=True)
        if self._watchdog is not None:  # it leaves within a second of the folder going
            self._watchdog.wait(timeout=10)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self) -> str:
        """A new empty database; its URL."""
        self._count += 1
        name = f"kiosk_test_{os.getpid()}_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(psycopg.Error), \
                psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
