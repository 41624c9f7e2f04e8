"""Screen care: at night the screen goes black after the quiet time, and the touch that
wakes it presses nothing under the finger."""

from __future__ import annotations

import datetime as dt

import pytest
from kiosk_helpers import current_screen, find, touch, wait_screen, write_config
from PySide6.QtCore import Qt

from kiosk.app import create_window
from kiosk.config_rules import ConfigError, in_hours, parse_hours
from kiosk.shell.idle import SleepPlan


@pytest.fixture
def window(qtbot, tmp_path):
    path = write_config(tmp_path, screen_sleep_after_s=60, screen_sleep_hours="")
    win = create_window(str(path))
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.started, timeout=5000)
    yield win
    win.close()


def test_the_waking_touch_does_not_press_the_tile_beneath(qtbot, window, tmp_path):
    with qtbot.waitSignal(window.idle.sleepChanged) as slept:
        window.idle.sleep_due()  # the quiet time is up
    assert slept.args == [True]
    assert window.overlay.isVisible() and not window.overlay.dialog.isVisible()
    picture = window.grab().toImage()
    assert picture.pixelColor(960, 600).name() == "#000000"  # black where the tiles are
    picture.save(str(tmp_path / "asleep.png"))
    tile = find(window, "category:employment")
    with qtbot.waitSignal(window.idle.sleepChanged) as woke:
        qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)  # lands on the black cover
    assert woke.args == [False]
    assert not window.overlay.isVisible()
    assert current_screen(window) == "screen:home"  # the touch woke the screen, nothing else
    touch(qtbot, window, "category:employment")  # the next one works as always
    wait_screen(qtbot, window, "services")


def test_no_sleep_during_a_visit(qtbot, window):
    touch(qtbot, window, "category:employment")
    window.idle.sleep_due()
    assert not window.idle.sleeping and not window.overlay.isVisible()


def test_sleep_hours_in_the_kiosk_zone():
    assert parse_hours("22:00-06:00") == (1320, 360)
    assert parse_hours("") is None
    for bad in ("22:00", "25:00-06:00", "06:00-06:00", "6:00-7:00"):
        with pytest.raises(ConfigError):
            parse_hours(bad)
    night = (1320, 360)
    assert in_hours(night, 23 * 60) and in_hours(night, 5 * 60 + 59)
    assert not in_hours(night, 6 * 60) and not in_hours(night, 12 * 60)
    assert in_hours((60, 120), 90) and not in_hours((60, 120), 120)
    shanghai_23h = dt.datetime(2026, 12, 3, 15, 0, tzinfo=dt.UTC).timestamp()  # 23:00 +08
    assert SleepPlan(600, "22:00-06:00", "Asia/Shanghai", now=lambda: shanghai_23h).now_allowed()
    assert not SleepPlan(600, "22:00-06:00", "UTC", now=lambda: shanghai_23h).now_allowed()
    assert not SleepPlan(0, "", "UTC").now_allowed()  # 0 = never
