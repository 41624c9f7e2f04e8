"""``benchmarks/central_fleet.py --quick`` runs end to end and its report is sane.

Only the quick variant runs here (a few seconds a phase); the full run (20,000 kiosks, 60 s
phases, 1,000,000 transactions) is run by hand and recorded in docs/BENCHMARKS.md. No
figure is judged: the machine running the tests is shared. What is checked is that every
phase ran against both servers and that the counts add up.
"""

from __future__ import annotations

import pytest
from bench_run import run_quick

PHASES = ["steady", "mixed", "backlog", "held"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, str]:
    return run_quick(tmp_path_factory, "central_fleet.py")


def test_every_phase_ran_against_the_postgres_central(report) -> None:
    data, _ = report
    target = data["targets"]["postgres"]
    assert list(target["phases"]) == PHASES
    opts = data["options"]
    for name in ("steady", "mixed", "held"):
        phase = target["phases"][name]
        assert phase["requests"] > 0 and phase["p50_ms"] <= phase["p99_ms"] <= phase["max_ms"]
        assert sum(sum(k["status"].values()) for k in phase["kinds"].values()) == \
            phase["requests"]
    steady = target["phases"]["steady"]
    assert set(steady["kinds"]) == {"heartbeat", "upload"}
    assert steady["requests"] == int(20_000 / 60 / opts["procs"] * opts["seconds"]) * \
        opts["procs"] + int(70 / opts["procs"] * opts["seconds"]) * opts["procs"]
    backlog = target["phases"]["backlog"]
    # every transaction was accepted, or its batch is counted failed
    assert backlog["accepted"] + 100 * backlog["failed"] == opts["backlog_tx"]
    assert target["phases"]["held"]["held"] == opts["hold"]
    assert target["top_statements"] and "query" in target["top_statements"][0]


def test_the_baseline_ran_or_says_why_not(report) -> None:
    data, _ = report
    baseline = data["targets"]["baseline"]
    if "skipped" in baseline:
        assert baseline["skipped"]
        return
    assert list(baseline["phases"]) == PHASES
    assert baseline["phases"]["backlog"]["requests"] == data["options"]["backlog_tx"] // 100


def test_the_table_names_each_aim_and_the_load(report) -> None:
    data, table = report
    assert len(data["aims"]) == 4
    assert all(aim["note"] == "quick run: not a measurement" for aim in data["aims"])
    assert table.count("quick run: not a measurement") == 4
    assert "load average" in table and data["uptime_before"]
