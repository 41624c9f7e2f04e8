"""A card emulator for vsmartcard's vpcd reader driver, for tests against a real pcscd.

vpcd (``DEVICENAME /dev/null:PORT`` in a reader configuration) listens on PORT; a card is
"inserted" by connecting to it and "removed" by closing the connection. Each message is a
2-byte big-endian length then the payload: a 1-byte payload is a control (0 power off, 1 power
on, 2 reset: no answer; 4 get ATR: answer the ATR), anything longer is an APDU to answer with
response data + SW1 SW2. pcscd asks for the ATR on every presence poll (about every 400 ms).

``EmulatedCard`` answers APDUs: GET DATA UID (``FF CA 00 00 00``) and, when given an identity
file, the Belgian eID file system (SELECT by path 3F00/DF01/4031, READ BINARY with T=0's
6Cxx). ``VpcdCard`` puts it in the reader on a thread of its own, and can pull it mid-APDU or
answer garbage to exercise a driver's error paths.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

CTRL_OFF, CTRL_ON, CTRL_RESET, CTRL_ATR = 0, 1, 2, 4

# PC/SC part 3 ATR of a contactless MIFARE Classic 1K as a reader reports it.
ATR_CONTACTLESS = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
# A Belgian eID (applet 1.1) ATR.
ATR_BEID = bytes.fromhex("3B9813400AA503010101AD1311")

SW_OK = b"\x90\x00"
SW_FILE_NOT_FOUND = b"\x6a\x82"
SW_WRONG_P1P2 = b"\x6b\x00"
SW_INS_NOT_SUPPORTED = b"\x6d\x00"
SW_CLA_NOT_SUPPORTED = b"\x6e\x00"
SW_NO_FILE_SELECTED = b"\x69\x86"

BEID_ID_PATH = bytes.fromhex("DF014031")


def beid_tlv(tag: int, value: bytes) -> bytes:
    """One entry of a Belgian eID file: tag, length in 7-bit groups (high bit = more), value."""
    n = len(value)
    groups = [n & 0x7F]
    n >>= 7
    while n:
        groups.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes([tag, *reversed(groups)]) + value


def beid_identity_file(
    *,
    national_number: str = "71715100070",
    surname: str = "Specimen",
    first_names: str = "Alice Geldigekaart",
    birth_date: str = "15 JUL 1971",
    gender: str = "F",
    valid_from: str = "01.02.2021",
    valid_to: str = "01.02.2031",
    card_number: str = "592123456789",
    extra: bytes = b"",
) -> bytes:
    """An identity file (3F00/DF01/4031) laid out as on a real card: made-up specimen data."""
    entries = [
        (0x00, b"\x01"),  # file structure version, skipped by readers
        (0x01, card_number.encode()),
        (0x02, bytes(range(16))),  # chip number
        (0x03, valid_from.encode()),
        (0x04, valid_to.encode()),
        (0x05, "Liège".encode()),
        (0x06, national_number.encode()),
        (0x07, surname.encode()),
        (0x08, first_names.encode()),
        (0x09, b""),
        (0x0A, b"Belg"),
        (0x0B, "Liège".encode()),
        (0x0C, birth_date.encode()),
        (0x0D, gender.encode()),
        (0x0E, b""),
        (0x0F, b"1"),  # document type: Belgian citizen's card
        (0x10, b"0"),
        (0x11, bytes(20)),  # photo hash
    ]
    return b"".join(beid_tlv(t, v) for t, v in entries) + extra


@dataclass
class EmulatedCard:
    """What the card answers. Plain data: a test sets the fields it needs."""

    atr: bytes = ATR_CONTACTLESS
    uid: bytes | None = bytes.fromhex("04A2245A3C5E80")
    id_file: bytes | None = None  # Belgian eID 3F00/DF01/4031 contents; None: no eID applet
    apdus: list[bytes] = field(default_factory=list)  # every APDU received, in order
    _selected: bytes | None = None

    def power_on(self) -> None:
        self._selected = None

    def respond(self, apdu: bytes) -> bytes:
        self.apdus.append(apdu)
        if len(apdu) < 4:
            return b"\x67\x00"
        cla, ins, p1, p2 = apdu[:4]
        if cla == 0xFF and ins == 0xCA:
            return self._get_data(p1, p2)
        if cla != 0x00:
            return SW_CLA_NOT_SUPPORTED
        if ins == 0xA4:
            return self._select(p1, p2, apdu[4:])
        if ins == 0xB0:
            return self._read_binary((p1 << 8) | p2, apdu[4:])
        return SW_INS_NOT_SUPPORTED

    def _get_data(self, p1: int, p2: int) -> bytes:
        if p1 != 0x00 or self.uid is None:
            return b"\x6a\x81"  # function not supported
        return self.uid + SW_OK

    def _select(self, p1: int, p2: int, body: bytes) -> bytes:
        if self.id_file is None or not body:
            return SW_FILE_NOT_FOUND
        lc = body[0]
        path = body[1 : 1 + lc]
        if p1 == 0x08 and path == BEID_ID_PATH:
            self._selected = path
            return SW_OK
        self._selected = None
        return SW_FILE_NOT_FOUND

    def _read_binary(self, offset: int, body: bytes) -> bytes:
        if self._selected != BEID_ID_PATH or self.id_file is None:
            return SW_NO_FILE_SELECTED
        le = body[0] if body else 0
        le = le or 256
        data = self.id_file
        if offset >= len(data):
            return SW_WRONG_P1P2
        available = len(data) - offset
        if le > available:  # T=0 style: "wrong length, the exact length is xx"
            return bytes([0x6C, available])
        return data[offset : offset + le] + SW_OK


def _recv_exact(sock: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    _quick_ack(sock)
    return buf


def _quick_ack(sock: socket.socket) -> None:
    """ACK at once: vpcd writes a message's length and its payload separately without
    TCP_NODELAY, so with Linux's delayed ACK every message would wait about 40 ms (Nagle)."""
    if hasattr(socket, "TCP_QUICKACK"):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass


