"""``benchmarks/central_cpu.py --quick`` runs end to end and its counts add up.

No figure is judged (the machine running the tests is shared): what is checked is that every
kind was measured against the current central and the baseline (or the report says why the
baseline was skipped), that every request got a good answer, and that the CPU shares are
figures.
"""

from __future__ import annotations

import pytest
from bench_run import run_quick

KINDS = ["heartbeat", "upload", "menu304", "menu200"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[dict, str]:
    return run_quick(tmp_path_factory, "central_cpu.py", "--requests", "60")


def _check_target(per_kind: dict, requests: int) -> None:
    assert [k for k in per_kind if k != "mixed_ms"] == KINDS
    for kind in KINDS:
        measured = per_kind[kind]
        assert measured["requests"] == requests == sum(measured["status"].values())
        assert measured["good"] == requests, measured["status"]
        assert measured["central_ms"] > 0 and measured["postgres_ms"] >= 0
    mix = per_kind["mixed_ms"]
    low = min(per_kind[k]["central_ms"] for k in KINDS)
    high = max(per_kind[k]["central_ms"] for k in KINDS)
    assert low <= mix["central"] <= high


def test_every_kind_was_measured_on_the_current_central(report) -> None:
    data, _ = report
    assert data["options"]["requests"] == 60
    _check_target(data["results"]["current"], 60)


def test_the_baseline_was_measured_or_says_why_not(report) -> None:
    data, _ = report
    baseline = data["results"]["baseline"]
    if "skipped" in baseline:
        assert baseline["skipped"]
        return
    _check_target(baseline, 60)


def test_the_table_has_a_row_a_kind_and_the_load(report) -> None:
    _, table = report
    for kind in [*KINDS, "mix"]:
        assert any(line.startswith(kind) for line in table.splitlines())
    assert "load average" in table
