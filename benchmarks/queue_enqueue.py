"""Enqueue rate of OfflineQueue against plain sqlite3 inserts with the same pragmas.

Each run is a fresh process and a fresh database in a temporary folder; the two kinds of run
alternate and the figures are medians. The aim is at least 0.8 of the plain rate.

    python benchmarks/queue_enqueue.py [--n 500] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENTITY = {"method": "ga467", "id_number": "330106195503120016", "name": "王秀英"}
FIELDS = {"phone": "13912345678", "address": "浙江省杭州市西湖区文三路 90 号", "amount": 1200.5}


def plain_rate(folder: Path, n: int) -> float:
    import sqlite3

    conn = sqlite3.connect(folder / "plain.db", isolation_level=None)
    for pragma in ("busy_timeout = 5000", "journal_mode = wal", "synchronous = FULL",
                   "secure_delete = ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, service_id TEXT, menu_version INTEGER,"
                 " created_at TEXT, created_ts REAL, identity TEXT, fields TEXT,"
                 " state TEXT DEFAULT 'pending', next_attempt_at REAL)")
    conn.execute("CREATE INDEX t_due ON t (state, next_attempt_at, created_ts)")
    start = time.perf_counter()
    for _ in range(n):  # one committed transaction per row, as enqueue() does
        conn.execute("BEGIN")
        conn.execute(
            "INSERT INTO t (id, service_id, menu_version, created_at, created_ts, identity,"
            " fields) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), "hpf-withdraw", 1, "2026-11-24T09:30:00Z", time.time(),
             json.dumps(IDENTITY, ensure_ascii=False), json.dumps(FIELDS, ensure_ascii=False)),
        )
        conn.execute("COMMIT")
    return n / (time.perf_counter() - start)


def queue_rate(folder: Path, n: int) -> float:
    sys.path.insert(0, str(ROOT))
    from offline_queue import OfflineQueue

    with OfflineQueue(folder / "queue.db") as queue:
        start = time.perf_counter()
        for _ in range(n):
            queue.enqueue("hpf-withdraw", FIELDS, IDENTITY, menu_version=1)
        return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="transactions per run")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--child", choices=["plain", "queue"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        with tempfile.TemporaryDirectory() as folder:
            rate = {"plain": plain_rate, "queue": queue_rate}[args.child]
            print(rate(Path(folder), args.n))
        return
    rates: dict[str, list[float]] = {"plain": [], "queue": []}
    for _ in range(args.runs):
        for kind in rates:
            out = subprocess.run(
                [sys.executable, __file__, "--child", kind, "--n", str(args.n)],
                capture_output=True, text=True, check=True,
            ).stdout
            rates[kind].append(float(out))
    median = {kind: statistics.median(values) for kind, values in rates.items()}
    for kind, values in rates.items():
        print(f"{kind:6s} {median[kind]:7.0f}/s median ({1e6 / median[kind]:.0f} us each), "
              f"min {min(values):.0f}, max {max(values):.0f}")
    print(f"queue / plain = {median['queue'] / median['plain']:.2f} (aim >= 0.80)")


if __name__ == "__main__":
    main()
