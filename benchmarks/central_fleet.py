"""A province's fleet against kiosk-central on one machine: ``python benchmarks/central_fleet.py``.

Issue #13 item 8. A simulated fleet of 20,000 kiosks on loopback, the load generator on the
same machine (``fleet_load.py``: asyncio, each request on its own connection, in processes
of its own), against the central on PostgreSQL with several workers and, in the same run, the
previous stdlib central (commit abfc9fc, http.server on one SQLite file) as the baseline.
Phases, for each server:

1. steady: 20,000 kiosks' everyday load, 333 heartbeats/s + 70 single uploads/s;
2. mixed: 2,000 requests/s (heartbeats, single uploads, menu checks 304 and full menus);
3. backlog: 1,000,000 transactions in batches of 100 (after an outage), as fast as it goes;
4. held: the steady load while 1,000 slow or idle connections are held open.

``--quick`` is the CI variant (2 s phases, 2,000 kiosks, a 5,000 transaction backlog).
``--json-out FILE`` writes the whole report; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fleet_report
from fleet_load import kiosk_id, kiosk_token
from fleet_servers import (
    REPO,
    BenchError,
    CentralProcess,
    PostgresCluster,
    extract_baseline,
    keygen,
    tree_cpu_s,
    write_kiosks,
)

FULL = {"kiosks": 20_000, "seconds": 60.0, "backlog_tx": 1_000_000, "hold": 1000}
QUICK = {"kiosks": 2_000, "seconds": 2.0, "backlog_tx": 5_000, "hold": 100}
STEADY = {"heartbeat": 20_000 / 60, "upload": 70.0}
MIXED = {"heartbeat": 1000.0, "upload": 700.0, "menu304": 200.0, "menu200": 100.0}


PHASES = ("steady", "mixed", "backlog", "held")


def _phases(text: str) -> list[str]:
    kinds = [k.strip() for k in text.split(",") if k.strip()]
    unknown = sorted(set(kinds) - set(PHASES))
    if unknown or not kinds:
        raise argparse.ArgumentTypeError(f"phases are {', '.join(PHASES)}; not {unknown}")
    return kinds


def run_jobs(jobs: list[dict]) -> list[dict]:
    """Each job in a ``fleet_load.py`` process of its own; their results."""
    script = str(Path(__file__).with_name("fleet_load.py"))
    procs = [subprocess.Popen([sys.executable, script], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": ""})
             for _ in jobs]
    for proc, job in zip(procs, jobs, strict=True):
        proc.stdin.write(json.dumps(job).encode())  # type: ignore[union-attr]
        proc.stdin.close()  # type: ignore[union-attr]
    results = []
    for proc in procs:
        out = proc.stdout.read()  # type: ignore[union-attr]
        if proc.wait() != 0:
            raise BenchError("a load generator failed")
        results.append(json.loads(out))
    return results


def shares(opts: dict, procs: int) -> list[list[int]]:
    return [[i for i in range(opts["kiosks"]) if i % procs == p] for p in range(procs)]


def phase_open(target: dict, opts: dict, rates: dict, hold: int = 0) -> dict:
    procs = opts["procs"]
    start_at = time.time() + 2.0
    jobs = [{"mode": "open", "host": target["host"], "port": target["port"],
             "etag": target["etag"], "kiosks": kiosks, "offset": p / procs,
             "rates": {k: r / procs for k, r in rates.items()}, "seconds": opts["seconds"],
             "start_at": start_at, "hold": hold // procs}
            for p, kiosks in enumerate(shares(opts, procs))]
    return _timed(target, jobs, start_at, opts["seconds"])


def phase_backlog(target: dict, opts: dict) -> dict:
    procs, batch = opts["procs"], 100
    batches = opts["backlog_tx"] // batch
    start_at = time.time() + 2.0
    jobs = [{"mode": "backlog", "host": target["host"], "port": target["port"],
             "kiosks": kiosks, "batches": batches // procs + (p < batches % procs),
             "batch": batch, "concurrency": opts["concurrency"] // procs,
             "start_at": start_at} for p, kiosks in enumerate(shares(opts, procs))]
    return _timed(target, jobs, start_at, None)


def _timed(target: dict, jobs: list[dict], start_at: float, seconds: float | None) -> dict:
    cpu0 = {name: tree_cpu_s(pid) for name, pid in target["pids"].items()}
    results = run_jobs(jobs)
    wall = seconds
    if wall is None:
        wall = max(r["ended"] for r in results) - min(r["started"] for r in results)
    else:
        wall = max(wall, time.time() - start_at)
    cpu = {name: round(tree_cpu_s(pid) - cpu0[name], 1) for name, pid in target["pids"].items()}
    cpu["load generator"] = round(sum(r["cpu_s"] for r in results), 1)
    return fleet_report.merge(results, wall, cpu)


def etag_of(host: str, port: int) -> str | None:
    import http.client

    conn = http.client.HTTPConnection(host, port, timeout=30)
    conn.request("GET", f"/api/v1/kiosks/{kiosk_id(0)}/menu",
                 headers={"Authorization": f"Bearer {kiosk_token(0)}",
                          "X-Kiosk-Id": kiosk_id(0)})
    response = conn.getresponse()
    response.read()
    conn.close()
    return response.getheader("ETag")


def run_target(name: str, central: CentralProcess, extra_pids: dict, opts: dict) -> dict:
    target = {"host": central.host, "port": central.port,
              "etag": etag_of(central.host, central.port),
              "pids": {"central": central.proc.pid, **extra_pids}}
    print(f"{name}: {central.url}", file=sys.stderr)
    runs = {"steady": lambda: phase_open(target, opts, STEADY),
            "mixed": lambda: phase_open(target, opts, MIXED),
            "backlog": lambda: phase_backlog(target, opts),
            "held": lambda: phase_open(target, opts, STEADY, opts["hold"])}
    phases: dict[str, dict] = {}
    for kind in opts["phases"]:  # a repeat is named "steady-2", "steady-3", ...
        seen = sum(k.split("-")[0] == kind for k in phases)
        phase = kind if not seen else f"{kind}-{seen + 1}"
        print(f"{name}: {phase} ...", file=sys.stderr)
        phases[phase] = runs[kind]()
        print(f"{name}: {phase}: {fleet_report.one_line(phases[phase])}", file=sys.stderr)
    return {"url": central.url, "phases": phases}


def run_postgres(folder: Path, kiosks: Path, key: Path, opts: dict) -> dict:
    import psycopg

    cluster = PostgresCluster().start()
    try:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE fleet")
        with psycopg.connect(cluster.url("fleet"), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
        central = CentralProcess(
            ["--db", cluster.url("fleet"), "--kiosks", str(kiosks), "--port", "0",
             "--workers", str(opts["workers"]), "--db-pool", str(opts["db_pool"]),
             "--menu", str(REPO / "config" / "menu.default.json"),
             "--signing-key", str(key), "--key-id", "bench"],
            pythonpath=REPO, cwd=REPO, log=folder / "central-postgres.log")
        try:
            result = run_target("postgres", central,
                                {"postgres": cluster.postmaster_pid()}, opts)
        finally:
            central.stop()
        result["top_statements"] = fleet_report.top_statements(cluster.url("fleet"))
        result["workers"], result["db_pool"] = opts["workers"], opts["db_pool"]
        return result
    finally:
        cluster.stop()


def run_baseline(folder: Path, kiosks: Path, key: Path, opts: dict) -> dict:
    tree = folder / "baseline"
    tree.mkdir()
    why = extract_baseline(tree)
    if why is not None:
        return {"skipped": why}
    menu = tree / "config" / "menu.default.json"
    central = CentralProcess(
        ["--db", str(folder / "baseline.db"), "--kiosks", str(kiosks), "--port", "0",
         "--menu", str(menu if menu.exists() else REPO / "config" / "menu.default.json"),
         "--signing-key", str(key), "--key-id", "bench"],
        pythonpath=tree, cwd=tree, log=folder / "central-baseline.log")
    try:
        return run_target("baseline", central, {}, opts)
    finally:
        central.stop()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the CI variant: seconds, not minutes")
    p.add_argument("--workers", type=int, default=2, help="central worker processes")
    p.add_argument("--db-pool", type=int, default=8, help="PostgreSQL connections a worker")
    p.add_argument("--procs", type=int, default=2, help="load generator processes")
    p.add_argument("--concurrency", type=int, default=16, help="backlog uploads in flight")
    p.add_argument("--no-baseline", action="store_true", help="only the PostgreSQL central")
    p.add_argument("--json-out", metavar="FILE", help="write the whole report as JSON")
    p.add_argument("--phases", default=",".join(PHASES), type=_phases,
                   help="the phases in order, repeats allowed (steady,steady: the second "
                   "after a first minute's warm-up); the aims judge each kind's first")
    args = p.parse_args(argv)
    # SIGTERM ends the run through the finally blocks: the servers and the cluster stop.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    opts = {**(QUICK if args.quick else FULL), "workers": args.workers,
            "db_pool": args.db_pool, "procs": args.procs, "concurrency": args.concurrency,
            "phases": args.phases}
    report = {"command": " ".join(["python", "benchmarks/central_fleet.py", *(argv or [])]),
              "quick": args.quick, "options": opts, "machine": fleet_report.machine(),
              "uptime_before": fleet_report.uptime(), "targets": {}}
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        folder = Path(tmp)
        kiosks = write_kiosks(folder / "kiosks.toml", opts["kiosks"])
        key = keygen(folder)
        report["targets"]["postgres"] = run_postgres(folder, kiosks, key, opts)
        report["uptime_mid"] = fleet_report.uptime()
        report["targets"]["baseline"] = ({"skipped": "--no-baseline"} if args.no_baseline
                                         else run_baseline(folder, kiosks, key, opts))
    report["uptime_after"] = fleet_report.uptime()
    report["aims"] = fleet_report.aims(report["targets"]["postgres"], args.quick)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=1))
    print(fleet_report.table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
