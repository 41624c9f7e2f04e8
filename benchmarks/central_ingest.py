"""Ingest rate of the reference central over loopback: ``python benchmarks/central_ingest.py``.

The server runs in its own process (as ``kiosk-central serve`` would); client threads in
this process post batches of 100 new transactions over keep-alive connections and count
what the server answered ``accepted``.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

KIOSK, TOKEN = "BENCH-0001", "bench-token"


def _serve(db_path: str, ready: mp.Queue, stop: mp.Event) -> None:
    from central.server import CentralServer

    with CentralServer(db_path, kiosks={KIOSK: {"token": TOKEN}}) as srv:
        ready.put(srv.url)
        stop.wait()


def _batch(size: int) -> dict:
    return {"kiosk_id": KIOSK, "transactions": [
        {"id": str(uuid.uuid4()), "service_id": "hpf-withdraw", "menu_version": 12,
         "created_at": "2026-11-24T09:30:00Z",
         "identity": {"method": "ga467", "id_number": "330106199001011234", "name": "张三"},
         "fields": {"phone": "13800000000", "amount": 12000, "reason": "purchase"}}
        for _ in range(size)]}


def run(total: int, clients: int, batch: int) -> dict:
    import requests

    with tempfile.TemporaryDirectory() as tmp:
        ready: mp.Queue = mp.Queue()
        stop = mp.Event()
        proc = mp.Process(target=_serve, args=(str(Path(tmp) / "bench.db"), ready, stop))
        proc.start()
        try:
            url = ready.get(timeout=30) + "/api/v1/transactions"
            per_client = total // clients // batch
            bodies = [[_batch(batch) for _ in range(per_client)] for _ in range(clients)]
            latencies: list[float] = []
            accepted = [0] * clients
            lock = threading.Lock()

            def client(i: int) -> None:
                headers = {"Authorization": f"Bearer {TOKEN}", "X-Kiosk-Id": KIOSK}
                with requests.Session() as s:
                    for body in bodies[i]:
                        t0 = time.perf_counter()
                        r = s.post(url, json=body, headers=headers, timeout=30)
                        dt = time.perf_counter() - t0
                        r.raise_for_status()
                        accepted[i] += sum(x["status"] == "accepted" for x in r.json()["results"])
                        with lock:
                            latencies.append(dt)

            threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
            t0 = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.perf_counter() - t0
        finally:
            stop.set()
            proc.join(timeout=30)
    latencies.sort()
    return {"accepted": sum(accepted), "seconds": round(elapsed, 2),
            "transactions_per_s": round(sum(accepted) / elapsed),
            "batch_ms_p50": round(statistics.median(latencies) * 1000, 1),
            "batch_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--total", type=int, default=50_000, help="transactions to send")
    p.add_argument("--clients", type=int, default=4, help="concurrent client connections")
    p.add_argument("--batch", type=int, default=100, help="transactions per request")
    args = p.parse_args()
    print(run(args.total, args.clients, args.batch))


if __name__ == "__main__":
    main()
