"""The way into diagnostics: the corner hold, the PIN pad, the lock-out that survives a
restart, and the mode's rules (no entry mid-visit, no idle prompt, leaving by itself)."""

from __future__ import annotations

import pytest
from diag_helpers import (
    PIN,
    audit_entries,
    audit_text,
    close_window,
    diag_toml,
    enter,
    make_window,
    open_pad,
    press_corner,
    release_corner,
)
from kiosk_helpers import current_screen, find, touch, type_keys, wait_screen
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit

from kiosk.shell import idle


@pytest.fixture
def window(qtbot, tmp_path):
    win = make_window(qtbot, diag_toml(tmp_path))
    yield win
    close_window(win)


def message(window) -> str:
    return find(window, "label:pin-message", QLabel).text()


def wrong_pin(qtbot, window, pin="1111"):
    before = message(window) if window.tech.pad.message.isVisible() else ""
    type_keys(qtbot, window, pin)
    touch(qtbot, window, "btn:pin-ok")
    qtbot.waitUntil(lambda: window.tech.pad.message.isVisible()
                    and message(window) != before, timeout=5000)


# -- the gesture ------------------------------------------------------------------------------

def test_holding_the_corner_five_seconds_opens_the_pin_pad(qtbot, window):
    assert window.tech.hold.hold_s == 5.0 and window.tech.hold.corner_px == 100
    press_corner(window)
    assert window.tech.hold.holding
    assert not window.tech.pad_open  # nothing on the press itself
    qtbot.waitUntil(lambda: window.tech.pad_open, timeout=8000)
    release_corner(window)
    pad = find(window, "dialog:pin")
    assert pad.geometry() == window.centralWidget().rect()
    for name in [f"key:{d}" for d in "0123456789"] + ["key:backspace", "key:clear",
                                                     "btn:pin-ok", "btn:pin-cancel"]:
        assert find(window, name, QAbstractButton).height() >= 90, name
    assert current_screen(window) == "screen:home"


def test_a_touch_hold_opens_it_too(qtbot, window):
    window.tech.hold.hold_s = 0.2
    device = QTest.createTouchDevice()
    QTest.touchEvent(window, device).press(0, QPoint(30, 30))
    assert window.tech.hold.holding
    qtbot.waitUntil(lambda: window.tech.pad_open, timeout=3000)
    QTest.touchEvent(window, device).release(0, QPoint(30, 30))


def test_releasing_early_or_moving_out_cancels(qtbot, window):
    window.tech.hold.hold_s = 0.3
    press_corner(window)
    assert window.tech.hold.holding
    release_corner(window)
    assert not window.tech.hold.holding
    press_corner(window)
    widget = window.childAt(QPoint(20, 20))
    QTest.mouseMove(widget, widget.mapFrom(window, QPoint(400, 300)))
    assert not window.tech.hold.holding
    qtbot.wait(600)  # twice the hold
    assert not window.tech.pad_open
    release_corner(window, QPoint(400, 300))


def test_a_press_outside_the_corner_is_not_timed(qtbot, window):
    press_corner(window, QPoint(150, 40))
    assert not window.tech.hold.holding
    release_corner(window, QPoint(150, 40))


def test_the_corner_press_still_reaches_a_tile(qtbot, window):
    """The hold never eats the press: with the corner made as large as the window, a
    category tile under it still works as before."""
    window.tech.hold.corner_px = 5000
    tile = find(window, "category:housing-fund")
    QTest.mousePress(tile, Qt.MouseButton.LeftButton)
    assert window.tech.hold.holding
    QTest.mouseRelease(tile, Qt.MouseButton.LeftButton)
    assert not window.tech.hold.holding
    wait_screen(qtbot, window, "services")
    assert not window.tech.pad_open


