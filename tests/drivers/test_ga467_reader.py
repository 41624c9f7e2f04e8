"""The GA 467 driver against a reader emulated on a pty: reads, faults, unplugging.

Every ``wait_event`` call is timed: none may block past its timeout by more than ``MARGIN``.
"""

from __future__ import annotations

import logging
import time

import pytest
from cpu_wait import Stopwatch
from ga467_emulator import SAMPLE_CARD, Ga467Emulator

from contract.personal import id_number_valid
from drivers.base import CardEvent, CardEventKind, DeviceConfigError, DeviceError, DeviceState
from drivers.ga467.frames import FIND_CARD, READ_TEXT_PHOTO, SAM_STATUS, SELECT_CARD
from drivers.ga467.reader import Ga467Reader, SerialSettings, parse_uri

MARGIN = 0.1
STEP = 0.2  # what the app's CardReaderThread passes
READ, UNREADABLE, REMOVED = CardEventKind.READ, CardEventKind.UNREADABLE, CardEventKind.REMOVED


def uri_for(emulator: Ga467Emulator, baudrate: int = 115200) -> str:
    return f"serial://{emulator.link}?protocol=ga467&baudrate={baudrate}"


@pytest.fixture
def emulator(tmp_path):
    emu = Ga467Emulator(tmp_path / "ttyGA").start()
    yield emu
    emu.stop()


@pytest.fixture
def reader(emulator):
    reader = Ga467Reader(uri_for(emulator))
    reader.open()
    yield reader
    reader.close()


def timed_wait(reader: Ga467Reader, timeout: float = STEP) -> CardEvent | None:
    watch = Stopwatch()  # not counting time this thread waited for a CPU (a loaded machine)
    event = reader.wait_event(timeout)
    assert watch.elapsed() <= timeout + MARGIN
    return event


def next_event(reader: Ga467Reader, within: float = 3.0) -> CardEvent:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        event = timed_wait(reader)
        if event is not None:
            return event
    pytest.fail(f"no card event within {within} s")


def events_during(reader: Ga467Reader, seconds: float) -> list[CardEvent]:
    deadline = time.monotonic() + seconds
    events = []
    while time.monotonic() < deadline:
        if (event := timed_wait(reader)) is not None:
            events.append(event)
    return events


def raises_within(reader: Ga467Reader, within: float = 3.0) -> DeviceError:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            timed_wait(reader)
        except DeviceError as exc:
            return exc
    pytest.fail(f"no DeviceError within {within} s")


# -- configuration ---------------------------------------------------------------------------

def test_uri_parsing():
    assert parse_uri("serial:///dev/ttyUSB0?protocol=ga467&baudrate=115200") == SerialSettings(
        "/dev/ttyUSB0", 115200)
    assert parse_uri("serial:///dev/ttyS1?baudrate=9600") == SerialSettings("/dev/ttyS1", 9600)
    assert parse_uri("serial:///dev/serial/by-id/usb-ID%20Reader") == SerialSettings(
        "/dev/serial/by-id/usb-ID Reader", 115200)


@pytest.mark.parametrize("uri", [
    "serial://dev/ttyUSB0?protocol=ga467",  # two slashes: "dev" is a host
    "serial:dev/ttyUSB0",
    "serial:///?protocol=ga467",
    "serial:///dev/ttyUSB0?protocol=escpos",
    "serial:///dev/ttyUSB0?baudrate=12345",
    "serial:///dev/ttyUSB0?baudrate=fast",
    "serial:///dev/ttyUSB0?baudrate=9600&baudrate=9600",
    "serial:///dev/ttyUSB0?parity=E",
    "serial:///dev/ttyUSB0?protocol",
    "socket://127.0.0.1:9100",
])
def test_bad_uris_name_themselves(uri):
    with pytest.raises(DeviceConfigError) as caught:
        Ga467Reader(uri)
    assert uri in str(caught.value)


def test_missing_port_is_nodevice(tmp_path):
    reader = Ga467Reader(f"serial://{tmp_path}/ttyNone?protocol=ga467")
    with pytest.raises(DeviceError, match="no such port"):
        reader.open()
    assert reader.status().state == DeviceState.NODEVICE


def test_wait_before_open_raises(emulator):
    with pytest.raises(DeviceError, match="not open"):
        Ga467Reader(uri_for(emulator)).wait_event(0.1)


# -- reading ---------------------------------------------------------------------------------

def test_full_read(reader, emulator, caplog):
    caplog.set_level(logging.DEBUG)
    assert reader.status().state == DeviceState.ONLINE
    assert timed_wait(reader) is None
    emulator.place_card()
    event = next_event(reader)
    assert event.kind == READ
    identity = event.identity
    assert identity.method == "ga467"
    assert identity.name == "欧阳建国"
    assert identity.id_number == SAMPLE_CARD["id_number"] and id_number_valid(identity.id_number)
    assert (identity.gender, identity.birth_date, identity.valid_to) == (
        "male", "19550312", "长期")
    assert identity.extra == {}  # extra goes to the central: nothing beyond the spec
    assert emulator.commands()[:1] == [SAM_STATUS]
    assert emulator.commands()[-3:] == [FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO]
    for secret in (identity.name, identity.id_number, identity.id_number[6:14]):
        assert secret not in caplog.text


