"""Printer URIs, the job bytes, and the write-only (file://) and USB transports."""

from __future__ import annotations

import sys
import types

import pytest
from escpos_receiver import EscposParser
from PIL import Image

from drivers.base import DeviceConfigError, DeviceState, DeviceStatus, Paper, PrinterError
from drivers.escpos.printer import EscposPrinter, build_job
from drivers.escpos.transport import PrinterAddress, TransportError, UsbChannel, parse_printer_uri


@pytest.mark.parametrize(
    ("uri", "fields"),
    [
        ("socket://192.168.1.50:9100", {"host": "192.168.1.50", "port": 9100}),
        ("socket://printer.local", {"host": "printer.local", "port": 9100}),
        ("socket://[fe80::1]:9101", {"host": "fe80::1", "port": 9101}),
        ("serial:///dev/ttyS0?baudrate=19200", {"path": "/dev/ttyS0", "baudrate": 19200}),
        ("serial:///dev/ttyUSB1", {"path": "/dev/ttyUSB1", "baudrate": 9600, "flow": "none"}),
        ("serial:///dev/ttyS1?baudrate=115200&flow=rtscts", {"flow": "rtscts"}),
        ("usb://0x0416:0x5011", {"vendor_id": 0x0416, "product_id": 0x5011, "in_ep": 0x82}),
        ("usb://04b8:0e15?in_ep=0x81&out_ep=0x02", {"vendor_id": 0x04B8, "out_ep": 2}),
        ("file:///dev/usb/lp0", {"path": "/dev/usb/lp0"}),
    ],
)
def test_good_uris(uri, fields):
    address = parse_printer_uri(uri)
    assert isinstance(address, PrinterAddress)
    for name, value in fields.items():
        assert getattr(address, name) == value


@pytest.mark.parametrize(
    "uri",
    [
        "socket://",
        "socket://host:notaport",
        "socket://host:99999",
        "socket://host:9100/path",
        "socket://host?timeout=5",
        "serial://dev/ttyS0",
        "serial:///dev/ttyS0?baudrate=fast",
        "serial:///dev/ttyS0?baudrate=0",
        "serial:///dev/ttyS0?protocol=ga467",
        "serial:///dev/ttyS0?flow=dsrdtr",
        "serial:///dev/ttyS0?parity=E",
        "usb://0x0416",
        "usb://xyz:0x5011",
        "usb://0x0416:0x5011?in_ep=zz",
        "file://relative/path",
        "lpd://host/queue",
        "sim:",
        "",
    ],
)
def test_bad_uris_name_the_uri(uri):
    with pytest.raises(DeviceConfigError) as caught:
        EscposPrinter(uri)
    assert repr(uri) in str(caught.value)


def test_bad_width_is_a_config_error():
    with pytest.raises(DeviceConfigError):
        EscposPrinter("socket://host", width_dots=0)


def test_job_bytes(capsys):
    image = Image.new("1", (384, 1000), 1)
    job = build_job(image, 384)
    width_bytes = 384 // 8
    first = b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + (960).to_bytes(2, "little")
    second = b"\x1dv0\x00" + width_bytes.to_bytes(2, "little") + (40).to_bytes(2, "little")
    assert job.startswith(b"\x1b@" + first)
    assert job[2 + 8 + 960 * width_bytes :].startswith(second)
    assert job.endswith(b"\x1bd\x06\x1dV\x00")  # feed 6 lines, full cut
    assert len(job) == 2 + 8 + 960 * 48 + 8 + 40 * 48 + 3 + 3
    assert capsys.readouterr().out == ""  # python-escpos prints when the width is unknown


