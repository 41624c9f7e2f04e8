"""Resident ID card reader speaking GA 467 on a serial line: ``serial:///dev/ttyUSB0?protocol=ga467``.

``wait_event`` is a pump: it sends "find card" every ``POLL_INTERVAL_S`` and advances one
command exchange at a time (find -> select -> read), so a slow read may span several calls and
no call blocks past its timeout. Every exchange has its own deadline and byte budget. Linux
only (``select`` on the port's file descriptor). Not thread-safe: one device thread owns it.
"""

from __future__ import annotations

import errno
import logging
import math
import select
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote, urlsplit

import serial

from drivers.base import (
    CardEvent,
    CardEventKind,
    CardReader,
    DeviceConfigError,
    DeviceError,
    DeviceState,
    DeviceStatus,
    Identity,
)
from drivers.ga467.frames import (
    FIND_CARD,
    MAX_FRAME_SIZE,
    PHOTO_SIZE,
    READ_TEXT_PHOTO,
    SAM_FAULTS,
    SAM_STATUS,
    SELECT_CARD,
    SW3_FIND_OK,
    SW3_NO_CARD,
    SW3_OK,
    TEXT_SIZE,
    FrameDecoder,
    FrameError,
    Response,
    encode_command,
    parse_identity_text,
)

log = logging.getLogger(__name__)

BAUDRATES = (115200, 57600, 38400, 19200, 9600)
_ANSWER_SIZES = {  # bytes on the wire, to scale deadlines with the baud rate
    SAM_STATUS: 11,
    FIND_CARD: 15,
    SELECT_CARD: 19,
    READ_TEXT_PHOTO: 7 + 3 + 4 + TEXT_SIZE + PHOTO_SIZE + 1,
}
_NAMES = {SAM_STATUS: "SAM status", FIND_CARD: "find card", SELECT_CARD: "select card",
          READ_TEXT_PHOTO: "read card"}
_NOISE_BUDGET = 4 * MAX_FRAME_SIZE  # bytes one exchange may receive before it gives up


@dataclass(frozen=True)
class SerialSettings:
    path: str
    baudrate: int = 115200


