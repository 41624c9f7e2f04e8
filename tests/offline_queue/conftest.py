"""Shared fixtures: a queue in a real file under tmp_path, and a clock the test controls."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from offline_queue import OfflineQueue

T0 = 1795512600.0  # 2026-11-24T09:30:00Z


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "data" / "queue.db"


@pytest.fixture
def queue(db_path: Path, clock: FakeClock) -> Iterator[OfflineQueue]:
    with OfflineQueue(db_path, clock=clock) as q:
        yield q
