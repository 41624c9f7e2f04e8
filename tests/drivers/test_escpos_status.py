"""Real-time status decided from raw DLE EOT replies: every documented byte, silence, garbage."""

from __future__ import annotations

import time

import pytest

from drivers.base import DeviceState, DeviceStatus, Paper
from drivers.escpos.status import (
    StatusReplies,
    ask,
    decide,
    is_status_byte,
    printable,
    query,
    request,
)

ON, OFF = DeviceState.ONLINE, DeviceState.OFFLINE
USER, HW = DeviceState.USERERROR, DeviceState.HWERROR


def replies(printer=0x16, cause=0x12, error=None, paper=0x12) -> StatusReplies:
    return StatusReplies(printer, cause, error, paper)


@pytest.mark.parametrize(
    ("given", "state", "paper", "detail"),
    [
        (replies(), ON, Paper.FULL, ""),
        (replies(printer=0x12), ON, Paper.FULL, ""),
        # n=4: near end (bits 2+3, either alone too) prints normally; paper end (bits 5+6) is out
        (replies(paper=0x1E), ON, Paper.LOW, "paper near end"),
        (replies(paper=0x16), ON, Paper.LOW, "paper near end"),
        (replies(paper=0x1A), ON, Paper.LOW, "paper near end"),
        (replies(paper=0x72), USER, Paper.OUT, "paper end"),
        (replies(paper=0x7E), USER, Paper.OUT, "paper end"),
        (replies(paper=0x32), USER, Paper.OUT, "paper end"),
        (replies(printer=0x1E, cause=0x32, paper=0x72), USER, Paper.OUT, "paper end"),
        # n=2 says "stopped by paper end" although the sensor byte looks fine: trust the stop
        (replies(printer=0x1E, cause=0x32), USER, Paper.OUT, "paper end"),
        # n=1 bit 3 offline; n=2 bit 2 cover open
        (replies(printer=0x1E, cause=0x16), USER, Paper.FULL, "cover open"),
        (replies(printer=0x1E), OFF, Paper.FULL, "offline"),
        (replies(printer=0x1E, cause=0x1A), OFF, Paper.FULL,
         "offline, paper being fed by the feed button"),
        # n=2 bit 6 error; n=3 says which
        (replies(printer=0x1E, cause=0x52), HW, Paper.FULL,
         "error, no reply to the error cause status request"),
        (replies(printer=0x1E, cause=0x52, error=0x1A), HW, Paper.JAMMED,
         "error, autocutter error"),
        (replies(printer=0x1E, cause=0x52, error=0x32), HW, Paper.FULL,
         "error, unrecoverable error"),
        (replies(printer=0x1E, cause=0x52, error=0x52), HW, Paper.FULL,
         "error, auto-recoverable error"),
        (replies(printer=0x1E, cause=0x56, error=0x52, paper=0x72), HW, Paper.OUT,
         "error, auto-recoverable error, cover open, paper end"),
    ],
)  # fmt: skip
def test_documented_bytes(given, state, paper, detail):
    assert decide(given) == DeviceStatus(state, detail, paper)


def test_cover_open_with_paper_near_end_says_both():
    status = decide(replies(printer=0x1E, cause=0x16, paper=0x1E))
    assert (status.state, status.paper) == (USER, Paper.LOW)
    assert status.detail == "cover open, paper near end"


def test_silence_is_offline_and_paper_unknown_never_ok_or_out():
    status = decide(StatusReplies())
    assert status == DeviceStatus(OFF, "no reply to status request", Paper.UNKNOWN)


@pytest.mark.parametrize("garbage", [0x00, 0xFF, 0x13, 0x92, 0x02, 0x10, 0x16 | 0x80, 0x17])
def test_garbage_printer_byte_is_a_hardware_error_with_paper_unknown(garbage):
    status = decide(StatusReplies(printer=garbage))
    assert (status.state, status.paper) == (HW, Paper.UNKNOWN)
    assert f"0x{garbage:02X}" in status.detail


@pytest.mark.parametrize(("paper", "detail"), [
    (None, "no reply to the paper status request"),
    (0xFF, "unrecognised paper status reply 0xFF"),
    (0x00, "unrecognised paper status reply 0x00"),
])  # fmt: skip
def test_unanswered_paper_is_unknown(paper, detail):
    status = decide(replies(paper=paper))
    assert status == DeviceStatus(ON, detail, Paper.UNKNOWN)
    assert not printable(status)


