"""A kiosk runs for months: clearing a layout must free each widget's layout item too.

The soak (issue #17) grew about 2 MB of native memory a thousand visits: ``clear_layout``
took each widget out with ``QLayout.takeAt``, and PySide6 leaves the returned ``QWidgetItem``
to nobody (about 100 bytes a widget; the services grid and the confirm screen's rows are
rebuilt every visit). glibc's ``mallinfo2()`` counts the bytes in use exactly, so the test
asserts on bytes, not on time.
"""

from __future__ import annotations

import gc

import pytest
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QVBoxLayout, QWidget

from benchmarks.native_heap import mallinfo
from screens.widgets.basic import clear_layout

ROUNDS, PER_ROUND = 1500, 8

pytestmark = pytest.mark.skipif(mallinfo() is None, reason="needs glibc's mallinfo2()")


def _in_use(app: QApplication) -> int:
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    return mallinfo()["uordblks"]


def _bytes_per_widget(app: QApplication, layout, fill) -> float:
    def one_round():
        for i in range(PER_ROUND):
            fill(layout, i)
        clear_layout(layout)
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    for _ in range(50):  # Qt's and Python's first-use caches fill up first
        one_round()
    before = _in_use(app)
    for _ in range(ROUNDS):
        one_round()
    return (_in_use(app) - before) / (ROUNDS * PER_ROUND)


def test_clearing_a_grid_frees_every_widgets_layout_item(qapp):
    host = QWidget()
    grid = QGridLayout(host)
    grown = _bytes_per_widget(qapp, grid, lambda g, i: g.addWidget(QLabel("x"), i // 2, i % 2))
    assert grown < 16, f"{grown:.0f} bytes left behind per widget cleared"
    assert grid.count() == 0


def test_clearing_a_box_with_spacers_frees_them_too(qapp):
    host = QWidget()
    box = QVBoxLayout(host)

    def fill(layout, i):
        if i % 2:
            layout.addStretch(1)
        else:
            layout.addWidget(QLabel("x"))

    grown = _bytes_per_widget(qapp, box, fill)
    assert grown < 16, f"{grown:.0f} bytes left behind per item cleared"
    assert box.count() == 0


def test_cleared_widgets_lose_their_text_and_go(qapp):
    host = QWidget()
    grid = QGridLayout(host)
    shown = QLabel("110101********1234")
    grid.addWidget(shown, 0, 0)
    clear_layout(grid)
    assert shown.text() == "" and shown.isHidden() and grid.count() == 0