class VpcdCard:
    """Puts an ``EmulatedCard`` into the vpcd reader listening on ``port``.

    ``pull_when(apdu)`` returning True closes the connection instead of answering (the card
    leaves the field mid-APDU: vpcd then hands pcscd an empty response, and the next APDU
    fails with SCARD_E_NOT_TRANSACTED); ``leave_after(apdu)`` returning True answers, then
    closes (the next APDU fails with SCARD_W_REMOVED_CARD once pcscd's presence poll has seen
    the card go, or gets vpcd's empty response before that); ``garbage_when(apdu)`` returning
    bytes answers those instead.
    """

    def __init__(self, port: int, card: EmulatedCard | None = None, host: str = "127.0.0.1"):
        self.port = port
        self.host = host
        self.card = card if card is not None else EmulatedCard()
        self.pull_when: Callable[[bytes], bool] | None = None
        self.leave_after: Callable[[bytes], bool] | None = None
        self.garbage_when: Callable[[bytes], bytes | None] | None = None
        self.inserted_at: float | None = None  # time.monotonic() of the connection
        self.first_poll_at: float | None = None  # first message from pcscd after insertion
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def inserted(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def insert(self, timeout: float = 5.0) -> None:
        """Connect to vpcd (retrying while pcscd is not listening yet)."""
        self.remove()
        deadline = time.monotonic() + timeout
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(None)
        self.inserted_at = time.monotonic()
        self.first_poll_at = None
        with self._lock:
            self._sock = sock
        self._thread = threading.Thread(target=self._serve, args=(sock,), daemon=True,
                                        name=f"vpcd-card-{self.port}")
        self._thread.start()

    def remove(self) -> None:
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def wait_removed_by_peer(self, timeout: float = 5.0) -> bool:
        """True once the connection has ended (e.g. pcscd went away)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.inserted

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                header = _recv_exact(sock, 2)
                if header is None:
                    return
                (length,) = struct.unpack(">H", header)
                payload = _recv_exact(sock, length) if length else b""
                if payload is None:
                    return
                if self.first_poll_at is None:
                    self.first_poll_at = time.monotonic()
                answer = self._answer(payload)
                if answer is None:
                    if len(payload) > 1:  # pulled mid-APDU
                        self._drop(sock)
                        return
                    continue
                sock.sendall(struct.pack(">H", len(answer)) + answer)
                if len(payload) > 1 and self.leave_after is not None and self.leave_after(payload):
                    self._drop(sock)
                    return
        except OSError:
            return  # removed by the test, or pcscd went away
        finally:
            self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        with self._lock:
            if self._sock is sock:
                self._sock = None
        try:
            sock.close()
        except OSError:
            pass

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            ctrl = payload[0]
            if ctrl == CTRL_ATR:
                return self.card.atr
            if ctrl in (CTRL_ON, CTRL_RESET):
                self.card.power_on()
            return None  # power on/off and reset expect no answer
        if self.pull_when is not None and self.pull_when(payload):
            return None
        if self.garbage_when is not None:
            garbage = self.garbage_when(payload)
            if garbage is not None:
                self.card.apdus.append(payload)
                return garbage
        return self.card.respond(payload)
