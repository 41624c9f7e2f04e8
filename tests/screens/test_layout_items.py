"""A kiosk runs for months: clearing a layout must free each widget's layout item too.

The soak (issue #17) grew about 2 MB of native memory a thousand visits: ``clear_layout``
took each widget out with ``QLayout.takeAt``, and PySide6 leaves the returned ``QWidgetItem``
to nobody (about 100 bytes a widget; the services grid and the confirm screen's rows are
rebuilt every visit). glibc's ``mallinfo2()`` counts the bytes in use exactly, so the test
asserts on bytes, not on time. It measures in a process of its own: windows and threads left
by earlier tests allocate meanwhile and would be counted too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.native_heap import mallinfo
from screens.widgets.basic import clear_layout

ROOT = Path(__file__).resolve().parents[2]
ROUNDS, PER_ROUND, TRIALS = 500, 8, 3

MEASURE = """
import gc, json, sys
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication, QGridLayout, QLabel, QVBoxLayout, QWidget
from benchmarks.native_heap import mallinfo
from screens.widgets.basic import clear_layout

ROUNDS, PER_ROUND, TRIALS = {rounds}, {per_round}, {trials}
app = QApplication([])

def in_use():
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    gc.collect()
    return mallinfo()["uordblks"]

def grid_fill(layout, i):
    layout.addWidget(QLabel("x"), i // 2, i % 2)

def box_fill(layout, i):
    if i % 2:
        layout.addStretch(1)
    else:
        layout.addWidget(QLabel("x"))

def bytes_per_item(layout, fill):
    def one_round():
        for i in range(PER_ROUND):
            fill(layout, i)
        clear_layout(layout)
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    for _ in range(50):  # Qt's and Python's first-use caches fill up first
        one_round()
    grown = []
    for _ in range(TRIALS):  # a leak shows in every trial, a cache filling once in one at most
        before = in_use()
        for _ in range(ROUNDS):
            one_round()
        grown.append((in_use() - before) / (ROUNDS * PER_ROUND))
    assert layout.count() == 0
    return min(grown)

grid_host, box_host = QWidget(), QWidget()
print(json.dumps({{"grid": bytes_per_item(QGridLayout(grid_host), grid_fill),
                  "box": bytes_per_item(QVBoxLayout(box_host), box_fill)}}))
"""

pytestmark = pytest.mark.skipif(mallinfo() is None, reason="needs glibc's mallinfo2()")


@pytest.fixture(scope="module")
def left_per_item() -> dict:
    script = MEASURE.format(rounds=ROUNDS, per_round=PER_ROUND, trials=TRIALS)
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_clearing_a_grid_frees_every_widgets_layout_item(left_per_item):
    assert left_per_item["grid"] < 16, f"{left_per_item['grid']:.0f} bytes left per widget"


def test_clearing_a_box_with_spacers_frees_them_too(left_per_item):
    assert left_per_item["box"] < 16, f"{left_per_item['box']:.0f} bytes left per item"


def test_cleared_widgets_lose_their_text_and_go(qapp):
    from PySide6.QtWidgets import QGridLayout, QLabel, QWidget

    host = QWidget()
    grid = QGridLayout(host)
    shown = QLabel("110101********1234")
    grid.addWidget(shown, 0, 0)
    clear_layout(grid)
    assert shown.text() == "" and shown.isHidden() and grid.count() == 0
