"""The test receiver's ESC/POS parser, and when the receiver answers a status request."""

from __future__ import annotations

import random
import socket
import time

from escpos.printer import Dummy
from escpos_receiver import EscposParser, TcpReceiver
from PIL import Image

from drivers.escpos.printer import build_job


def checker(width: int = 64, height: int = 40) -> Image.Image:
    image = Image.new("1", (width, height), 1)
    for y in range(height):
        for x in range(width):
            if (x // 4 + y // 4) % 2:
                image.putpixel((x, y), 0)
    return image


def sample_stream() -> bytes:
    """Text, a QR code, barcodes, images in three encodings and cuts, as python-escpos sends."""
    printer = Dummy(profile="TM-T88V")
    printer.set(align="center", bold=True, double_height=True)
    printer.text("Receipt 回执\n")
    printer.qr("3f1c7a52", native=True)
    printer.barcode("4006381333931", "EAN13", function_type="A")
    printer.barcode("{B012ABCDabcd", "CODE128", function_type="B")
    printer.image(checker(), impl="bitImageColumn")
    printer.image(checker(), impl="graphics")
    printer.textln("after the pictures")
    printer.cashdraw(2)
    printer.buzzer()
    printer.line_spacing(30)
    printer.cut(mode="PART")
    return printer.output + build_job(checker(384, 1000), 384)


def parse(data: bytes, chunks: list[int] | None = None) -> EscposParser:
    parser = EscposParser()
    pos = 0
    for size in chunks or [len(data)]:
        parser.feed(data[pos : pos + size])
        pos += size
    parser.feed(data[pos:])
    return parser


def test_python_escpos_output_is_understood():
    parser = parse(sample_stream())
    assert parser.pending == 0
    assert parser.unknown == []
    assert parser.texts == ["Receipt 回执", "after the pictures"]
    assert parser.cuts == ["partial", "full"]
    # GS v 0 fragments of 960 and 40 rows come back as one image
    assert [r[2] for r in parser.rasters] == [960, 40]
    assert len(parser.images) == 1
    assert parser.images[0].tobytes() == checker(384, 1000).tobytes()


def test_any_split_of_the_stream_gives_the_same_result():
    data = sample_stream()
    whole = parse(data)
    rng = random.Random(1234)
    for _ in range(20):
        chunks = [rng.randint(1, 700) for _ in range(len(data) // 300)]
        split = parse(data, chunks)
        assert split.events == whole.events
        assert [i.tobytes() for i in split.images] == [i.tobytes() for i in whole.images]


def test_unknown_commands_are_skipped():
    parser = parse(b"\x1b\xf0\x1d\xf1AB\x1c\xf2\x10\xf3C\x07\n")
    assert parser.texts == ["ABC"]
    assert parser.unknown == [b"\x1b\xf0", b"\x1d\xf1", b"\x1c\xf2", b"\x10\xf3"]
    assert ("control", 0x07) in parser.events


def test_noise_never_raises():
    rng = random.Random(99)
    parser = EscposParser()
    for _ in range(200):
        parser.feed(bytes(rng.randrange(256) for _ in range(rng.randint(0, 200))))


def send_and_listen(sock: socket.socket, data: bytes, wait: float = 0.3) -> bytes:
    sock.sendall(data)
    sock.settimeout(wait)
    try:
        return sock.recv(16)
    except TimeoutError:
        return b""


def test_status_inside_image_data_is_not_answered():
    raster = b"\x1dv0\x00\x01\x00\x08\x00"  # 1 byte wide, 8 rows
    with TcpReceiver() as receiver, socket.create_connection(("127.0.0.1", receiver.port)) as s:
        # The image is incomplete and its data so far ends in 10 04 01: stay quiet.
        assert send_and_listen(s, raster + b"\x00\x00\x00\x00\x10\x04\x01") == b""
        assert send_and_listen(s, b"\x00") == b""
        # A real request after the image, as the last thing received: answered.
        assert send_and_listen(s, b"\x10\x04\x01") == b"\x16"
        # A request followed by more data is no longer the last thing received.
        assert send_and_listen(s, b"\x10\x04\x04\x1b@") == b""
        assert send_and_listen(s, b"\x10\x04\x04") == b"\x12"
    assert receiver.parser.rasters == [(0, 1, 8)]


def test_request_split_across_packets_is_answered():
    with TcpReceiver() as receiver, socket.create_connection(("127.0.0.1", receiver.port)) as s:
        s.sendall(b"\x10")
        time.sleep(0.1)
        assert send_and_listen(s, b"\x04\x02") == b"\x12"
