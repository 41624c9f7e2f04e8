"""End to end: the kiosk's own command line against the reference central over real HTTP.

Includes the crash test of the issue: a syncing process is killed with SIGKILL at random
moments, over and over, and afterwards the server holds every transaction exactly once and
the kiosk shows every one sent.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from e2e_setup import write_kiosk_config

from offline_queue import OfflineQueue

ROOT = Path(__file__).resolve().parents[2]
KIOSK, TOKEN = "E2E-0001", "e2e-token-1234"


@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN}})


def kiosk_config(tmp_path: Path, url: str) -> Path:
    return write_kiosk_config(tmp_path, KIOSK, TOKEN, url, max_backoff_s=2)


def kiosk_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "kiosk", *args]


def run_kiosk(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(kiosk_cmd(*args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)


def enqueue(tmp_path: Path, n: int) -> list[str]:
    with OfflineQueue(tmp_path / "data" / "queue.db") as q:
        return [q.enqueue("hpf-withdraw", {"phone": "13912345678", "amount": i},
                          {"method": "ga467", "id_number": "330106195503120016",
                           "name": "张建国"}, menu_version=1) for i in range(n)]


def server_ids(central) -> set[str]:
    with central.store._db() as db:
        rows = db.execute("SELECT id FROM transactions").fetchall()
    return {r[0] for r in rows}


def test_sync_once_uploads_everything_and_queue_status_shows_it(tmp_path, central):
    cfg = kiosk_config(tmp_path, central.url)
    ids = enqueue(tmp_path, 250)
    result = run_kiosk("sync", "--once", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert server_ids(central) == set(ids)
    stored = central.store.transaction(ids[0])
    assert stored["identity"]["id_number"] == "330106195503120016"
    status = run_kiosk("queue", "status", "--json", "--config", str(cfg), cwd=tmp_path)
    assert json.loads(status.stdout) == {"pending": 0, "sent": 250, "rejected": 0,
                                         "oldest_pending_s": None}


def test_sync_once_with_the_server_down_exits_1_with_one_line(tmp_path, central):
    cfg = kiosk_config(tmp_path, central.url)
    enqueue(tmp_path, 3)
    central.stop()
    result = run_kiosk("sync", "--once", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "pending 3" in result.stdout


def test_sync_once_with_a_wrong_token_reports_auth(tmp_path, central):
    cfg = kiosk_config(tmp_path, central.url)
    (tmp_path / "token").write_text("wrong\n")
    enqueue(tmp_path, 2)
    result = run_kiosk("sync", "--once", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 1
    assert "auth_failed" in result.stdout and "401" in result.stderr
    assert server_ids(central) == set()


def test_sigkill_while_syncing_loses_and_doubles_nothing(tmp_path, central):
    """Rounds of: new transactions, a syncing process started, SIGKILL at a random moment;
    until 50 kills have landed while the process was still running."""
    seed = int(os.environ.get("KIOSK_TEST_SEED", time.time()))
    rng = random.Random(seed)
    cfg = kiosk_config(tmp_path, central.url)
    central.faults.delay_s = 0.08  # stretch each upload so kills land mid-batch
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    all_ids: list[str] = []
    rounds = landed = 0
    while landed < 50 and rounds < 250:
        rounds += 1
        all_ids += enqueue(tmp_path, rng.randint(50, 250))
        proc = subprocess.Popen(kiosk_cmd("sync", "--once", "--config", str(cfg)),
                                cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.1, 0.6))
        if proc.poll() is None:
            landed += 1
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    central.faults.delay_s = 0.0
    assert landed >= 50, f"only {landed} of {rounds} kills landed mid-run (seed {seed})"
    result = run_kiosk("sync", "--once", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert server_ids(central) == set(all_ids), f"seed {seed}"
    assert central.store.transactions_count() == len(all_ids)  # each exactly once
    with OfflineQueue(tmp_path / "data" / "queue.db") as q:
        assert q.counts() == {"pending": 0, "sent": len(all_ids), "rejected": 0}