def test_same_card_is_read_once_until_taken_away(reader, emulator):
    emulator.place_card()
    assert next_event(reader).kind == READ
    assert events_during(reader, 1.5) == []  # the reader keeps answering "card found"
    assert len(emulator.commands(READ_TEXT_PHOTO)) == 1
    emulator.remove_card()
    assert [e.kind for e in events_during(reader, 1.5)] == [REMOVED]
    emulator.place_card(name="李四")
    event = next_event(reader)
    assert event.kind == READ and event.identity.name == "李四"


def test_halting_reader_releases_the_card_without_rereading(reader, emulator):
    # Real readers answer "no card" after a read until the card leaves the field.
    emulator.halt_after_read = True
    emulator.place_card()
    assert next_event(reader).kind == READ
    assert [e.kind for e in events_during(reader, 1.5)] == [REMOVED]
    assert len(emulator.commands(READ_TEXT_PHOTO)) == 1
    emulator.remove_card()
    emulator.place_card()
    assert next_event(reader).kind == READ


def test_slow_reader_spans_several_waits(reader, emulator):
    # A real SAM takes most of a second to read a card: longer than one wait_event.
    emulator.processing_s = {READ_TEXT_PHOTO: 0.8, SELECT_CARD: 0.1}
    emulator.place_card()
    event = next_event(reader, within=5)
    assert event.kind == READ and event.identity.name == SAMPLE_CARD["name"]


def test_9600_baud(tmp_path):
    emulator = Ga467Emulator(tmp_path / "ttyGA", baudrate=9600).start()
    try:
        with Ga467Reader(uri_for(emulator, 9600)) as reader:
            emulator.place_card()
            started = time.monotonic()
            event = next_event(reader, within=6)
            assert event.kind == READ
            assert time.monotonic() - started > 1.3  # 1,295 bytes at 960 bytes/s
    finally:
        emulator.stop()


# -- faults with a card on the reader --------------------------------------------------------

@pytest.mark.parametrize(("command", "fault", "reason"), [
    (READ_TEXT_PHOTO, "bad_checksum", "checksum error"),
    (READ_TEXT_PHOTO, "oversized_length", "length error"),
    (READ_TEXT_PHOTO, "partial_stall", "stopped part-way"),
    (READ_TEXT_PHOTO, "silent", "no answer"),
    (READ_TEXT_PHOTO, 0x31, "SW3 31"),
    (READ_TEXT_PHOTO, "wrong_sizes", "unexpected sizes"),
    (READ_TEXT_PHOTO, "noise_flood", "noise"),
    (SELECT_CARD, "bad_checksum", "checksum error"),
    (SELECT_CARD, 0x81, "SW3 81 (select failed)"),
    (SELECT_CARD, "silent", "no answer"),
])
def test_spoiled_answer_makes_card_unreadable_then_it_can_be_read(
        reader, emulator, command, fault, reason):
    emulator.inject(command, fault)
    emulator.place_card()
    event = next_event(reader)
    assert event.kind == UNREADABLE
    assert reason in event.reason
    assert SAMPLE_CARD["id_number"] not in event.reason
    assert events_during(reader, 0.8) == []  # not retried while the card stays
    emulator.remove_card()
    assert next_event(reader).kind == REMOVED
    emulator.place_card()
    assert next_event(reader).kind == READ
    assert reader.status().state == DeviceState.ONLINE


@pytest.mark.parametrize(("fields", "reason"), [
    ({"card_type": "foreign-permanent-resident"}, "not supported"),
    ({"id_number": ""}, "no ID number"),
    ({"name": ""}, "no name"),
])
def test_card_text_that_cannot_make_an_identity(reader, emulator, fields, reason):
    emulator.place_card(**fields)
    event = next_event(reader)
    assert event.kind == UNREADABLE and reason in event.reason


def test_residence_permit_reads_like_an_id_card(reader, emulator):
    emulator.place_card(card_type="hmt-residence-permit", nation_code="",
                        id_number="810000199408230021")
    event = next_event(reader)
    assert event.kind == READ and id_number_valid(event.identity.id_number)


def test_second_program_on_the_port_is_refused(reader, emulator):
    other = Ga467Reader(uri_for(emulator))
    with pytest.raises(DeviceError, match="in use"):
        other.open()
    assert other.status().state == DeviceState.OFFLINE


def test_garbage_before_the_answers_is_skipped(reader, emulator):
    for command in (FIND_CARD, SELECT_CARD, READ_TEXT_PHOTO):
        emulator.inject(command, "garbage_before")
    emulator.place_card()
    event = next_event(reader)
    assert event.kind == READ and event.identity.id_number == SAMPLE_CARD["id_number"]


