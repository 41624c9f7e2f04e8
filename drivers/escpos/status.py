"""ESC/POS real-time status (``DLE EOT n``), asked and decided from the raw reply bytes.

python-escpos's ``is_online()``/``paper_status()`` cannot tell silence from an answer (3.1
reports "paper adequate" when nothing replies), so the kiosk sends the requests itself, reads
the reply byte by byte with a short deadline and decides: no reply is never "paper ok" and
never "paper out", and a byte without the fixed bits of a status reply is garbage, not data.

Reply bits (Epson ESC/POS; every reply has bit 1 = 1, bit 4 = 1, bits 0 and 7 = 0):
  n=1 printer:       bit 3 offline
  n=2 offline cause: bit 2 cover open, bit 3 paper fed by the feed button,
                     bit 5 printing stopped by paper end, bit 6 error
  n=3 error cause:   bit 3 autocutter error, bit 5 unrecoverable error,
                     bit 6 auto-recoverable error (e.g. head too hot)
  n=4 paper sensors: bits 2-3 roll near its end, bits 5-6 paper end
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

from drivers.base import DeviceState, DeviceStatus, Paper

PRINTER, OFFLINE_CAUSE, ERROR_CAUSE, PAPER = 1, 2, 3, 4
STATUS_TIMEOUT = 0.5  # seconds to wait for each reply
# Serial printers using software flow control may interleave these with a reply.
_XON_XOFF = frozenset((0x11, 0x13))


def request(n: int) -> bytes:
    """The ``DLE EOT n`` real-time status request."""
    return bytes((0x10, 0x04, n))


def is_status_byte(value: int) -> bool:
    """True when ``value`` has the fixed bits of a real-time status reply."""
    return value & 0x93 == 0x12


class StatusLink(Protocol):
    """The little a status query needs from a transport (see drivers.escpos.transport)."""

    def write(self, data: bytes) -> None: ...

    def read_byte(self, timeout: float) -> int | None: ...

    def discard_input(self) -> None: ...


@dataclass(frozen=True)
class StatusReplies:
    """Raw reply bytes per request; None where the printer said nothing (or was not asked)."""

    printer: int | None = None
    offline_cause: int | None = None
    error_cause: int | None = None
    paper: int | None = None


def ask(link: StatusLink, n: int, timeout: float = STATUS_TIMEOUT) -> int | None:
    """Send ``DLE EOT n`` and return the first reply byte, or None after ``timeout`` of silence.

    Input already waiting (a late reply to an earlier request) is discarded first. Transport
    errors (connection closed, port gone) propagate to the caller.
    """
    link.discard_input()
    link.write(request(n))
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        value = link.read_byte(left)
        if value is None:
            return None
        if value not in _XON_XOFF:
            return value
    return None


def query(
    link: StatusLink, timeout: float = STATUS_TIMEOUT, first_timeout: float | None = None
) -> StatusReplies:
    """Ask what the printer can tell; stop at the first silence of the printer request.

    ``first_timeout`` (default ``timeout``) allows longer for the first reply, which may queue
    behind data still on its way to the printer.
    """
    printer = ask(link, PRINTER, timeout if first_timeout is None else first_timeout)
    if printer is None or not is_status_byte(printer):
        return StatusReplies(printer=printer)
    offline_cause = ask(link, OFFLINE_CAUSE, timeout)
    error_cause = None
    if offline_cause is not None and is_status_byte(offline_cause) and offline_cause & 0x40:
        error_cause = ask(link, ERROR_CAUSE, timeout)
    paper = ask(link, PAPER, timeout)
    return StatusReplies(printer, offline_cause, error_cause, paper)


def _valid(value: int | None) -> int | None:
    return value if value is not None and is_status_byte(value) else None


def _flags(value: int | None, names: dict[int, str]) -> list[str]:
    return [name for bit, name in names.items() if value is not None and value & bit]


def _paper(replies: StatusReplies, notes: list[str]) -> Paper:
    paper = _valid(replies.paper)
    if paper is None:
        notes.append(_unanswered("paper", replies.paper))
        return Paper.UNKNOWN
    if paper & 0x60:
        return Paper.OUT
    if paper & 0x0C:
        return Paper.LOW
    return Paper.FULL


def _unanswered(what: str, value: int | None) -> str:
    if value is None:
        return f"no reply to the {what} status request"
    return f"unrecognised {what} status reply 0x{value:02X}"


def decide(replies: StatusReplies) -> DeviceStatus:
    """Map raw replies to a DeviceStatus with the spec's state and paper names."""
    printer = replies.printer
    if printer is None:
        return DeviceStatus(DeviceState.OFFLINE, "no reply to status request", Paper.UNKNOWN)
    if not is_status_byte(printer):
        return DeviceStatus(
            DeviceState.HWERROR,
            f"unrecognised status reply 0x{printer:02X} (wrong baud rate, or not ESC/POS?)",
            Paper.UNKNOWN,
        )
    notes: list[str] = []
    paper = _paper(replies, notes)
    cause = _valid(replies.offline_cause)
    if cause is None:
        notes.append(_unanswered("offline cause", replies.offline_cause))
    errors = _flags(
        _valid(replies.error_cause),
        {0x08: "autocutter error", 0x20: "unrecoverable error", 0x40: "auto-recoverable error"},
    )
    if cause is not None and cause & 0x20:
        paper = Paper.OUT  # stopped by paper end, whatever the sensor byte said
    if errors and "autocutter error" in errors:
        paper = Paper.JAMMED  # the cutter blade is blocked, nearly always by paper

    error = cause is not None and bool(cause & 0x40)
    cover_open = cause is not None and bool(cause & 0x04)
    problems: list[str] = []
    if error:
        problems += ["error", *errors]
        if _valid(replies.error_cause) is None:
            problems.append(_unanswered("error cause", replies.error_cause))
    if cover_open:
        problems.append("cover open")
    if paper is Paper.OUT:
        problems.append("paper end")
    if printer & 0x08 and not problems:
        problems += ["offline", *_flags(cause, {0x08: "paper being fed by the feed button"})]
    if paper is Paper.LOW:
        problems.append("paper near end")

    if error:
        state = DeviceState.HWERROR
    elif cover_open or paper is Paper.OUT:
        state = DeviceState.USERERROR
    elif printer & 0x08:
        state = DeviceState.OFFLINE
    else:
        state = DeviceState.ONLINE
    return DeviceStatus(state, ", ".join(problems + notes), paper)


def read_status(link: StatusLink, timeout: float = STATUS_TIMEOUT) -> DeviceStatus:
    """Ask the printer and decide its status."""
    return decide(query(link, timeout))


def printable(status: DeviceStatus, can_read: bool = True) -> bool:
    """True when a job may be sent: online and paper known not to be out.

    A write-only transport (``can_read`` False) cannot know the paper, so unknown is accepted.
    Paper near its end prints normally.
    """
    if status.state is not DeviceState.ONLINE:
        return False
    if status.paper in (Paper.FULL, Paper.LOW):
        return True
    return not can_read and status.paper is Paper.UNKNOWN
