"""The sample residents' cards, keys 1-4 and the receipt picture belong to the demo: a plain
kiosk window on the same simulated devices shows none of them."""

from __future__ import annotations

import os

from kiosk_helpers import current_screen, touch, wait_screen, write_config
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLabel

from kiosk.app import create_window
from kiosk.demo.simulators import add_simulator_controls


def _shown(qtbot, tmp_path, demo: bool):
    win = create_window(str(write_config(tmp_path)))
    if demo:
        add_simulator_controls(win)
    qtbot.addWidget(win)
    win.resize(1280, 800)
    win.show()
    qtbot.waitExposed(win)
    return win


def _to_identify(qtbot, win) -> None:
    touch(qtbot, win, "category:housing-fund")
    touch(qtbot, win, "tile:hpf-balance")
    wait_screen(qtbot, win, "identify")


def _save(win, name: str) -> None:
    folder = os.environ.get("KIOSK_TEST_SHOTS")  # set it to look at the pictures
    if folder:
        win.grab().save(os.path.join(folder, name))


def test_a_kiosk_window_has_no_sample_cards_and_ignores_keys_1_to_4(qtbot, tmp_path):
    win = _shown(qtbot, tmp_path, demo=False)
    try:
        _to_identify(qtbot, win)
        _save(win, "identify-kiosk.png")
        assert win.findChild(QAbstractButton, "sim:card:0") is None
        qtbot.keyClick(win, Qt.Key.Key_1)
        # The reader hands out cards in order: had key 1 placed one, the visit would be on
        # the form before this unreadable card arrives, and the card would go unheard.
        win.reader_thread.reader.present_unreadable()
        qtbot.waitUntil(lambda: win.ctl.identify_message == "identify.unreadable",
                        timeout=5000)
        assert current_screen(win) == "screen:identify"
        assert win.findChild(QLabel, "receipt-preview") is None
    finally:
        win.close()


def test_the_demo_adds_sample_cards_keys_and_the_receipt_picture(qtbot, tmp_path):
    win = _shown(qtbot, tmp_path, demo=True)
    try:
        _to_identify(qtbot, win)
        _save(win, "identify-demo.png")
        assert win.findChild(QAbstractButton, "sim:card:0").isVisible()
        qtbot.keyClick(win, Qt.Key.Key_2)  # the second sample resident's card
        wait_screen(qtbot, win, "confirm")
        assert win.ctl.session.visit.identity.name == "李秀英"
        assert win.ctl.session.visit.identity.method == "sim"
        touch(qtbot, win, "btn:confirm")
        wait_screen(qtbot, win, "done")
        picture = win.findChild(QLabel, "receipt-preview")
        qtbot.waitUntil(lambda: picture.isVisible(), timeout=10000)
        touch(qtbot, win, "btn:finish")
        wait_screen(qtbot, win, "home")
        assert not picture.isVisible() and picture.pixmap().isNull()
    finally:
        win.close()