def test_refused_in_the_middle_of_a_visit(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    wait_screen(qtbot, window, "services")
    window.tech.hold.hold_s = 0.1
    back = QPoint(40, 40)
    assert window.childAt(back).objectName() == "btn:back"
    press_corner(window, back)
    qtbot.waitUntil(lambda: any(e["outcome"] == "refused-visit"
                                for e in audit_entries(window)), timeout=3000)
    assert not window.tech.pad_open
    release_corner(window, back)  # the back button still does its job
    wait_screen(qtbot, window, "home")
    assert not window.tech.pad_open


def test_ignored_while_the_attract_screen_shows(qtbot, window):
    window.idle.set_timeout(0.1)
    window.idle.touch()
    qtbot.waitUntil(lambda: window.overlay.isVisible(), timeout=2000)
    window.idle.set_timeout(60)
    window.tech.hold.hold_s = 0.1
    press_corner(window)  # the first touch only wakes the screen
    assert not window.tech.hold.holding
    release_corner(window)
    assert not window.overlay.isVisible() and not window.tech.pad_open


# -- the PIN pad ------------------------------------------------------------------------------

def test_right_pin_enters_and_is_audited_without_the_pin(qtbot, window):
    open_pad(qtbot, window)
    assert window.tech.pad.heading.text() == "维护模式"
    type_keys(qtbot, window, PIN)
    field = find(window, "field:pin", QLineEdit)
    assert field.text() == PIN and field.echoMode() == QLineEdit.EchoMode.Password
    touch(qtbot, window, "btn:pin-ok")
    wait_screen(qtbot, window, "diagnostics")
    assert window.tech.active
    assert not window.tech.pad_open and window.tech.pad.field.text() == ""
    assert not window.findChild(QAbstractButton, "btn:back").isVisible()
    assert not window.findChild(QAbstractButton, "btn:home").isVisible()
    assert "Diagnostics" in find(window, "label:title", QLabel).text()
    events = [(e["event"], e["outcome"]) for e in audit_entries(window)]
    assert ("entry", "ok") in events
    assert PIN not in audit_text(window) and window.config.diagnostics.pin_hash \
        not in audit_text(window)


def test_wrong_pin_says_how_many_tries_are_left(qtbot, window):
    open_pad(qtbot, window)
    wrong_pin(qtbot, window)
    assert message(window) == "密码不对，还可以再试 4 次"
    assert window.tech.pad.field.text() == ""
    assert current_screen(window) == "screen:home"
    wrong_pin(qtbot, window, "99999")
    assert message(window) == "密码不对，还可以再试 3 次"
    failed = [e for e in audit_entries(window) if e["event"] == "pin-failed"]
    assert [e["detail"]["attempts_left"] for e in failed] == [4, 3]
    assert "1111" not in audit_text(window) and "99999" not in audit_text(window)


def test_wrong_pin_in_english(qtbot, window):
    window.ctl.toggle_language()
    open_pad(qtbot, window)
    wrong_pin(qtbot, window)
    assert message(window) == "Wrong PIN, 4 tries left"
    assert find(window, "btn:pin-cancel", QAbstractButton).text() == "Cancel"


def test_five_wrong_pins_lock_entry_even_after_a_restart(qtbot, tmp_path):
    config = diag_toml(tmp_path)
    win = make_window(qtbot, config)
    try:
        open_pad(qtbot, win)
        for _ in range(5):
            wrong_pin(qtbot, win, "0000")
        assert message(win) == "已锁定，请 5 分钟后再试"
        assert not find(win, "btn:pin-ok").isEnabled()
        assert not find(win, "key:1").isEnabled()
        events = [(e["event"], e["outcome"]) for e in audit_entries(win)]
        assert events.count(("pin-failed", "wrong")) == 5
        assert ("lockout", "locked") in events
        touch(qtbot, win, "btn:pin-cancel")
        assert not win.tech.pad_open
    finally:
        close_window(win)
    # A restart: a new window on the same data folder still refuses, the right PIN too.
    win = make_window(qtbot, config)
    try:
        open_pad(qtbot, win)
        qtbot.waitUntil(lambda: win.tech.pad.message.isVisible(), timeout=5000)
        assert message(win) == "已锁定，请 5 分钟后再试"
        assert not find(win, "btn:pin-ok").isEnabled()
        result = win.tech.gate.check(PIN, win.config.diagnostics.pin_hash)
        assert result.reason == "locked" and not result.ok
        assert current_screen(win) == "screen:home"
    finally:
        close_window(win)


def test_no_pin_configured_says_so(qtbot, tmp_path):
    win = make_window(qtbot, diag_toml(tmp_path, pin=False))
    try:
        open_pad(qtbot, win)
        assert message(win).startswith("未设置维护密码")
        assert not find(win, "btn:pin-ok").isEnabled()
        assert ("entry", "not-configured") in [(e["event"], e["outcome"])
                                               for e in audit_entries(win)]
    finally:
        close_window(win)


def test_the_pad_cancels_itself_and_forgets_the_digits(qtbot, window):
    open_pad(qtbot, window)
    window.tech.pad.timeout_s = 0.3
    type_keys(qtbot, window, "12")  # each key restarts the time-out
    qtbot.waitUntil(lambda: not window.tech.pad_open, timeout=3000)
    assert window.tech.pad.field.text() == ""
    assert current_screen(window) == "screen:home"
    assert not window.idle.paused


def test_cancel_goes_back_to_home(qtbot, window):
    open_pad(qtbot, window)
    type_keys(qtbot, window, "24")
    touch(qtbot, window, "btn:pin-cancel")
    assert not window.tech.pad_open and window.tech.pad.field.text() == ""
    touch(qtbot, window, "category:housing-fund")  # the resident's screen works as before
    wait_screen(qtbot, window, "services")


# -- the mode ---------------------------------------------------------------------------------

def test_no_idle_prompt_and_no_visit_in_diagnostics(qtbot, window, monkeypatch):
    monkeypatch.setattr(idle, "PROMPT_S", 1)
    enter(qtbot, window)
    window.idle.set_timeout(0.1)
    window.idle.touch()
    window.reader_thread.reader.present_sample(0)  # a card on the reader starts nothing
    qtbot.wait(500)
    assert not window.overlay.isVisible()
    assert current_screen(window) == "screen:diagnostics"
    assert window.ctl.session.visit is None
    window.idle.set_timeout(60)


def test_leaves_by_itself_after_no_touch(qtbot, window):
    window.tech.auto_leave_s = 0.5
    # Recorded as it happens: on a loaded machine the half second can pass before a poll
    # of the screen would ever see diagnostics.
    shown: list[str] = []
    window.stack.currentChanged.connect(lambda _: shown.append(current_screen(window)))
    open_pad(qtbot, window)
    type_keys(qtbot, window, PIN)
    touch(qtbot, window, "btn:pin-ok")
    qtbot.waitUntil(lambda: "screen:diagnostics" in shown, timeout=5000)
    wait_screen(qtbot, window, "home", timeout=5000)
    assert not window.tech.active and not window.idle.paused
    events = [(e["event"], e["outcome"]) for e in audit_entries(window)]
    assert events[-1] == ("auto-leave", "ok")
    assert window.topbar.styleSheet() == ""
