"""End-to-end fixtures: kiosk windows pointed at the reference central (``start_central``)."""

from __future__ import annotations

import pytest
from e2e_setup import kiosk_toml
from kiosk_helpers import open_window


@pytest.fixture
def kiosk(qtbot, tmp_path, start_central):
    """Opens a kiosk window on ``tmp_path``'s data folder, talking to ``central`` with
    ``token``: ``kiosk(kiosk_id, token, central, **central_keys)`` (see ``kiosk_toml``).
    A restart is a second call; every window is closed after the test, before the central
    stops."""
    windows = []

    def open_kiosk(kiosk_id: str, token: str, central, **settings):
        (tmp_path / "token").write_text(token)
        win = open_window(qtbot, tmp_path, kiosk_toml(kiosk_id, central.url, **settings))
        windows.append(win)
        return win

    yield open_kiosk
    for win in windows:
        win.close()
