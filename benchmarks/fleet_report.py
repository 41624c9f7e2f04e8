"""Figures of ``central_fleet.py``: merging the load generators' results, the aims of issue
#13 item 8, the table, and what the machine was doing."""

from __future__ import annotations

import os
import platform
import subprocess

from bench_common import cpu_model
from fleet_load import GOOD

AIMS = {"steady": 50.0, "mixed": 250.0, "held": 250.0}  # p99 ms
BACKLOG_AIM = 5000.0  # transactions/s
LAG_LIMIT_MS = 50.0  # a generator further behind its plan than this measured itself


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    return values[min(len(values) - 1, int(len(values) * q))]


def merge(results: list[dict], wall: float, cpu: dict[str, float]) -> dict:
    """One phase's figures from every generator process's result."""
    kinds: dict[str, dict] = {}
    every: list[float] = []
    failed = unsent = 0
    for name in sorted({k for r in results for k in r["kinds"]}):
        lat = sorted(x for r in results for x in r["kinds"].get(name, {}).get("lat", []))
        status: dict[str, int] = {}
        for r in results:
            for code, n in r["kinds"].get(name, {}).get("status", {}).items():
                status[code] = status.get(code, 0) + n
        good = GOOD.get(name, (200,))
        bad = sum(n for code, n in status.items() if int(code) not in good)
        n = sum(status.values())
        unsent += status.get("-1", 0)
        kinds[name] = {"n": n, "per_s": round(n / wall, 1), "failed": bad,
                       "status": status, "p50_ms": _pct(lat, 0.5), "p99_ms": _pct(lat, 0.99),
                       "max_ms": lat[-1] if lat else 0.0}
        every += lat
        failed += bad
    every.sort()
    requests = sum(k["n"] for k in kinds.values())
    phase = {"seconds": round(wall, 1), "requests": requests,
             "per_s": round(requests / wall, 1), "failed": failed, "unsent": unsent,
             "p50_ms": _pct(every, 0.5), "p99_ms": _pct(every, 0.99),
             "max_ms": every[-1] if every else 0.0, "kinds": kinds,
             "cpu_s": cpu, "cpu_pct_of_one_core": {k: round(v / wall * 100) for k, v in
                                                  cpu.items()}}
    if any("accepted" in r for r in results):
        accepted = sum(r.get("accepted", 0) for r in results)
        phase["accepted"] = accepted
        phase["tx_per_s"] = round(accepted / wall)
    else:
        phase["generator_lag_ms_max"] = max(r.get("lag_ms_max", 0) for r in results)
        phase["generator_lag_ms_p99"] = max(r.get("lag_ms_p99", 0) for r in results)
        if phase["generator_lag_ms_p99"] > LAG_LIMIT_MS or unsent:
            phase["generator_behind"] = True  # the figures say more of the generator
    if any(r.get("held") for r in results):
        phase["held"] = sum(r["held"] for r in results)
        phase["held_reopened"] = sum(r["held_reopened"] for r in results)
    return phase


def one_line(phase: dict) -> str:
    extra = f", {phase['tx_per_s']} tx/s" if "tx_per_s" in phase else ""
    if phase.get("generator_behind"):
        extra += f"; GENERATOR BEHIND (lag p99 {phase['generator_lag_ms_p99']} ms, " \
                 f"{phase['unsent']} unsent)"
    return (f"{phase['requests']} requests ({phase['per_s']}/s), {phase['failed']} failed, "
            f"p50 {phase['p50_ms']} ms, p99 {phase['p99_ms']} ms{extra}; "
            f"cpu % of a core {phase['cpu_pct_of_one_core']}")


def aims(target: dict, quick: bool) -> list[dict]:
    """Each aim of the issue against the PostgreSQL central's figures."""
    if "phases" not in target:
        return []
    phases = target["phases"]
    found = []
    for name, limit in AIMS.items():
        if name not in phases:
            continue  # a run of chosen phases (--phases)
        ph = phases[name]
        aim = {"aim": f"{name}: p99 <= {limit:g} ms, no failure",
               "result": f"p99 {ph['p99_ms']} ms, {ph['failed']} failed",
               "pass": ph["p99_ms"] <= limit and ph["failed"] == 0}
        if ph.get("generator_behind"):
            aim["generator"] = (f"the load generator fell behind (lag p99 "
                                f"{ph['generator_lag_ms_p99']} ms, {ph['unsent']} unsent)")
        found.append(aim)
    ph = phases.get("backlog")
    if ph is not None:
        found.append({"aim": f"backlog: >= {BACKLOG_AIM:g} transactions/s",
                      "result": f"{ph['tx_per_s']} tx/s, {ph['failed']} failed",
                      "pass": ph["tx_per_s"] >= BACKLOG_AIM and ph["failed"] == 0})
    if quick:
        for aim in found:
            aim["note"] = "quick run: not a measurement"
    return found


def table(report: dict) -> str:
    lines = [f"kiosk-central fleet benchmark ({'quick' if report['quick'] else 'full'}): "
             f"{report['options']['kiosks']} kiosks, {report['machine']}",
             f"load: before {report['uptime_before']}; after {report['uptime_after']}", ""]
    head = (f"{'server':9} {'phase':8} {'req/s':>7} {'failed':>6} {'p50 ms':>8} "
            f"{'p99 ms':>8} {'max ms':>8} {'tx/s':>7}  cpu % of a core")
    lines += [head, "-" * len(head)]
    for name, target in report["targets"].items():
        if "phases" not in target:
            lines.append(f"{name:9} skipped: {target.get('skipped')}")
            continue
        for phase, ph in target["phases"].items():
            cpu = ", ".join(f"{k} {v}" for k, v in ph["cpu_pct_of_one_core"].items())
            lines.append(f"{name:9} {phase:8} {ph['per_s']:>7} {ph['failed']:>6} "
                         f"{ph['p50_ms']:>8} {ph['p99_ms']:>8} {ph['max_ms']:>8} "
                         f"{ph.get('tx_per_s', ''):>7}  {cpu}")
    lines.append("")
    for aim in report["aims"]:
        mark = "PASS" if aim["pass"] else "MISS"
        lines.append(f"{mark}  {aim['aim']}: {aim['result']}"
                     + (f" ({aim['note']})" if aim.get("note") else "")
                     + (f"; {aim['generator']}" if aim.get("generator") else ""))
    return "\n".join(lines)


def top_statements(url: str, limit: int = 6) -> list[dict]:
    """The statements PostgreSQL spent most time in (pg_stat_statements)."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT left(regexp_replace(query, '\\s+', ' ', 'g'), 90), calls,"
                " round(total_exec_time::numeric, 0), round(mean_exec_time::numeric, 3)"
                " FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT %s",
                (limit,)).fetchall()
    except psycopg.Error as exc:
        return [{"error": str(exc).strip()}]
    return [{"query": q, "calls": c, "total_ms": float(t), "mean_ms": float(m)}
            for q, c, t, m in rows]


def machine() -> str:
    return (f"{os.cpu_count()} x {cpu_model()}, Linux {platform.release()}, "
            f"Python {platform.python_version()}")


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return "?"
