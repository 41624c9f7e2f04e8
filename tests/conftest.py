"""Shared set-up. Qt runs offscreen: the machine and CI have no display.

Fixtures shared by the queue and uplink tests: a queue in a real file under tmp_path, and a
clock the test controls.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from offline_queue import OfflineQueue

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the real user's data folder or a system configuration.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="kiosk-test-xdg-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], ignore_errors=True)
os.environ.pop("KIOSK_CONFIG", None)


import pytest  # noqa: E402 - after the environment above is set

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
    """An ``OfflineQueue`` in ``db_path`` on ``clock``, closed after the test."""
    from offline_queue import OfflineQueue  # not at the top: most tests need no queue

    with OfflineQueue(db_path, clock=clock) as q:
        yield q


@pytest.fixture
def start_central(tmp_path):
    """Starts reference central servers on 127.0.0.1 (``CentralServer`` arguments as
    keywords, ``kiosks`` first); each is stopped after the test. The first one keeps its
    database at ``tmp_path / "central.db"``."""
    from central.server import CentralServer

    servers = []

    def start(kiosks, **kwargs):
        name = "central.db" if not servers else f"central-{len(servers)}.db"
        server = CentralServer(tmp_path / name, kiosks=kiosks, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
