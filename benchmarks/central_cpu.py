"""The central's CPU per request, per endpoint: ``python benchmarks/central_cpu.py``.

Issue #13. Wall-clock figures lie on a loaded machine; CPU seconds do not (much). The
PostgreSQL central starts as ``central_fleet.py`` starts it (several workers, a durable
cluster), then a fixed number of requests of one kind is driven at it, each on its own
connection (``fleet_load.exchange``), ``concurrency`` at a time, and the CPU seconds the
central's process tree (the supervisor and its workers) and PostgreSQL spent meanwhile
(each thread's ``/proc/.../schedstat``, in nanoseconds, before and after) are divided by the
count.

In the same run, and against the same cluster, the same is measured for a baseline: the
central of another git revision (``--baseline``, default ``main``) unpacked with
``git archive``. The two are measured in turns, kind by kind, so that a change of load on
the machine falls on both alike.

``--quick`` is the CI variant (a few hundred requests a kind, 2,000 kiosks).
``--json-out FILE`` writes the whole report; the table goes to stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import fleet_report
from central_fleet import etag_of
from fleet_load import GOOD, build_request, exchange
from fleet_servers import (
    REPO,
    CentralProcess,
    PostgresCluster,
    cpu_since_s,
    keygen,
    tree_threads_ns,
    write_kiosks,
)

KINDS = ("heartbeat", "upload", "menu304", "menu200")
MIX = {"heartbeat": 1000, "upload": 700, "menu304": 200, "menu200": 100}  # per second
FULL = {"kiosks": 2_000, "requests": 5_000}
QUICK = {"kiosks": 2_000, "requests": 300}
TREES = ("central", "contract", "config")


def drive(host: str, port: int, kind: str, count: int, kiosks: int, etag: str | None,
          concurrency: int) -> dict:
    """``count`` requests of ``kind`` from random kiosks, ``concurrency`` at a time, each on
    a new connection; their statuses."""
    status: dict[str, int] = {}
    todo = iter(range(count))

    async def sender() -> None:
        for _ in todo:
            request = build_request(kind, random.randrange(kiosks), host, etag)
            code, _ = await exchange(host, port, request)
            status[str(code)] = status.get(str(code), 0) + 1

    async def run() -> None:
        await asyncio.gather(*(sender() for _ in range(concurrency)))

    asyncio.run(run())
    return status


def measure(target: dict, kind: str, opts: dict) -> dict:
    """One kind against one target: CPU ms per request of the central and of PostgreSQL."""
    cpu0 = {name: tree_threads_ns(pid) for name, pid in target["pids"].items()}
    started = time.monotonic()
    status = drive(target["host"], target["port"], kind, opts["requests"], opts["kiosks"],
                   target["etag"], opts["concurrency"])
    wall = time.monotonic() - started
    cpu = {name: cpu_since_s(cpu0[name], pid) for name, pid in target["pids"].items()}
    count = sum(status.values())
    good = sum(n for code, n in status.items() if int(code) in GOOD[kind])
    return {"requests": count, "good": good, "status": status, "wall_s": round(wall, 2),
            **{f"{name}_ms": round(1000 * cpu[name] / count, 3) for name in cpu}}


def extract(ref: str, folder: Path) -> str | None:
    """The central of git revision ``ref`` unpacked in ``folder``; None, or why not."""
    if shutil.which("git") is None:
        return "git is not installed"
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref, *TREES],
                             capture_output=True)
    if archive.returncode != 0:
        return f"git archive {ref}: {archive.stderr.decode(errors='replace').strip()}"
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
    return None


def start_central(cluster: PostgresCluster, db: str, tree: Path, folder: Path,
                  kiosks: Path, key: Path, opts: dict) -> CentralProcess:
    import psycopg

    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {db}")
    return CentralProcess(
        ["--db", cluster.url(db), "--kiosks", str(kiosks), "--port", "0",
         "--workers", str(opts["workers"]), "--menu", str(REPO / "config" / "menu.default.json"),
         "--signing-key", str(key), "--key-id", "bench"],
        pythonpath=tree, cwd=tree, log=folder / f"central-{db}.log")


def target_of(central: CentralProcess, cluster: PostgresCluster) -> dict:
    return {"host": central.host, "port": central.port,
            "etag": etag_of(central.host, central.port),
            "pids": {"central": central.proc.pid, "postgres": cluster.postmaster_pid()}}


def run(opts: dict, folder: Path) -> dict:
    kiosks = write_kiosks(folder / "kiosks.toml", opts["kiosks"])
    key = keygen(folder)
    trees = {"current": REPO, "baseline": folder / "baseline"}
    trees["baseline"].mkdir()
    why = extract(opts["baseline"], trees["baseline"])
    if why is not None:
        del trees["baseline"]
    cluster = PostgresCluster().start()
    centrals: list[CentralProcess] = []
    try:
        targets = {}
        for name, tree in trees.items():
            centrals.append(start_central(cluster, f"cpu_{name}", tree, folder, kiosks, key,
                                          opts))
            targets[name] = target_of(centrals[-1], cluster)
        results: dict[str, dict] = {name: {} for name in targets}
        for kind in opts["kinds"]:
            for name, target in targets.items():  # in turns: the same load falls on both
                print(f"{name}: {kind} x {opts['requests']} ...", file=sys.stderr)
                results[name][kind] = measure(target, kind, opts)
        for per_kind in results.values():
            per_kind["mixed_ms"] = mixed_ms(per_kind)
        if why is not None:
            results["baseline"] = {"skipped": why}
        return results
    finally:
        for central in centrals:
            central.stop()
        cluster.stop()


def mixed_ms(per_kind: dict) -> dict | None:
    """CPU ms per request of issue #13's mix (1,000 heartbeats, 700 uploads, 200 menu
    checks, 100 full menus a second), weighted from the kinds measured."""
    if not all(kind in per_kind for kind in KINDS):
        return None
    total = sum(MIX.values())
    return {part: round(sum(MIX[k] * per_kind[k][f"{part}_ms"] for k in KINDS) / total, 3)
            for part in ("central", "postgres")}


def table(report: dict) -> str:
    opts, results = report["options"], report["results"]
    cur, base = results["current"], results["baseline"]
    if "skipped" in base:
        base = {}
    rows = [f"CPU ms per request ({opts['kiosks']} kiosks, {opts['requests']} requests a kind, "
            f"a new connection each, {opts['workers']} workers); baseline: {opts['baseline']}"
            + (f" (skipped: {results['baseline']['skipped']})" if not base else ""),
            f"{'kind':10} {'central':>8} {'baseline':>9} {'postgres':>9} {'pg base':>8}"]

    def cell(per_kind: dict, kind: str, part: str, width: int) -> str:
        value = per_kind.get(kind)
        return f"{value[part]:{width}.3f}" if value else f"{'-':>{width}}"
    for kind in [*opts["kinds"], "mix"]:
        key = "mixed_ms" if kind == "mix" else kind
        if kind == "mix" and not cur.get("mixed_ms"):
            continue
        fields = ("central", "postgres") if kind == "mix" else ("central_ms", "postgres_ms")
        rows.append(f"{kind:10} {cell(cur, key, fields[0], 8)} {cell(base, key, fields[0], 9)}"
                    f" {cell(cur, key, fields[1], 9)} {cell(base, key, fields[1], 8)}")
    rows.append(f"load average before: {report['uptime_before']}; after: "
                f"{report['uptime_after']}")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="the CI variant: seconds, not minutes")
    p.add_argument("--kiosks", type=int, help="kiosks in the kiosks file (2,000)")
    p.add_argument("--requests", type=int, help="requests of each kind (5,000)")
    p.add_argument("--kinds", default=",".join(KINDS), help="which kinds, comma-separated")
    p.add_argument("--workers", type=int, default=2, help="central worker processes")
    p.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    p.add_argument("--baseline", default="main", help="git revision of the baseline central")
    p.add_argument("--json-out", metavar="FILE", help="write the whole report as JSON")
    args = p.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    opts = {**(QUICK if args.quick else FULL), "workers": args.workers,
            "concurrency": args.concurrency, "baseline": args.baseline,
            "kinds": [k for k in args.kinds.split(",") if k]}
    for name in ("kiosks", "requests"):
        if getattr(args, name) is not None:
            opts[name] = getattr(args, name)
    unknown = sorted(set(opts["kinds"]) - set(KINDS))
    if unknown:
        p.error(f"unknown kind {unknown[0]!r} (expected {', '.join(KINDS)})")
    report = {"command": " ".join(["python", "benchmarks/central_cpu.py", *(argv or [])]),
              "options": opts, "machine": fleet_report.machine(),
              "uptime_before": fleet_report.uptime()}
    with tempfile.TemporaryDirectory(prefix="central-cpu-") as tmp:
        report["results"] = run(opts, Path(tmp))
    report["uptime_after"] = fleet_report.uptime()
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report, indent=1))
    print(table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