@pytest.mark.parametrize("width", [384, 512, 576])
def test_jobs_for_every_paper_width_round_trip(width):
    image = Image.new("1", (width, 30), 1)
    image.paste(0, (0, 0, width // 3, 10))
    parser = EscposParser()
    parser.feed(build_job(image, width))
    assert parser.images[0].tobytes() == image.tobytes()
    assert parser.cuts == ["full"]


def test_file_printer_writes_the_job_and_knows_only_that_it_can(tmp_path):
    device = tmp_path / "lp0"
    device.touch()
    image = Image.new("1", (384, 50), 0)
    with EscposPrinter(f"file://{device}") as printer:
        assert printer.status() == DeviceStatus(
            DeviceState.ONLINE, "write-only connection: paper and cover unknown", Paper.UNKNOWN
        )
        printer.print_image(image)
        parser = EscposParser()
        parser.feed(device.read_bytes())
        device.unlink()  # printer unplugged: the kernel removes /dev/usb/lp0
        assert printer.status().state is DeviceState.NODEVICE
        with pytest.raises(PrinterError):
            printer.print_image(image)
    assert not device.exists()  # never created in the device node's place
    assert parser.images[0].tobytes() == image.tobytes()
    assert parser.cuts == ["full"]
    assert [e for e in parser.events if e[0] == "status"] == []  # never asked: no way to read


def test_missing_device_file_is_no_device(tmp_path):
    with EscposPrinter(f"file://{tmp_path}/nothing/lp0") as printer:
        assert printer.status().state is DeviceState.NODEVICE
        with pytest.raises(PrinterError):
            printer.print_image(Image.new("1", (384, 10), 1))


def test_usb_without_pyusb_is_no_device_with_a_clear_message():
    from escpos.printer import Usb

    if Usb.is_usable():
        pytest.skip("pyusb is installed")
    with EscposPrinter("usb://0x0416:0x5011") as printer:
        status = printer.status()
    assert (status.state, status.paper) == (DeviceState.NODEVICE, Paper.UNKNOWN)
    assert "pyusb" in status.detail


class FakeUsbError(OSError):
    def __init__(self, strerror: str, errno: int | None = None):
        super().__init__(errno, strerror)


class FakeUsbTimeoutError(FakeUsbError):
    pass


@pytest.fixture
def fake_pyusb(monkeypatch):
    """pyusb's exception classes, as the USB channel imports them, without pyusb installed."""
    usb = types.ModuleType("usb")
    core = types.ModuleType("usb.core")
    core.USBError, core.USBTimeoutError = FakeUsbError, FakeUsbTimeoutError
    usb.core = core
    monkeypatch.setitem(sys.modules, "usb", usb)
    monkeypatch.setitem(sys.modules, "usb.core", core)


class FakeUsbDevice:
    """Just the pyusb calls the USB channel makes, with a scripted IN endpoint."""

    def __init__(self, packets: list[bytes | Exception]):
        self.writes: list[tuple[int, bytes, int]] = []
        self.reads: list[tuple[int, int]] = []
        self.packets = packets

    def write(self, endpoint: int, data: bytes, timeout: int) -> int:
        self.writes.append((endpoint, bytes(data), timeout))
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int):
        self.reads.append((endpoint, timeout))
        packet = self.packets.pop(0) if self.packets else FakeUsbTimeoutError("timed out", 110)
        if isinstance(packet, Exception):
            raise packet
        return bytearray(packet)


class _Transport:
    def __init__(self, device):
        self._device = device


def usb_channel(device: FakeUsbDevice, uri: str = "usb://0x0416:0x5011") -> UsbChannel:
    channel = UsbChannel(parse_printer_uri(uri), timeout=2.0)
    channel._transport = _Transport(device)  # as if python-escpos's Usb had opened it
    return channel


def test_usb_channel_chunks_with_millisecond_timeouts_and_reads_packets(fake_pyusb):
    device = FakeUsbDevice([b"\x16\x12"])
    channel = usb_channel(device, "usb://0x0416:0x5011?in_ep=0x81&out_ep=0x03")
    channel.write(bytes(10000))
    assert [(ep, len(data), ms) for ep, data, ms in device.writes] == [
        (3, 4096, 2000),
        (3, 4096, 2000),
        (3, 1808, 2000),
    ]
    assert channel.read_byte(0.25) == 0x16
    assert channel.read_byte(0.25) == 0x12
    assert channel.read_byte(0.25) is None
    assert device.reads == [(0x81, 250), (0x81, 250)]


def test_usb_printer_without_an_in_endpoint_becomes_write_only(fake_pyusb):
    channel = usb_channel(FakeUsbDevice([FakeUsbError("Invalid param", 22)]))
    assert channel.read_byte(0.1) is None
    assert not channel.can_read
    assert channel.write_only_status().paper is Paper.UNKNOWN


def test_usb_printer_unplugged_is_a_transport_error(fake_pyusb):
    channel = usb_channel(FakeUsbDevice([FakeUsbError("No such device", 19)]))
    with pytest.raises(TransportError):
        channel.read_byte(0.1)
