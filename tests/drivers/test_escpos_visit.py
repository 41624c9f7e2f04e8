"""A whole visit in the real window prints its receipt on an ESC/POS printer, over TCP and over
a serial line (a pseudo-terminal); the receiver rebuilds the raster and the QR code decodes to
the transaction id. Failures keep the reference on screen and the receipt for a reprint."""

from __future__ import annotations

import pytest
from escpos_receiver import Behaviour, PtyReceiver, TcpReceiver
from kiosk_helpers import open_window, touch
from PySide6.QtWidgets import QLabel
from pyzbar.pyzbar import decode

OUT = {1: b"\x16", 2: b"\x12", 4: b"\x72"}  # online, no error, paper end


def make_window(qtbot, tmp_path, printer_uri: str):
    return open_window(qtbot, tmp_path, f"""\
        [kiosk]
        data_dir = "data"
        service_point = "转塘街道便民服务中心"
        [devices]
        card_reader = "sim:"
        printer = "{printer_uri}"
        """)


def visit(qtbot, window) -> str:
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-balance")
    touch(qtbot, window, "sim:card:0")
    touch(qtbot, window, "btn:confirm")
    qtbot.waitUntil(lambda: window.ctl.session.visit is not None
                    and bool(window.ctl.session.visit.transaction_id), timeout=5000)
    return window.ctl.session.visit.transaction_id


@pytest.mark.parametrize("transport", ["tcp", "pty"])
def test_visit_prints_a_receipt_whose_qr_is_the_transaction(qtbot, tmp_path, transport):
    receiver = (TcpReceiver() if transport == "tcp" else PtyReceiver()).start()
    try:
        window = make_window(qtbot, tmp_path, receiver.uri)
        tx_id = visit(qtbot, window)
        qtbot.waitUntil(lambda: window.ctl.session.visit.printed is not None, timeout=15000)
        assert window.ctl.session.visit.printed is True
        assert receiver.wait_for(lambda r: r.parser.images and r.parser.cuts, timeout=5)
        image = receiver.images[-1]
        assert image.width == 384
        assert [d.data.decode() for d in decode(image.convert("L"))] == [tx_id]
        receiver.save_images(tmp_path, "receipt")
        assert window.ctl.reprints.pending() == []
        window.close()
    finally:
        receiver.stop()


def test_paper_out_keeps_the_reference_and_the_receipt(qtbot, tmp_path):
    receiver = TcpReceiver(Behaviour(status=dict(OUT))).start()
    try:
        window = make_window(qtbot, tmp_path, receiver.uri)
        tx_id = visit(qtbot, window)
        qtbot.waitUntil(lambda: window.ctl.session.visit.printed is False, timeout=10000)
        label = next(w for w in window.findChildren(QLabel, "label:reference") if w.isVisible())
        assert label.text() and "没能打印" in window.findChild(QLabel, "label:print").text()
        assert window.ctl.device_status["printer"].paper == "out"
        assert window.ctl.reprints.pending() == [tx_id]
        assert window.queue.get(tx_id).state == "pending"  # the transaction is safe
        receiver.behaviour.status = {1: b"\x16", 2: b"\x12", 4: b"\x12"}  # paper loaded
        touch(qtbot, window, "btn:reprint")
        qtbot.waitUntil(lambda: window.ctl.session.visit.printed is True, timeout=10000)
        assert [d.data.decode() for d in decode(receiver.images[-1].convert("L"))] == [tx_id]
        window.close()
    finally:
        receiver.stop()


def test_silent_printer_fails_fast_and_the_visit_ends_normally(qtbot, tmp_path):
    receiver = TcpReceiver(Behaviour(silent=True)).start()
    try:
        window = make_window(qtbot, tmp_path, receiver.uri)
        visit(qtbot, window)
        qtbot.waitUntil(lambda: window.ctl.session.visit.printed is False, timeout=5000)
        assert window.ctl.device_status["printer"].paper == "unknown"
        touch(qtbot, window, "btn:finish")
        qtbot.waitUntil(lambda: window.ctl.session.visit is None, timeout=3000)
        window.close()
    finally:
        receiver.stop()