@pytest.mark.parametrize("fault", ["pull_card", "pull_card_mid_frame"])
def test_card_pulled_mid_read(reader, emulator, fault):
    emulator.inject(READ_TEXT_PHOTO, fault)
    emulator.place_card()
    event = next_event(reader)
    assert event.kind == UNREADABLE
    assert ("SW3 41 (read failed)" if fault == "pull_card" else "part-way") in event.reason
    assert next_event(reader).kind == REMOVED
    emulator.place_card()
    assert next_event(reader).kind == READ


def test_spoiled_poll_is_no_event_and_recovers(reader, emulator):
    # Two spoiled polls in a row are tolerated; the third would raise (next test).
    emulator.inject(FIND_CARD, "bad_checksum")
    emulator.inject(FIND_CARD, "partial_stall")
    emulator.place_card()
    assert next_event(reader).kind == READ
    emulator.inject(FIND_CARD, 0x10)  # the reader saw our command garbled
    emulator.remove_card()
    assert next_event(reader).kind == REMOVED
    emulator.place_card()
    assert next_event(reader).kind == READ
    assert reader.status().state == DeviceState.ONLINE


def test_polls_failing_again_and_again_raise(reader, emulator):
    emulator.inject(FIND_CARD, 0x24, times=3)
    exc = raises_within(reader)
    assert "find card answered SW3 24" in str(exc)
    assert reader.status().state == DeviceState.HWERROR
    assert events_during(reader, 0.6) == []  # still open: the next polls are fine again
    assert reader.status().state == DeviceState.ONLINE


# -- reader faults ---------------------------------------------------------------------------

@pytest.mark.parametrize("code", [0x60, 0x66])
def test_sam_fault_on_open_is_hwerror(emulator, code):
    emulator.sam_fault = code
    reader = Ga467Reader(uri_for(emulator))
    with pytest.raises(DeviceError, match=f"SW3 {code:02X}"):
        reader.open()
    status = reader.status()
    assert status.state == DeviceState.HWERROR and f"SW3 {code:02X}" in status.detail
    reader.close()
    assert reader.status().state == DeviceState.HWERROR  # closing keeps the reason
    emulator.sam_fault = None
    with reader:
        assert reader.status().state == DeviceState.ONLINE


def test_sam_fault_while_polling_raises(reader, emulator):
    emulator.inject(FIND_CARD, 0x60)
    exc = raises_within(reader)
    assert "SAM fault" in str(exc)
    assert reader.status().state == DeviceState.HWERROR
    reader.close()
    reader.open()
    assert reader.status().state == DeviceState.ONLINE


def test_silent_reader_on_open_is_offline(emulator):
    emulator.silent = True
    reader = Ga467Reader(uri_for(emulator))
    started = time.monotonic()
    with pytest.raises(DeviceError, match="not answering"):
        reader.open()
    assert time.monotonic() - started < 4
    assert reader.status().state == DeviceState.OFFLINE
    assert reader.status().detail == "reader not answering"


def test_reader_falling_silent_raises_then_recovers(reader, emulator):
    emulator.silent = True
    exc = raises_within(reader)
    assert "not answering" in str(exc)
    assert reader.status().state == DeviceState.OFFLINE
    emulator.silent = False
    reader.close()
    reader.open()
    emulator.place_card()
    assert next_event(reader).kind == READ


def test_unplug_and_replug(reader, emulator):
    emulator.place_card()
    assert next_event(reader).kind == READ
    emulator.unplug()
    exc = raises_within(reader, within=1.0)
    assert "port lost" in str(exc)
    assert reader.status().state == DeviceState.OFFLINE
    reader.close()
    with pytest.raises(DeviceError):
        reader.open()  # the link is gone while unplugged
    assert reader.status().state == DeviceState.NODEVICE
    emulator.replug()  # a new pty behind the same path
    reader.open()
    assert reader.status().state == DeviceState.ONLINE
    assert next_event(reader).kind == READ  # a new session: the card is read again


def test_reconnects_like_the_app(emulator):
    """The CardReaderThread loop: open, wait, on DeviceError close and retry later."""
    reader = Ga467Reader(uri_for(emulator))
    emulator.place_card()
    events, errors = [], []
    opened = False
    deadline = time.monotonic() + 8
    unplugged_at = replugged_at = None
    while time.monotonic() < deadline and len(events) < 2:
        if events and unplugged_at is None:
            emulator.unplug()
            unplugged_at = time.monotonic()
        if unplugged_at and not replugged_at and time.monotonic() - unplugged_at > 0.5:
            emulator.replug()
            replugged_at = time.monotonic()
        try:
            if not opened:
                reader.open()
                opened = True
            if (event := timed_wait(reader)) is not None:
                events.append(event)
        except DeviceError as exc:
            errors.append(str(exc))
            reader.close()
            opened = False
            time.sleep(0.2)  # the app waits RETRY_S = 2 s
    reader.close()
    assert [e.kind for e in events] == [READ, READ]
    assert errors and "port lost" in errors[0]
