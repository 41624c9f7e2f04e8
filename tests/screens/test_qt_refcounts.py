"""A kiosk runs for months: Qt signal delivery must not leak or drop Python references.

PySide6 6.12.0 dropped a reference to None (or True/False) on every signal delivered to a
Python slot, so the interpreter aborted after a few thousand touches; pyproject.toml keeps
that version out and this test keeps it out for good.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QPushButton

from screens.widgets.basic import button

ROUNDS = 3000


class Emitter(QObject):
    plain = Signal()
    value = Signal(object)


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def _assert_stable(before, after, what: str) -> None:
    for name, b, a in zip(("None", "True", "False"), before, after, strict=True):
        assert abs(a - b) < 100, f"{what}: refcount of {name} moved by {a - b}"


def test_button_clicks_keep_refcounts(qapp):
    hits = []
    btn = button("x", on_click=lambda: hits.append(1))
    plain = QPushButton("y")
    plain.clicked.connect(lambda checked=False: None)
    before = _counts()
    for _ in range(ROUNDS):
        btn.click()
        plain.click()
    _assert_stable(before, _counts(), "clicked")
    assert len(hits) == ROUNDS


def test_signals_and_timers_keep_refcounts(qapp):
    emitter = Emitter()
    seen = []
    emitter.plain.connect(lambda: seen.append(0))
    emitter.value.connect(seen.append)
    timer = QTimer()
    timer.setInterval(0)
    timer.timeout.connect(lambda: seen.append(1))
    before = _counts()
    for i in range(ROUNDS):
        emitter.plain.emit()
        emitter.value.emit(i)
    timer.start()
    for _ in range(ROUNDS // 10):
        QApplication.processEvents()
    timer.stop()
    _assert_stable(before, _counts(), "signals")
