"""Every id enqueue() returned survives the process being killed at a random moment."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from offline_queue import OfflineQueue

REPO = Path(__file__).resolve().parents[2]
ROUNDS = 5

# The child prints each id only after enqueue() has returned it, as the kiosk shows the
# reference only after enqueue() returns.
CHILD = """
import sys
from offline_queue import OfflineQueue
queue = OfflineQueue(sys.argv[1])
print("ready", flush=True)
n = 0
while True:
    tx_id = queue.enqueue(
        "hpf-withdraw", {"n": n, "name": "张三"}, {"method": "pcsc-uid", "card_uid": "04A1B2"}
    )
    print(tx_id, flush=True)
    n += 1
"""


def run_and_kill(db_path: Path, delay: float) -> list[str]:
    """Start an enqueuing child, SIGKILL it ``delay`` s after it is ready; the ids it printed."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=env,
    )
    try:
        assert child.stdout.readline() == b"ready\n", child.stderr.read().decode()
        lines: list[bytes] = []
        # Read while the child runs, so it never blocks on a full pipe instead of enqueuing.
        reader = threading.Thread(target=lambda: lines.extend(child.stdout))
        reader.start()
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        reader.join(timeout=10)
    finally:
        child.kill()
        child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read().decode()
    # A line cut off by the kill has no newline: that id was never fully reported.
    return [line.decode().strip() for line in lines if line.endswith(b"\n")]


def test_printed_ids_survive_sigkill(tmp_path: Path) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    db_path = tmp_path / "queue.db"
    printed: list[str] = []

    for round_no in range(ROUNDS):
        ids = run_and_kill(db_path, delay=rng.uniform(0.05, 0.5))
        assert ids, f"round {round_no} (seed {seed}): the child enqueued nothing"
        printed.extend(ids)

        with OfflineQueue(db_path) as queue:
            assert queue.recovered_from is None, f"seed {seed}"
            missing = [tx_id for tx_id in printed if queue.get(tx_id) is None]
            assert missing == [], f"round {round_no} (seed {seed}): lost {len(missing)} ids"
            pending = queue.counts()["pending"]
        # At most one enqueue per round can have committed without its id being printed.
        assert len(printed) <= pending <= len(printed) + round_no + 1, f"seed {seed}"
