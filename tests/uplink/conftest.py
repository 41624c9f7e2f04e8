"""Uplink fixtures: the recording test central (``sync_server``) and the kiosk's token file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_server import TOKEN, SyncServer, running


@pytest.fixture
def server() -> Iterator[SyncServer]:
    with running() as srv:
        yield srv


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text(TOKEN + "\n")
    return path
