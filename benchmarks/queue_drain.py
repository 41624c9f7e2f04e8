"""Draining a full offline queue into the reference central (issue #3).

    python benchmarks/queue_drain.py [--count 100000] [--json]

One run, four steps, each child a fresh process:

1. fill: ``OfflineQueue.enqueue`` writes ``--count`` transactions (a ga467 identity with a
   Chinese name and an 18-character ID number, 2-4 fields), one committed transaction each.
2. baseline: a child reads the same transactions back (``due_batch``, not timed), then POSTs
   their wire dicts in batches of 100 with a plain ``requests.Session`` to a fresh central
   process: no queue, no encryption, no marking. The ratio drain / baseline is what the
   queue's bookkeeping costs against raw HTTP.
3. drain: a child opens the queue, takes its RSS, and calls
   ``Uploader(queue, CentralClient(...)).sync_once()`` until nothing is pending (batches of
   100, decryption and ``mark_sent`` included) against another fresh central process, while
   a thread samples VmRSS and VmHWM.
4. check: each central holds exactly ``--count`` transactions, the queue ``--count`` sent.

Aims: the drain at least 2,000 transactions/s, RSS growth (peak - start) under 50 MB
(MB = 10^6 bytes).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from importlib import metadata
from pathlib import Path

from bench_common import central_process, cpu_model

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KIOSK, TOKEN = "BENCH-0001", "bench-token"
BATCH = 100
AIM_RATE = 2000  # transactions/s
AIM_GROWTH_MB = 50.0
SAMPLE_S = 0.05

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
GIVEN = "秀英桂芳建国明华玉兰志强丽娟小红文杰海燕淑珍永福金凤德胜春梅家豪子涵雨轩"
AREAS = ("330106", "330102", "330682", "331081", "330282", "330381", "330521", "330902")
# Three services of the kind a village kiosk offers, with 2, 3 and 4 answers.
SERVICES = ("hpf-withdraw", "pension-certify", "medical-reimburse")


# --- the transactions ---------------------------------------------------------------------

def content(i: int) -> tuple[str, dict, dict]:
    """Service id, fields and identity of the ``i``-th transaction (deterministic)."""
    from contract.personal import id_check_char

    name = SURNAMES[i % len(SURNAMES)] + GIVEN[(i * 7) % len(GIVEN)]
    if i % 3:
        name += GIVEN[(i * 13 + 5) % len(GIVEN)]
    birth = f"{1940 + i % 60}{1 + i % 12:02d}{1 + i % 28:02d}"
    first17 = f"{AREAS[i % len(AREAS)]}{birth}{i % 1000:03d}"
    identity = {"method": "ga467", "id_number": first17 + id_check_char(first17), "name": name}
    phone = f"13{i % 10}{i * 7919 % 100_000_000:08d}"
    kind = i % 3
    if kind == 0:
        fields = {"phone": phone, "amount": 500 + i % 50 * 100}
    elif kind == 1:
        fields = {"phone": phone, "village": "西湖区转塘街道上城埭村",
                  "certify_year": 2026}
    else:
        fields = {"phone": phone, "hospital": "杭州市第一人民医院", "amount": 1234.5 + i % 97,
                  "bank_card": f"6217{i * 104729 % 10**12:012d}"}
    return SERVICES[kind], fields, identity


# --- the children -------------------------------------------------------------------------

def child_fill(folder: Path, count: int) -> dict:
    from offline_queue import OfflineQueue

    rows = [content(i) for i in range(count)]
    with OfflineQueue(folder / "queue.db") as queue:
        t0 = time.perf_counter()
        for service_id, fields, identity in rows:
            queue.enqueue(service_id, fields, identity, menu_version=12)
        seconds = time.perf_counter() - t0
        pending = queue.counts()["pending"]
    return {"count": count, "pending": pending, "seconds": seconds,
            "transactions_per_s": count / seconds,
            "db_bytes": (folder / "queue.db").stat().st_size}


def child_baseline(folder: Path, url: str) -> dict:
    import requests

    from offline_queue import OfflineQueue
    from uplink.uploader import wire_transaction

    t0 = time.perf_counter()
    with OfflineQueue(folder / "queue.db") as queue:
        wire = [wire_transaction(tx) for tx in queue.due_batch(limit=10**9)]
    read_s = time.perf_counter() - t0
    bodies = [{"kiosk_id": KIOSK, "transactions": wire[i:i + BATCH]}
              for i in range(0, len(wire), BATCH)]
    headers = {"Authorization": f"Bearer {TOKEN}", "X-Kiosk-Id": KIOSK,
               "Content-Type": "application/json"}
    accepted = 0
    with requests.Session() as session:
        session.trust_env = False
        t0 = time.perf_counter()
        for body in bodies:  # serialised as CentralClient does: UTF-8, not \u escapes
            data = json.dumps(body, ensure_ascii=False).encode()
            r = session.post(url + "/api/v1/transactions", data=data, headers=headers,
                             timeout=30)
            r.raise_for_status()
            accepted += sum(x["status"] == "accepted" for x in r.json()["results"])
        seconds = time.perf_counter() - t0
    return {"count": len(wire), "accepted": accepted, "requests": len(bodies),
            "seconds": seconds, "transactions_per_s": accepted / seconds, "read_back_s": read_s}


def _proc_status() -> dict[str, int]:
    """VmRSS and VmHWM of this process, in bytes."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value, _unit = line.split()
                out[key[:-1]] = int(value) * 1024
    return out