def test_garbage_offline_cause_is_noted_and_ignored():
    status = decide(replies(cause=0xFF))
    assert (status.state, status.paper) == (ON, Paper.FULL)
    assert status.detail == "unrecognised offline cause status reply 0xFF"


def test_fixed_bits():
    valid = [v for v in range(256) if is_status_byte(v)]
    assert len(valid) == 16  # bits 2, 3, 5 and 6 free
    assert {0x12, 0x16, 0x1E, 0x72, 0x7E} <= set(valid)
    assert all(v & 0x12 == 0x12 and not v & 0x81 for v in valid)


@pytest.mark.parametrize(("status", "can_read", "ok"), [
    (DeviceStatus(ON, "", Paper.FULL), True, True),
    (DeviceStatus(ON, "paper near end", Paper.LOW), True, True),
    (DeviceStatus(ON, "", Paper.UNKNOWN), True, False),
    (DeviceStatus(ON, "write-only", Paper.UNKNOWN), False, True),
    (DeviceStatus(USER, "paper end", Paper.OUT), True, False),
    (DeviceStatus(USER, "cover open", Paper.FULL), True, False),
    (DeviceStatus(OFF, "no reply", Paper.UNKNOWN), True, False),
    (DeviceStatus(OFF, "cannot connect", Paper.UNKNOWN), False, False),
    (DeviceStatus(HW, "error", Paper.FULL), True, False),
])  # fmt: skip
def test_printable(status, can_read, ok):
    assert printable(status, can_read) is ok


class FakeLink:
    """Replies from a script: each request pops a list of (delay, byte) to deliver."""

    def __init__(self, script: dict[int, list[tuple[float, int]]]):
        self.script = script
        self.written: list[bytes] = []
        self.discarded = 0
        self._queue: list[tuple[float, int]] = []

    def write(self, data: bytes) -> None:
        self.written.append(data)
        now = time.monotonic()
        self._queue = [(now + delay, value) for delay, value in self.script.get(data[2], [])]

    def read_byte(self, timeout: float) -> int | None:
        deadline = time.monotonic() + timeout
        if not self._queue:
            time.sleep(timeout)
            return None
        at, value = self._queue[0]
        if at > deadline:
            time.sleep(timeout)
            return None
        time.sleep(max(0.0, at - time.monotonic()))
        self._queue.pop(0)
        return value

    def discard_input(self) -> None:
        self.discarded += 1


def test_ask_returns_first_byte_and_discards_stale_input_first():
    link = FakeLink({1: [(0.0, 0x16)]})
    assert ask(link, 1, 0.2) == 0x16
    assert link.written == [request(1)] == [b"\x10\x04\x01"]
    assert link.discarded == 1


def test_ask_skips_xon_xoff():
    link = FakeLink({4: [(0.0, 0x13), (0.01, 0x11), (0.02, 0x1E)]})
    assert ask(link, 4, 0.3) == 0x1E


def test_ask_gives_up_at_its_deadline():
    link = FakeLink({1: [(0.5, 0x16)]})
    started = time.monotonic()
    assert ask(link, 1, 0.1) is None
    assert time.monotonic() - started < 0.3


def test_query_stops_at_a_silent_printer():
    link = FakeLink({})
    started = time.monotonic()
    assert query(link, 0.1) == StatusReplies()
    assert time.monotonic() - started < 0.3
    assert link.written == [request(1)]


def test_query_asks_error_cause_only_on_error():
    link = FakeLink({1: [(0, 0x16)], 2: [(0, 0x12)], 4: [(0, 0x12)]})
    assert query(link, 0.1) == StatusReplies(0x16, 0x12, None, 0x12)
    assert link.written == [request(1), request(2), request(4)]
    link = FakeLink({1: [(0, 0x1E)], 2: [(0, 0x52)], 3: [(0, 0x1A)], 4: [(0, 0x12)]})
    assert query(link, 0.1) == StatusReplies(0x1E, 0x52, 0x1A, 0x12)
    assert link.written == [request(1), request(2), request(3), request(4)]
