"""The kiosk window on simulated devices with a fresh data folder, shown at 1920x1080."""

from __future__ import annotations

import pytest
from kiosk_helpers import write_config

from kiosk.app import create_window
from kiosk.demo.simulators import add_simulator_controls


@pytest.fixture
def window(qtbot, tmp_path):
    win = create_window(str(write_config(tmp_path)))
    add_simulator_controls(win)  # the sample residents' cards, as in `kiosk demo`
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.locked = False
    win.close()
