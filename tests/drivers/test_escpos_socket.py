"""EscposPrinter over raw TCP against the test receiver: receipts, status, faults, time limits."""

from __future__ import annotations

import socket
import time

import pytest
from escpos_receipts import TX_ID, qr_texts, zh_receipt
from escpos_receiver import Behaviour, TcpReceiver
from PIL import Image

from drivers.base import DeviceState, DeviceStatus, Paper, PrinterError
from drivers.escpos.printer import EscposPrinter
from drivers.escpos.transport import SocketChannel
from kiosk.receipts.render import render_receipt

ON, OFF = DeviceState.ONLINE, DeviceState.OFFLINE
USER, HW = DeviceState.USERERROR, DeviceState.HWERROR


@pytest.fixture(scope="module")
def receipt() -> Image.Image:
    return render_receipt(zh_receipt(), 384)


@pytest.fixture
def receiver():
    with TcpReceiver() as receiver:
        yield receiver


@pytest.fixture
def printer(receiver):
    with EscposPrinter(receiver.uri, timeout=1.0) as printer:
        yield printer


def printed(receiver) -> bool:
    return receiver.wait_for(lambda r: r.parser.cuts, timeout=2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_receipt_arrives_pixel_for_pixel_with_a_readable_qr_and_a_cut(
    receiver, printer, receipt, tmp_path
):
    assert receipt.height > 960  # sent in two GS v 0 fragments
    printer.print_image(receipt, name="3F1C-7A52")
    assert printed(receiver)
    assert receiver.cuts == ["full"]
    assert [(mode, width) for mode, width, _ in receiver.parser.rasters] == [(0, 48), (0, 48)]
    (image,) = receiver.images
    assert image.size == receipt.size
    assert image.tobytes() == receipt.tobytes()
    assert qr_texts(image) == [TX_ID]
    kinds = [event[0] for event in receiver.events if event[0] != "status"]
    assert kinds == ["init", "image", "feed", "cut"]
    # status before and after the job, nothing else
    statuses = [event[1] for event in receiver.events if event[0] == "status"]
    assert statuses == [1, 2, 4, 1, 2, 4]
    assert receiver.save_images(tmp_path)[0].is_file()
    assert printer.last_job_bytes == len(receiver.raw) - 6 * 3


def test_each_call_has_its_own_connection(receiver, printer, receipt):
    printer.print_image(receipt)
    printer.print_image(receipt)
    printer.status()
    assert receiver.wait_for(lambda r: len(r.parser.cuts) == 2)
    assert receiver.wait_for(lambda r: r.connections == 3)
    assert len(receiver.images) == 2
    assert printer._channel is None  # nothing held between calls: other clients may connect


def test_narrow_image_is_centred(receiver, printer):
    image = Image.new("1", (100, 20), 0)
    printer.print_image(image)
    assert printed(receiver)
    (got,) = receiver.images
    assert got.size == (384, 20)
    assert got.getbbox() is not None
    black = Image.eval(got.convert("L"), lambda v: 255 - v).getbbox()
    assert black == (142, 0, 242, 20)


def test_too_wide_image_is_refused_without_sending(receiver, printer):
    with pytest.raises(PrinterError, match="576 dots wide"):
        printer.print_image(Image.new("1", (576, 10), 1))
    assert receiver.raw == b""


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({}, (ON, Paper.FULL)),
        ({4: b"\x1e"}, (ON, Paper.LOW)),
        ({4: b"\x72"}, (USER, Paper.OUT)),
        ({1: b"\x1e", 2: b"\x32", 4: b"\x72"}, (USER, Paper.OUT)),
        ({1: b"\x1e", 2: b"\x16"}, (USER, Paper.FULL)),
        ({1: b"\x1e"}, (OFF, Paper.FULL)),
        ({1: b"\x1e", 2: b"\x52", 3: b"\x1a"}, (HW, Paper.JAMMED)),
        ({1: b"\x1e", 2: b"\x52", 3: b"\x32"}, (HW, Paper.FULL)),
        ({1: b"\xff"}, (HW, Paper.UNKNOWN)),
        ({4: b"\x00"}, (ON, Paper.UNKNOWN)),
        ({4: b""}, (ON, Paper.UNKNOWN)),
    ],
)
def test_status_mapping_over_tcp(receiver, printer, receipt, status, expected):
    receiver.behaviour.status.update(status)
    got = printer.status()
    assert (got.state, got.paper) == expected
    if expected in ((ON, Paper.FULL), (ON, Paper.LOW)):
        printer.print_image(receipt)
        assert printed(receiver)
        return
    started = time.monotonic()
    with pytest.raises(PrinterError) as caught:
        printer.print_image(receipt)
    assert time.monotonic() - started < 5
    assert (caught.value.status.state, caught.value.status.paper) == expected
    assert receiver.images == []


