"""Idle prompt, wiping the resident's data, first-touch wake, and kiosk lock-down."""

from __future__ import annotations

import pytest
from kiosk_helpers import current_screen, find, touch, type_keys, wait_screen
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QCloseEvent, QContextMenuEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QLabel, QLineEdit

from kiosk.shell import idle


@pytest.fixture(autouse=True)
def short_prompt(monkeypatch):
    monkeypatch.setattr(idle, "PROMPT_S", 1)


def all_text(window) -> str:
    texts = [w.text() for w in window.findChildren(QLabel)]
    texts += [w.text() for w in window.findChildren(QLineEdit)]
    return "\n".join(texts)


def start_visit_to_confirm(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-withdraw")
    touch(qtbot, window, "sim:card:0")
    wait_screen(qtbot, window, "form")
    service = window.ctl.session.visit.service
    touch(qtbot, window, f"choice:reason:{service.fields[0].choices[0].id}")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "4321")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "13912345678")
    touch(qtbot, window, "btn:next")
    wait_screen(qtbot, window, "confirm")


def test_idle_prompt_then_home_wipes_everything(qtbot, window):
    start_visit_to_confirm(qtbot, window)
    assert "张**" in all_text(window)
    window.idle.set_timeout(0.2)
    window.idle.touch()
    qtbot.waitUntil(lambda: window.overlay.isVisible(), timeout=2000)
    assert "秒后回到首页" in find(window, "label:idle", QLabel).text()
    wait_screen(qtbot, window, "home", timeout=4000)
    assert window.ctl.session.visit is None
    text = all_text(window)
    for secret in ("张**", "0016", "139****5678", "13912345678", "4321"):
        assert secret not in text, f"{secret!r} still on a widget after the visit"


def test_touch_during_prompt_keeps_the_visit(qtbot, window):
    start_visit_to_confirm(qtbot, window)
    window.idle.set_timeout(0.2)
    window.idle.touch()
    qtbot.waitUntil(lambda: window.overlay.isVisible(), timeout=2000)
    window.idle.set_timeout(60)
    qtbot.mouseClick(find(window, "btn:stay"), Qt.MouseButton.LeftButton)
    assert not window.overlay.isVisible()
    assert current_screen(window) == "screen:confirm"
    qtbot.wait(1500)  # longer than the prompt's countdown
    assert current_screen(window) == "screen:confirm"
    assert window.ctl.session.visit is not None


def test_first_touch_after_idle_only_wakes(qtbot, window):
    window.idle.set_timeout(0.2)
    window.idle.touch()
    qtbot.waitUntil(lambda: window.overlay.isVisible(), timeout=2000)  # attract screen
    window.idle.set_timeout(60)
    tile = find(window, "category:housing-fund")
    qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)  # wakes, presses nothing
    assert not window.overlay.isVisible()
    assert current_screen(window) == "screen:home"
    touch(qtbot, window, "category:housing-fund")
    wait_screen(qtbot, window, "services")


def test_locked_window_ignores_close_and_escape(qtbot, window):
    window.lock_down(hide_cursor=True)
    try:
        assert QApplication.overrideCursor().shape() == Qt.CursorShape.BlankCursor
        event = QCloseEvent()
        window.closeEvent(event)
        assert not event.isAccepted()
        guard = window._key_guard
        esc = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)
        alt_f4 = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
        digit = QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_5, Qt.KeyboardModifier.NoModifier)
        assert guard.eventFilter(window, esc) is True
        assert guard.eventFilter(window, alt_f4) is True
        assert guard.eventFilter(window, digit) is False
        assert guard.eventFilter(window, QContextMenuEvent(
            QContextMenuEvent.Reason.Mouse, QPoint(5, 5), QPoint(5, 5))) is True
        flags = window.windowFlags()
        assert flags & Qt.WindowType.FramelessWindowHint
        assert flags & Qt.WindowType.WindowStaysOnTopHint
    finally:
        QApplication.restoreOverrideCursor()


def test_close_stops_workers(qtbot, window):
    thread = window.reader_thread
    assert thread.isRunning()
    window.close()
    assert not thread.isRunning()
    assert window.ctl.jobs.queue_executor._shutdown
