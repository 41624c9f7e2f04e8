"""The admins' fleet page at 20,000 kiosks: ``python benchmarks/central_fleet_page.py``.

A central in this process (``CentralServer``, fresh SQLite database) with 20,000 kiosks in
four groups; each kiosk sends one heartbeat over loopback (one in ten with its printer out of
paper, one in fifty never). Then the page and its JSON twin are fetched again and again over
keep-alive connections, unfiltered and filtered; the time is from request to the last byte.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench_common import cpu_model

ADMIN_TOKEN = "bench-admin-token-0123456789"
GROUPS = ["hangzhou", "ningbo", "wenzhou", "shaoxing"]


def _kiosks(n: int) -> dict[str, dict[str, str]]:
    return {f"ZJ-{i:05d}": {"token": f"bench-token-{i:05d}", "group": GROUPS[i % 4]}
            for i in range(n)}


def _beat(url: str, kiosk: str, token: str, i: int, session) -> None:
    body = {"kiosk_id": kiosk, "time": "2026-11-24T09:31:00Z", "app_version": "0.5.0",
            "menu_version": 1, "menu_rejected": None,
            "queue": {"pending": 0, "oldest_pending_s": None, "rejected": 0},
            "devices": {"printer": {"state": "online",
                                    "paper": "out" if i % 10 == 0 else "full"}}}
    r = session.post(f"{url}/api/v1/kiosks/{kiosk}/heartbeat", json=body, timeout=30,
                     headers={"Authorization": f"Bearer {token}", "X-Kiosk-Id": kiosk})
    r.raise_for_status()


def run(n: int, rounds: int) -> dict[str, list[float]]:
    import threading

    import requests

    from central.server import CentralServer

    kiosks = _kiosks(n)
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "s"):
            local.s = requests.Session()
        return local.s

    with tempfile.TemporaryDirectory() as tmp, CentralServer(
            Path(tmp) / "c.db", kiosks=kiosks,
            admins={"bench": {"token": ADMIN_TOKEN}}) as srv:
        t0 = time.perf_counter()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda item: _beat(srv.url, item[1][0], item[1][1]["token"],
                                             item[0], session()),
                          [(i, kv) for i, kv in enumerate(kiosks.items()) if i % 50]))
        print(f"{n - n // 50} heartbeats posted in {time.perf_counter() - t0:.1f} s")
        times: dict[str, list[float]] = {}
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
        with requests.Session() as s:
            for name, path in [("page", "/admin/fleet"),
                               ("page, status=bad", "/admin/fleet?status=bad"),
                               ("page, group and id search", "/admin/fleet?group=ningbo&q=123"),
                               ("page 150", "/admin/fleet?page=150"),
                               ("JSON", "/api/v1/admin/fleet")]:
                s.get(srv.url + path, headers=auth, timeout=60).raise_for_status()  # warm
                for _ in range(rounds):
                    t = time.perf_counter()
                    r = s.get(srv.url + path, headers=auth, timeout=60)
                    r.raise_for_status()
                    times.setdefault(name, []).append((time.perf_counter() - t) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    print(f"fleet page at {args.kiosks} kiosks; CPU {cpu_model()}")
    for name, ms in run(args.kiosks, args.rounds).items():
        ms.sort()
        print(f"{name:28s} median {statistics.median(ms):6.1f} ms   p95 "
              f"{ms[int(len(ms) * 0.95) - 1]:6.1f} ms   max {ms[-1]:6.1f} ms")


if __name__ == "__main__":
    main()