def test_silent_printer_is_offline_and_refused_quickly(receiver, printer, receipt):
    receiver.behaviour.silent = True
    started = time.monotonic()
    status = printer.status()
    assert time.monotonic() - started < 5
    assert status == DeviceStatus(OFF, "no reply to status request", Paper.UNKNOWN)
    started = time.monotonic()
    with pytest.raises(PrinterError) as caught:
        printer.print_image(receipt)
    assert time.monotonic() - started < 5
    assert caught.value.status.paper is Paper.UNKNOWN
    assert receiver.images == [] and "init" not in [e[0] for e in receiver.events]


def test_printer_that_answers_again_is_back(receiver, printer):
    receiver.behaviour.silent = True
    assert printer.status().state is OFF
    receiver.behaviour.silent = False
    assert printer.status() == DeviceStatus(ON, "", Paper.FULL)


def test_connection_refused_is_offline_fast(receipt):
    with EscposPrinter(f"socket://127.0.0.1:{free_port()}", timeout=1.0) as printer:
        started = time.monotonic()
        status = printer.status()
        assert status.state is OFF and status.paper is Paper.UNKNOWN
        assert "refused" in status.detail.lower()
        with pytest.raises(PrinterError) as caught:
            printer.print_image(receipt)
        assert caught.value.status.state is OFF
        assert time.monotonic() - started < 5


def test_printer_hanging_up_mid_job_fails_the_job(receiver, printer, receipt):
    receiver.behaviour.close_after = 5000
    started = time.monotonic()
    with pytest.raises(PrinterError) as caught:
        printer.print_image(receipt)
    assert time.monotonic() - started < 5
    assert caught.value.status.state is OFF
    # the next call connects again
    receiver.behaviour.close_after = None
    assert printer.status().state is ON
    assert receiver.wait_for(lambda r: r.connections == 2)


def test_paper_running_out_mid_job_is_reported(receiver, printer, receipt):
    receiver.behaviour.status_after = (5000, {1: b"\x1e", 2: b"\x32", 4: b"\x72"})
    with pytest.raises(PrinterError, match="may be incomplete") as caught:
        printer.print_image(receipt)
    assert caught.value.status == DeviceStatus(USER, "paper end", Paper.OUT)


def test_printer_that_stops_reading_fails_within_the_timeout(receipt):
    with TcpReceiver(Behaviour(stall_after=2000), rcvbuf=4096) as receiver:
        with EscposPrinter(receiver.uri, timeout=1.0) as printer:
            started = time.monotonic()
            with pytest.raises(PrinterError, match="stopped taking data") as caught:
                printer.print_image(receipt)
            assert time.monotonic() - started < 5
    assert caught.value.status.state is OFF


def test_stale_kept_connection_is_made_again(receiver, printer, monkeypatch):
    # TCP connections are not kept; serial and USB ones are, and go stale the same way.
    monkeypatch.setattr(SocketChannel, "keep_open", True)
    assert printer.status().state is ON
    receiver.hang_up()  # printer power-cycled: the kept connection is dead
    assert printer.status() == DeviceStatus(ON, "", Paper.FULL)
    assert receiver.connections == 2


def test_no_io_before_use(receiver):
    printer = EscposPrinter(receiver.uri)
    printer.open()
    time.sleep(0.1)
    assert receiver.connections == 0
    assert printer.status().state is ON
    printer.close()
    assert receiver.connections == 1


def test_closed_printer_refuses(receiver, receipt):
    printer = EscposPrinter(receiver.uri)
    assert printer.status() == DeviceStatus(OFF, "not open", Paper.UNKNOWN)
    with pytest.raises(PrinterError, match="not open"):
        printer.print_image(receipt)
    assert receiver.connections == 0


def test_socket_timeout_is_ours_never_the_60_s_default(receiver, printer, monkeypatch):
    monkeypatch.setattr(SocketChannel, "keep_open", True)
    printer.status()
    transport = printer._channel._transport
    assert transport.timeout == 1.0
    assert 0 < printer._channel.device.gettimeout() <= 1.0