def parse_uri(uri: str) -> SerialSettings:
    """``serial:///dev/ttyUSB0?protocol=ga467&baudrate=115200``; errors name the URI."""
    parts = urlsplit(uri)
    example = "serial:///dev/ttyUSB0?protocol=ga467&baudrate=115200"
    if parts.scheme.lower() != "serial" or parts.netloc or parts.fragment:
        raise DeviceConfigError(f"{uri!r}: not a serial port URI (expected e.g. {example!r})")
    path = unquote(parts.path)
    if not path.startswith("/") or path.endswith("/"):
        raise DeviceConfigError(f"{uri!r}: the port must be an absolute device path")
    try:
        pairs = parse_qsl(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise DeviceConfigError(f"{uri!r}: malformed parameters {parts.query!r}") from None
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise DeviceConfigError(f"{uri!r}: parameter {key!r} given twice")
        params[key] = value
    unknown = sorted(set(params) - {"protocol", "baudrate"})
    if unknown:
        raise DeviceConfigError(f"{uri!r}: unknown parameter {unknown[0]!r} "
                                "(known: protocol, baudrate)")
    if params.get("protocol", "ga467").lower() != "ga467":
        raise DeviceConfigError(f"{uri!r}: protocol {params['protocol']!r} is not supported "
                                "for card readers (supported: ga467)")
    raw_baud = params.get("baudrate", "115200")
    if not raw_baud.isdigit() or int(raw_baud) not in BAUDRATES:
        known = ", ".join(str(b) for b in BAUDRATES)
        raise DeviceConfigError(f"{uri!r}: baudrate {raw_baud!r} is not one of {known}")
    return SerialSettings(path=path, baudrate=int(raw_baud))


@dataclass(frozen=True)
class _Failure:
    """An exchange that produced no usable answer; ``detail`` never holds card data."""

    kind: str  # "no-answer", "incomplete", "checksum", "length", "noise"
    detail: str


class _Exchange:
    def __init__(self, command: tuple[int, int], deadline: float):
        self.command = command
        self.deadline = deadline
        self.decoder = FrameDecoder()
        self.received = 0


class Ga467Reader(CardReader):
    """A GA 467 ID card reader (a SAM module behind a USB-serial or RS-232 line)."""

    POLL_INTERVAL_S = 0.25  # between "find card" commands
    REMOVAL_POLLS = 2  # consecutive "no card" answers before a handled card counts as gone
    FAILED_POLL_LIMIT = 3  # consecutive unanswered/garbled polls before raising DeviceError
    SAM_ATTEMPTS = 2
    # Time the reader itself may take per command, before bytes move; wire time is added.
    READ_ALLOWANCE_S = 1.2
    COMMAND_ALLOWANCE_S = 0.3

    def __init__(self, uri: str):
        self.uri = uri
        self.settings = parse_uri(uri)
        self._serial: serial.Serial | None = None
        self._status = DeviceStatus(DeviceState.OFFLINE, "not opened")
        self._exchange: _Exchange | None = None
        self._next_poll = 0.0
        self._card_handled = False  # the card on the reader produced an event already
        self._absent_polls = 0
        self._failed_polls = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        if self._serial is not None:
            return
        path = self.settings.path
        try:
            self._serial = serial.Serial(
                path, baudrate=self.settings.baudrate, bytesize=serial.EIGHTBITS,
                parity=serial.PARITY_NONE, stopbits=serial.STOPBITS_ONE,
                timeout=0, write_timeout=0.5, exclusive=True)
        except (serial.SerialException, OSError) as exc:
            state, detail = _open_failure(exc)
            self._set_status(state, detail)
            raise DeviceError(f"{path}: {detail}") from None
        self._exchange = None
        self._card_handled = False
        self._absent_polls = self._failed_polls = 0
        try:
            self._check_sam()
        except DeviceError:
            self._close_port()
            raise
        self._next_poll = time.monotonic()

    def close(self) -> None:
        self._close_port()
        if self._status.state == DeviceState.ONLINE:
            self._set_status(DeviceState.OFFLINE, "closed")

    def status(self) -> DeviceStatus:
        return self._status

    def _check_sam(self) -> None:
        outcome: Response | _Failure = _Failure("no-answer", "")
        for _ in range(self.SAM_ATTEMPTS):
            self._start(SAM_STATUS)
            outcome = self._receive(math.inf)
            if isinstance(outcome, Response):
                break
        if isinstance(outcome, _Failure):
            if outcome.kind == "no-answer":
                self._set_status(DeviceState.OFFLINE, "reader not answering")
            else:
                self._set_status(DeviceState.HWERROR, f"garbled answer ({outcome.detail})")
            raise DeviceError(f"{self.settings.path}: {self._status.detail}")
        if outcome.sw3 in SAM_FAULTS:
            self._sam_fault(outcome)
        if outcome.sw3 != SW3_OK:
            log.warning("GA 467 SAM status answered %s; carrying on", outcome.describe())
        self._set_status(DeviceState.ONLINE, "ready")

    # -- events ------------------------------------------------------------------------------
    def wait_event(self, timeout: float) -> CardEvent | None:
        if self._serial is None:
            raise DeviceError(f"{self.settings.path}: reader is not open")
        end = time.monotonic() + max(0.0, timeout)
        while True:
            if self._exchange is None:
                now = time.monotonic()
                if now < self._next_poll:
                    if now >= end:
                        return None
                    self._idle(min(self._next_poll, end) - now)
                    continue
                self._next_poll = now + self.POLL_INTERVAL_S
                self._start(FIND_CARD)
            command = self._exchange.command
            outcome = self._receive(end)
            if outcome is None:
                return None
            event = self._advance(command, outcome)
            if event is not None:
                return event
            if self._exchange is None and time.monotonic() >= end:
                return None

    def _advance(self, command: tuple[int, int],
                 outcome: Response | _Failure) -> CardEvent | None:
        if isinstance(outcome, Response) and outcome.sw3 in SAM_FAULTS:
            self._sam_fault(outcome)
        if command == FIND_CARD:
            return self._after_find(outcome)
        if isinstance(outcome, _Failure):
            return self._unreadable(f"{_NAMES[command]}: {outcome.detail}")
        if command == SELECT_CARD:
            if outcome.sw3 != SW3_OK:
                return self._unreadable(f"select card: {outcome.describe()}")
            self._start(READ_TEXT_PHOTO)
            return None
        if outcome.sw3 != SW3_OK:
            return self._unreadable(f"read card: {outcome.describe()}")
        return self._identity_event(outcome.data)

    def _after_find(self, outcome: Response | _Failure) -> CardEvent | None:
        if isinstance(outcome, _Failure) or outcome.sw3 not in (SW3_FIND_OK, SW3_NO_CARD):
            self._failed_polls += 1
            if isinstance(outcome, _Failure) and outcome.kind == "no-answer":
                self._set_status(DeviceState.OFFLINE, "reader not answering")
            elif isinstance(outcome, _Failure):
                self._set_status(DeviceState.HWERROR, f"garbled answers ({outcome.detail})")
            else:
                self._set_status(DeviceState.HWERROR,
                                 f"find card answered {outcome.describe()}")
            if self._failed_polls >= self.FAILED_POLL_LIMIT:
                self._failed_polls = 0
                raise DeviceError(f"{self.settings.path}: {self._status.detail}")
            return None
        self._failed_polls = 0
        if self._status.state != DeviceState.ONLINE:
            self._set_status(DeviceState.ONLINE, "ready")
        if outcome.sw3 == SW3_FIND_OK:
            self._absent_polls = 0
            if not self._card_handled:
                self._start(SELECT_CARD)
            return None
        if not self._card_handled:
            return None
        self._absent_polls += 1
        if self._absent_polls < self.REMOVAL_POLLS:
            return None
        self._card_handled = False
        self._absent_polls = 0
        log.debug("GA 467 card removed")
        return CardEvent(CardEventKind.REMOVED)

    def _identity_event(self, data: bytes) -> CardEvent:
        if len(data) < 4:
            return self._unreadable(f"read card: answer has {len(data)} data bytes")
        # The lengths are the bytes 01 00 and 04 00: 256 and 1024 read big-endian.
        text_len = int.from_bytes(data[0:2], "big")
        photo_len = int.from_bytes(data[2:4], "big")
        if text_len != TEXT_SIZE or len(data) != 4 + text_len + photo_len:
            return self._unreadable(f"read card: unexpected sizes (text {text_len}, "
                                    f"photo {photo_len}, {len(data)} data bytes)")
        fields = parse_identity_text(data[4:4 + TEXT_SIZE])
        if fields["card_type"] == "foreign-permanent-resident":
            return self._unreadable("foreign permanent resident cards are not supported")
        if not fields["id_number"] or not fields["name"]:
            return self._unreadable("card text has no name or no ID number")
        self._card_handled = True
        self._absent_polls = 0
        identity = Identity(
            method="ga467", name=fields["name"], id_number=fields["id_number"],
            gender=fields["gender"], birth_date=fields["birth_date"],
            valid_to=fields["valid_to"])
        log.info("GA 467 card read")
        return CardEvent(CardEventKind.READ, identity=identity)

    def _unreadable(self, reason: str) -> CardEvent:
        self._card_handled = True  # wait for it to be taken away before trying again
        self._absent_polls = 0
        self._exchange = None
        log.warning("GA 467 card unreadable: %s", reason)
        return CardEvent(CardEventKind.UNREADABLE, reason=reason)

    def _sam_fault(self, response: Response):
        self._set_status(DeviceState.HWERROR, f"SAM fault: {response.describe()}")
        raise DeviceError(f"{self.settings.path}: {self._status.detail}")

    # -- exchanges ---------------------------------------------------------------------------
    def _deadline_s(self, command: tuple[int, int]) -> float:
        wire = (10 + _ANSWER_SIZES[command]) * 10 / self.settings.baudrate
        allowance = (self.READ_ALLOWANCE_S if command == READ_TEXT_PHOTO
                     else self.COMMAND_ALLOWANCE_S)
        return allowance + 2 * wire

    def _start(self, command: tuple[int, int]) -> None:
        self._drain()
        self._exchange = _Exchange(command, time.monotonic() + self._deadline_s(command))
        try:
            self._serial.write(encode_command(*command))
        except (serial.SerialException, OSError) as exc:
            raise self._port_lost(exc) from None

    def _receive(self, end: float) -> Response | _Failure | None:
        """The current exchange's outcome, or None when ``end`` comes first."""
        ex = self._exchange
        while True:
            wait = min(end, ex.deadline) - time.monotonic()
            data = self._read_available(max(0.0, wait))
            if data:
                ex.received += len(data)
                items = ex.decoder.feed(data)
                if items:
                    first = items[0]
                    self._exchange = None
                    if isinstance(first, FrameError):
                        return _Failure(first.kind, f"{first.kind} error in the answer")
                    return Response.from_payload(first)
                if ex.received > _NOISE_BUDGET:
                    self._exchange = None
                    return _Failure("noise", f"{ex.received} bytes of noise, no frame")
                continue
            now = time.monotonic()
            if now >= ex.deadline:
                self._exchange = None
                if ex.decoder.in_frame:
                    return _Failure("incomplete", "answer stopped part-way")
                return _Failure("no-answer", "no answer")
            if now >= end:
                return None

    def _read_available(self, wait_s: float) -> bytes:
        try:
            ready, _, _ = select.select([self._serial.fileno()], [], [], wait_s)
            if not ready:
                return b""
            return self._serial.read(max(1, self._serial.in_waiting))
        except (serial.SerialException, OSError, ValueError) as exc:
            raise self._port_lost(exc) from None

    def _drain(self) -> None:
        """Drop stale bytes (a late answer to an abandoned command) before a new command."""
        dropped = 0
        while dropped < _NOISE_BUDGET and (data := self._read_available(0.0)):
            dropped += len(data)
        if dropped:
            log.debug("GA 467: dropped %d stale bytes", dropped)

    def _idle(self, seconds: float) -> None:
        """Wait between polls, still noticing an unplugged port or unexpected bytes."""
        if self._read_available(max(0.0, seconds)):
            self._drain()

    def _port_lost(self, exc: BaseException) -> DeviceError:
        self._close_port()
        self._set_status(DeviceState.OFFLINE, "reader disconnected")
        return DeviceError(f"{self.settings.path}: port lost ({exc})")

    def _close_port(self) -> None:
        port, self._serial = self._serial, None
        self._exchange = None
        if port is not None:
            try:
                port.close()
            except (serial.SerialException, OSError):
                log.debug("closing %s failed", self.settings.path, exc_info=True)

    def _set_status(self, state: DeviceState, detail: str) -> None:
        new = DeviceStatus(state, detail)
        if new != self._status:
            quiet = state == DeviceState.ONLINE or detail == "closed"
            level = logging.INFO if quiet else logging.WARNING
            log.log(level, "GA 467 reader %s: %s (%s)", self.settings.path, state, detail)
            self._status = new


def _open_failure(exc: BaseException) -> tuple[DeviceState, str]:
    code = getattr(exc, "errno", None)
    if code in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
        return DeviceState.NODEVICE, "no such port (reader unplugged?)"
    if code == errno.EACCES:
        return DeviceState.OFFLINE, "permission denied (is the kiosk user in group dialout?)"
    if code in (errno.EBUSY, errno.EWOULDBLOCK):
        return DeviceState.OFFLINE, "port in use by another program"
    return DeviceState.OFFLINE, f"cannot open port ({exc})"