def child_drain(folder: Path, url: str) -> dict:
    from offline_queue import OfflineQueue
    from uplink.client import CentralClient
    from uplink.uploader import Uploader

    queue = OfflineQueue(folder / "queue.db")
    rss_start = _proc_status()["VmRSS"]
    try:  # restart VmHWM from the current RSS, so that the peak is the drain's own
        Path("/proc/self/clear_refs").write_text("5")
        hwm_reset = True
    except OSError:
        hwm_reset = False
    pending_before = queue.counts()["pending"]
    uploader = Uploader(queue, CentralClient(url, KIOSK, folder / "token"))

    samples: list[tuple[float, int]] = []
    done = threading.Event()

    def sample() -> None:
        while True:
            samples.append((time.perf_counter(), _proc_status()["VmRSS"]))
            if done.wait(SAMPLE_S):
                return

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    rounds, sent = 0, 0
    t0 = time.perf_counter()
    while True:
        report = uploader.sync_once()
        rounds += 1
        sent += report.sent
        if report.state != "ok" or report.failed or report.rejected or report.duplicate:
            raise SystemExit(f"drain stopped: {report}")
        if report.pending_left == 0:
            break
    seconds = time.perf_counter() - t0
    done.set()
    sampler.join()
    status = _proc_status()
    counts = queue.counts()
    queue.close()
    rss = [r for _, r in samples]
    quarter = [rss[min(len(rss) - 1, len(rss) * k // 4)] for k in (1, 2, 3)] + [rss[-1]]
    return {"pending_before": pending_before, "sent": sent, "rounds": rounds,
            "seconds": seconds, "transactions_per_s": sent / seconds,
            "rss_start": rss_start, "rss_peak": status["VmHWM"], "hwm_reset": hwm_reset,
            "rss_sampled_max": max(rss), "rss_end": status["VmRSS"],
            "rss_at_quarters": quarter, "samples": len(rss),
            "growth": status["VmHWM"] - rss_start, "counts": counts}


# --- the parent ---------------------------------------------------------------------------

def serving(db_path: Path) -> contextlib.AbstractContextManager[str]:
    """A reference central in its own process on a fresh database; yields its URL."""
    return central_process(db_path, {KIOSK: {"token": TOKEN}})


def stored(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return conn.execute("SELECT count(*) FROM transactions").fetchone()[0]


def run_child(kind: str, folder: Path, *extra: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, "--folder", str(folder),
                          *extra], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise SystemExit(f"{kind} child failed:\n{out.stderr}")
    return json.loads(out.stdout)


def machine() -> str:
    model = cpu_model()
    return (f"{os.cpu_count()} x {model}, Python {platform.python_version()}, "
            f"SQLite {sqlite3.sqlite_version}, requests {metadata.version('requests')}, "
            f"cryptography {metadata.version('cryptography')}")


def run(count: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="queue-drain-") as tmp:
        folder = Path(tmp)
        (folder / "token").write_text(TOKEN + "\n")
        fill = run_child("fill", folder, "--count", str(count))
        with serving(folder / "baseline.db") as url:
            baseline = run_child("baseline", folder, "--url", url)
        baseline["stored"] = stored(folder / "baseline.db")
        with serving(folder / "central.db") as url:
            drain = run_child("drain", folder, "--url", url)
        drain["stored"] = stored(folder / "central.db")
    ok = (baseline["stored"] == count and baseline["accepted"] == count
          and drain["stored"] == count and drain["sent"] == count
          and drain["counts"] == {"pending": 0, "sent": count, "rejected": 0})
    return {"count": count, "batch": BATCH, "machine": machine(), "fill": fill,
            "baseline": baseline, "drain": drain,
            "ratio": drain["transactions_per_s"] / baseline["transactions_per_s"],
            "rate_pass": drain["transactions_per_s"] >= AIM_RATE,
            "growth_pass": drain["growth"] / 1e6 < AIM_GROWTH_MB, "check_pass": ok}


def table(r: dict) -> str:
    f, b, d = r["fill"], r["baseline"], r["drain"]

    def mb(v: int) -> str:
        return f"{v / 1e6:.1f} MB"

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "MISS"

    rows = [
        ("fill: OfflineQueue.enqueue, a commit each", f"{f['transactions_per_s']:,.0f}/s",
         f"{f['seconds']:.1f} s", "", ""),
        ("baseline: requests.Session, plain POSTs", f"{b['transactions_per_s']:,.0f}/s",
         f"{b['seconds']:.1f} s", "", ""),
        ("drain: Uploader.sync_once until empty", f"{d['transactions_per_s']:,.0f}/s",
         f"{d['seconds']:.1f} s", f">= {AIM_RATE:,}/s", verdict(r["rate_pass"])),
        ("ratio drain / baseline", f"{r['ratio']:.2f}", "", "", ""),
        ("drain: RSS after opening the queue", mb(d["rss_start"]), "", "", ""),
        ("drain: peak RSS (VmHWM)", mb(d["rss_peak"]), "", "", ""),
        ("drain: RSS growth (peak - start)", mb(d["growth"]), "", f"< {AIM_GROWTH_MB:.0f} MB",
         verdict(r["growth_pass"])),
    ]
    lines = [
        f"Draining the queue (issue #3): {r['count']:,} transactions, batches of {r['batch']},"
        " central on loopback in its own process",
        r["machine"], "",
        f"{'measure':42s}  {'value':>9s}  {'time':>7s}  {'aim':>11s}",
        f"{'-' * 42}  {'-' * 9}  {'-' * 7}  {'-' * 11}  ----",
    ]
    lines += [f"{a:42s}  {v:>9s}  {t:>7s}  {aim:>11s}  {ok}".rstrip() for a, v, t, aim, ok in rows]
    quarters = ", ".join(f"{v / 1e6:.1f}" for v in d["rss_at_quarters"])
    lines += [
        "",
        f"RSS during the drain at 1/4, 1/2, 3/4, end (MB): {quarters}; sampled max "
        f"{d['rss_sampled_max'] / 1e6:.1f} MB ({d['samples']} samples every {SAMPLE_S:g} s)",
        f"queue file {f['db_bytes'] / 1e6:.1f} MB; baseline read the queue back in "
        f"{b['read_back_s']:.1f} s (not timed); sync_once calls: {d['rounds']}",
        f"check: central (drain) holds {d['stored']:,}, central (baseline) {b['stored']:,}; "
        f"queue {d['counts']} -> {'OK' if r['check_pass'] else 'WRONG'}",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000, help="transactions to drain")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--child", choices=["fill", "baseline", "drain"], help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "fill":
        print(json.dumps(child_fill(args.folder, args.count)))
    elif args.child == "baseline":
        print(json.dumps(child_baseline(args.folder, args.url)))
    elif args.child == "drain":
        print(json.dumps(child_drain(args.folder, args.url)))
    else:
        result = run(args.count)
        print(json.dumps(result, indent=1) if args.json else table(result))
        if not result["check_pass"]:
            sys.exit(1)


if __name__ == "__main__":
    main()
