"""EscposPrinter on a serial line: a pseudo-terminal with the test receiver at the master side."""

from __future__ import annotations

import time

import pytest
from escpos_receipts import TX_ID, qr_texts, zh_receipt
from escpos_receiver import Behaviour, PtyReceiver

from drivers.base import DeviceState, DeviceStatus, Paper, PrinterError
from drivers.escpos.printer import EscposPrinter
from kiosk.receipts.render import render_receipt


@pytest.fixture(scope="module")
def receipt():
    return render_receipt(zh_receipt(), 384)


@pytest.fixture
def receiver():
    with PtyReceiver(baudrate=115200) as receiver:
        yield receiver


@pytest.fixture
def printer(receiver):
    assert receiver.uri.startswith("serial:///dev/")
    with EscposPrinter(receiver.uri, timeout=1.0) as printer:
        yield printer


def test_receipt_over_the_serial_line(receiver, printer, receipt):
    printer.print_image(receipt, name="3F1C-7A52")
    assert receiver.wait_for(lambda r: r.parser.cuts, timeout=2)
    (image,) = receiver.images
    assert image.tobytes() == receipt.tobytes()
    assert qr_texts(image) == [TX_ID]
    assert receiver.cuts == ["full"]


@pytest.mark.parametrize(
    ("status", "state", "paper"),
    [
        ({}, DeviceState.ONLINE, Paper.FULL),
        ({4: b"\x1e"}, DeviceState.ONLINE, Paper.LOW),
        ({4: b"\x72"}, DeviceState.USERERROR, Paper.OUT),
        ({1: b"\x1e", 2: b"\x16"}, DeviceState.USERERROR, Paper.FULL),
        ({1: b"\x1e", 2: b"\x52"}, DeviceState.HWERROR, Paper.FULL),
        ({1: b"\xfe"}, DeviceState.HWERROR, Paper.UNKNOWN),
    ],
)
def test_status_over_the_serial_line(receiver, printer, status, state, paper):
    receiver.behaviour.status.update(status)
    got = printer.status()
    assert (got.state, got.paper) == (state, paper)


def test_xon_xoff_bytes_around_a_reply_are_skipped(receiver, printer):
    receiver.behaviour.status[4] = b"\x13\x11\x1e"
    assert printer.status().paper is Paper.LOW


def test_silent_line_is_offline_and_print_refused_quickly(receiver, printer, receipt):
    receiver.behaviour.silent = True
    started = time.monotonic()
    assert printer.status() == DeviceStatus(
        DeviceState.OFFLINE, "no reply to status request", Paper.UNKNOWN
    )
    with pytest.raises(PrinterError):
        printer.print_image(receipt)
    assert time.monotonic() - started < 5
    assert receiver.images == []


def test_line_hung_up_mid_job_fails_the_job(receiver, printer, receipt):
    receiver.behaviour.close_after = 5000
    started = time.monotonic()
    with pytest.raises(PrinterError) as caught:
        printer.print_image(receipt)
    assert time.monotonic() - started < 5
    assert caught.value.status.state is DeviceState.OFFLINE


def test_printer_that_stops_reading_fails_within_the_timeout(receipt):
    with PtyReceiver(Behaviour(stall_after=1000)) as receiver:
        with EscposPrinter(receiver.uri, timeout=0.5) as printer:
            started = time.monotonic()
            with pytest.raises(PrinterError, match="stopped taking data"):
                printer.print_image(receipt)
            assert time.monotonic() - started < 5


def test_missing_port_is_no_device(receipt):
    with EscposPrinter("serial:///dev/ttyNOSUCHPORT?baudrate=19200") as printer:
        status = printer.status()
        assert (status.state, status.paper) == (DeviceState.NODEVICE, Paper.UNKNOWN)
        assert "ttyNOSUCHPORT" in status.detail
        with pytest.raises(PrinterError):
            printer.print_image(receipt)


def test_serial_timeouts_are_short(receiver, printer):
    printer.status()
    port = printer._channel.device
    assert port.baudrate == 115200
    assert port.write_timeout <= 2
    assert port.timeout <= 1
