"""The servers of ``central_fleet.py``: a durable PostgreSQL cluster, the central on it with
several workers, and the previous stdlib central (commit ``abfc9fc``) as the baseline; CPU
time of a process tree from /proc."""

from __future__ import annotations

import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from fleet_load import kiosk_id, kiosk_token

REPO = Path(__file__).resolve().parent.parent
BASELINE_COMMIT = "abfc9fc"
BASELINE_TREES = ("central", "contract", "kiosk", "offline_queue", "uplink", "drivers",
                  "config")
LISTENING = re.compile(r"listening on (https?://\S+)")
TICK = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A server that could not be started; the message says why."""


def write_kiosks(path: Path, count: int, groups: int = 20) -> Path:
    lines = []
    for i in range(count):
        lines += [f"[kiosks.{kiosk_id(i)}]", f'token = "{kiosk_token(i)}"',
                  f'group = "g{i % groups:02d}"', ""]
    path.write_text("\n".join(lines))
    path.chmod(0o600)
    return path


class PostgresCluster:
    """A throw-away cluster as production would run it: fsync and synchronous commit on."""

    def __init__(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise BenchError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bindir = Path(found[-1]).parent
        self.root = os.geteuid() == 0
        self.folder = Path(tempfile.mkdtemp(prefix="fleet-pg-", dir="/tmp"))
        self.port = 0

    def _run(self, *args: str) -> subprocess.CompletedProcess:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresCluster:
        if self.root:
            shutil.chown(self.folder, "postgres", "postgres")
        init = self._run("initdb", "-D", str(self.folder / "data"), "-U", "postgres",
                         "-A", "trust", "-E", "UTF8", "--locale=C")
        if init.returncode != 0:
            raise BenchError(f"initdb failed: {init.stderr}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        opts = (f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
                "-c max_connections=300 -c shared_buffers=512MB -c max_wal_size=4GB "
                "-c shared_preload_libraries=pg_stat_statements")
        run = self._run("pg_ctl", "-D", str(self.folder / "data"), "-o", opts, "-l",
                        str(self.folder / "server.log"), "-w", "-t", "60", "start")
        if run.returncode != 0:
            raise BenchError(f"pg_ctl start failed: {run.stderr}")
        return self

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def postmaster_pid(self) -> int:
        return int((self.folder / "data" / "postmaster.pid").read_text().split()[0])

    def stop(self) -> None:
        if self.port:
            self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


class CentralProcess:
    """``python -m central serve ...`` in a process of its own; ``url`` once it listens."""

    def __init__(self, args: list[str], *, pythonpath: Path, cwd: Path, log: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(pythonpath)}
        self._log = log.open("wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "central", "serve", *args],
                                     cwd=cwd, env=env, stdout=subprocess.PIPE,
                                     stderr=self._log, start_new_session=True)
        self.url = self._wait_listening(log)
        self.host, port = self.url.rsplit("//", 1)[1].rsplit(":", 1)
        self.port = int(port)

    def _wait_listening(self, log: Path) -> str:
        found: list[str] = []

        def read() -> None:
            for raw in self.proc.stdout:  # type: ignore[union-attr]
                m = LISTENING.search(raw.decode(errors="replace"))
                if m and not found:
                    found.append(m.group(1))
        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 120
        while not found:
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise BenchError(f"the central did not start: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        return found[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()


def extract_baseline(folder: Path) -> str | None:
    """The stdlib central of ``BASELINE_COMMIT`` unpacked in ``folder``; None with the
    reason when git or the commit is not there."""
    if shutil.which("git") is None:
        return "git is not installed"
    trees = [t for t in BASELINE_TREES if subprocess.run(
        ["git", "-C", str(REPO), "cat-file", "-e", f"{BASELINE_COMMIT}:{t}"],
        capture_output=True).returncode == 0]
    if "central" not in trees:
        return f"commit {BASELINE_COMMIT} is not in this repository"
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BASELINE_COMMIT, *trees],
                             capture_output=True)
    if archive.returncode != 0:
        return archive.stderr.decode(errors="replace").strip()
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return None


def _tree_stats(root: int) -> dict[int, list[str]]:
    """``/proc/<pid>/stat`` fields (after the command name) of ``root`` and every living
    descendant, by pid."""
    parents: dict[int, int] = {}
    fields: dict[int, list[str]] = {}
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            raw = Path(stat).read_text()
        except OSError:
            continue
        pid = int(raw.split(" ", 1)[0])
        fields[pid] = raw.rsplit(")", 1)[1].split()
        parents[pid] = int(fields[pid][1])
    tree = {}
    for pid, own in fields.items():
        p = pid
        while p > 1 and p != root:
            p = parents.get(p, 0)
        if p == root:
            tree[pid] = own
    return tree


def tree_cpu_s(root: int) -> float:
    """User + system CPU seconds of ``root`` and every living descendant."""
    ticks = sum(int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
                for f in _tree_stats(root).values())
    return ticks / TICK


def tree_threads_ns(root: int) -> dict[int, int]:
    """Nanoseconds on a CPU of every living thread of ``root`` and its descendants, by thread
    id (``/proc/<pid>/task/<tid>/schedstat``): exact, where ``tree_cpu_s`` counts 10 ms
    ticks, too coarse for a few dozen cheap requests."""
    out: dict[int, int] = {}
    for pid in _tree_stats(root):
        for sched in glob.glob(f"/proc/{pid}/task/[0-9]*/schedstat"):
            try:
                out[int(sched.split("/")[4])] = int(Path(sched).read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return out


def cpu_since_s(before: dict[int, int], root: int) -> float:
    """CPU seconds the threads of ``root``'s tree used since ``before`` (``tree_threads_ns``);
    a thread that ended meanwhile is not counted, one that began is counted whole."""
    now = tree_threads_ns(root)
    return sum(max(0, ns - before.get(tid, 0)) for tid, ns in now.items()) / 1e9


def keygen(folder: Path) -> Path:
    key = folder / "bench.key"
    subprocess.run([sys.executable, "-m", "central", "keygen", "--out", str(key)],
                   cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, check=True,
                   capture_output=True)
    return key
