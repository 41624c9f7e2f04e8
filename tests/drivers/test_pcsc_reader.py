"""PcscReader against a real pcscd with the vpcd virtual reader and an emulated card.

Each test gets the module's pcscd (started once, see pcsc_rig.py) with no card in its two
slots. pcscd polls vpcd about every 400 ms, so card arrivals and removals take up to ~0.5 s.
"""

from __future__ import annotations

import signal
import time

import pytest
from cpu_wait import Stopwatch
from pcsc_rig import READER_0, READER_1, PcscdRig, clean_rig, module_rig, wait_readers
from smartcard import scard
from vpcd_card import ATR_BEID, EmulatedCard, beid_identity_file

from drivers.base import CardEvent, CardEventKind, DeviceError, DeviceState
from drivers.pcsc.reader import PcscReader

POLL_S = 0.2  # what the app's CardReaderThread passes to wait_event
MARGIN_S = 0.25  # a wait may overrun its timeout by a card read at most
UID = "04A2245A3C5E80"


def timed_wait(reader: PcscReader, timeout: float) -> CardEvent | None:
    watch = Stopwatch()  # not counting time this thread waited for a CPU (a loaded machine)
    event = reader.wait_event(timeout)
    elapsed = watch.elapsed()
    assert elapsed <= timeout + MARGIN_S, f"wait_event({timeout}) took {elapsed:.3f} s"
    return event


def next_event(reader: PcscReader, within: float = 3.0, *, timed: bool = True) -> CardEvent | None:
    """Poll as the app does until an event comes, or None after ``within`` seconds.

    ``timed`` checks that each wait keeps to its timeout; a test that holds the reader up on
    purpose passes False.
    """
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        event = timed_wait(reader, POLL_S) if timed else reader.wait_event(POLL_S)
        if event is not None:
            return event
    return None


def quiet_for(reader: PcscReader, seconds: float) -> None:
    event = next_event(reader, within=seconds)
    assert event is None, f"unexpected {event}"


def beid_card() -> EmulatedCard:
    return EmulatedCard(atr=ATR_BEID, uid=None, id_file=beid_identity_file())


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    yield from module_rig(tmp_path_factory)


@pytest.fixture
def pcscd(rig: PcscdRig):
    """The module's pcscd, running, with no card in either slot; a test may restart it."""
    yield from clean_rig(rig)


@pytest.fixture
def open_reader():
    readers: list[PcscReader] = []

    def make(uri: str) -> PcscReader:
        reader = PcscReader(uri)
        reader.open()
        readers.append(reader)
        return reader

    yield make
    for reader in readers:
        reader.close()


def test_uid_profile_reads_the_uid(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:?profile=uid")
    assert reader.status().state == DeviceState.ONLINE
    assert reader.status().detail == reader.name == READER_0  # no substring: the first reader
    assert timed_wait(reader, 0.3) is None
    card = pcscd.card()
    card.insert()
    event = next_event(reader)
    assert event is not None and event.kind == CardEventKind.READ
    assert event.identity.method == "pcsc-uid"
    assert event.identity.card_uid == UID
    assert event.identity.to_wire() == {"method": "pcsc-uid", "card_uid": UID}
    assert card.card.apdus == [bytes.fromhex("FFCA000000")]


def test_beid_profile_reads_the_identity_file(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:?profile=beid")
    card = pcscd.card(card=beid_card())
    card.insert()
    event = next_event(reader)
    assert event is not None and event.kind == CardEventKind.READ, event
    identity = event.identity
    assert (identity.method, identity.id_number, identity.name) == (
        "beid", "71715100070", "Alice Geldigekaart Specimen")
    assert (identity.gender, identity.birth_date, identity.valid_to) == (
        "female", "19710715", "20310201")
    assert card.card.apdus[0] == bytes.fromhex("00A4080C04DF014031")


def test_uid_profile_on_a_card_without_uid_is_unreadable(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:")
    pcscd.card(card=beid_card()).insert()  # contact card: nothing answers GET DATA
    event = next_event(reader)
    assert event is not None and event.kind == CardEventKind.UNREADABLE
    assert "6A81" in event.reason


def test_reader_chosen_by_substring(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:?reader=vpcd 00 01")  # case-insensitive
    assert reader.status().detail == READER_1
    pcscd.card(slot=0).insert()  # the other slot: ignored
    quiet_for(reader, 1.0)
    pcscd.card(slot=1, card=EmulatedCard(uid=bytes.fromhex("A1B2C3D4"))).insert()
    event = next_event(reader)
    assert event is not None and event.identity.card_uid == "A1B2C3D4"


def test_no_matching_reader_is_nodevice(pcscd: PcscdRig):
    reader = PcscReader("pcsc:?reader=ACS ACR122")
    pcscd.card().insert()
    start = time.monotonic()
    with pytest.raises(DeviceError, match=f"no PC/SC reader matching 'ACS ACR122'.*{READER_0}"):
        reader.open()  # the app retries every 2 s: a reader plugged in later is found then
    assert time.monotonic() - start < 1.9  # not a wait for a reader to appear
    status = reader.status()
    assert status.state == DeviceState.NODEVICE
    assert status.detail == "no PC/SC reader matching 'ACS ACR122'"
    reader.close()
    assert reader.status().state == DeviceState.NODEVICE
    with pytest.raises(DeviceError, match="not open"):
        reader.wait_event(0.1)


def test_not_read_twice_until_removed(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:")
    card = pcscd.card()
    card.insert()
    assert next_event(reader).kind == CardEventKind.READ
    quiet_for(reader, 1.5)  # pcscd polls it again and again: still the same card
    assert card.card.apdus == [bytes.fromhex("FFCA000000")]
    card.remove()
    assert next_event(reader).kind == CardEventKind.REMOVED
    quiet_for(reader, 0.8)  # REMOVED once
    card.insert()
    event = next_event(reader)
    assert event.kind == CardEventKind.READ and event.identity.card_uid == UID


def test_card_swapped_between_waits(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:")
    card = pcscd.card()
    card.insert()
    assert next_event(reader).kind == CardEventKind.READ
    # Nobody waits on the reader while the card is taken away and another put down.
    card.remove()
    wait_readers([READER_0], present=False)
    other = pcscd.card(card=EmulatedCard(uid=bytes.fromhex("11223344")))
    other.insert()
    wait_readers([READER_0], present=True)
    assert next_event(reader).kind == CardEventKind.REMOVED
    event = next_event(reader)
    assert event.kind == CardEventKind.READ and event.identity.card_uid == "11223344"


@pytest.mark.parametrize(("how", "reason"), [
    # vpcd turns a card gone before answering into an empty response: no status word.
    ("pull_when", "shorter than a status word"),
    # Gone after answering SELECT, and pcscd has seen it go: it fails the READ BINARY
    # (SCARD_W_REMOVED_CARD). Had the READ BINARY come before pcscd's next presence poll,
    # vpcd would hand back an empty response instead (the case above), so the test waits
    # for pcscd to see the slot empty before letting the reader send it.
    ("leave_after", "SCardTransmit"),
])
def test_card_pulled_mid_read_is_unreadable_then_recovers(
        pcscd: PcscdRig, open_reader, monkeypatch, how, reason):
    reader = open_reader("pcsc:?profile=beid")
    card = pcscd.card(card=beid_card())
    if how == "pull_when":
        card.pull_when = lambda apdu: apdu[1] == 0xB0  # leaves the field on READ BINARY
    else:
        card.leave_after = lambda apdu: apdu[1] == 0xA4  # leaves the field after SELECT
        transmit = scard.SCardTransmit

        def transmit_once_pcscd_saw_it_go(hcard, protocol, apdu):
            if card.leave_after is not None and apdu[1] == 0xB0:
                wait_readers([READER_0], present=False)
            return transmit(hcard, protocol, apdu)

        monkeypatch.setattr(scard, "SCardTransmit", transmit_once_pcscd_saw_it_go)
    card.insert()
    event = next_event(reader, timed=how == "pull_when")  # leave_after holds the read up
    assert event is not None and event.kind == CardEventKind.UNREADABLE, event
    assert reason in event.reason
    assert next_event(reader).kind == CardEventKind.REMOVED
    card.pull_when = card.leave_after = None
    card.insert()
    event = next_event(reader)
    assert event.kind == CardEventKind.READ and event.identity.id_number == "71715100070"


@pytest.mark.parametrize(("garbage", "reason"), [
    (b"\x07\xff\xff\xff\xff\x90\x00", "over-long length"),  # bad TLV
    (b"\x06\x7f12\x90\x00", "past the end"),
    (b"\x42", "shorter than a status word"),
])
def test_garbage_answers_are_unreadable(pcscd: PcscdRig, open_reader, garbage, reason):
    reader = open_reader("pcsc:?profile=beid")
    card = pcscd.card(card=beid_card())
    card.garbage_when = lambda apdu: garbage if apdu[1] == 0xB0 else None
    card.insert()
    event = next_event(reader)
    assert event is not None and event.kind == CardEventKind.UNREADABLE, event
    assert reason in event.reason
    quiet_for(reader, 0.6)  # and not tried again while it stays
    card.remove()
    assert next_event(reader).kind == CardEventKind.REMOVED


def run_like_the_app(reader: PcscReader, until: float, retry_s: float = 0.3) -> list:
    """CardReaderThread's loop without Qt: reopen after a DeviceError; returns what happened."""
    happened: list = []
    opened = True
    while time.monotonic() < until:
        try:
            if not opened:
                reader.open()
                opened = True
                happened.append(reader.status().state)
            event = timed_wait(reader, POLL_S)
            if event is not None:
                happened.append(event)
                if event.kind == CardEventKind.READ:
                    return happened
        except DeviceError:
            happened.append(DeviceState.OFFLINE)
            reader.close()
            opened = False
            time.sleep(retry_s)
    return happened


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])  # KILL leaves its socket
def test_pcscd_stopped_then_started_again(pcscd: PcscdRig, open_reader, sig):
    reader = open_reader("pcsc:")
    pcscd.stop(sig)
    start = time.monotonic()
    with pytest.raises(DeviceError):
        for _ in range(10):
            reader.wait_event(POLL_S)
    assert time.monotonic() - start < POLL_S + MARGIN_S
    assert reader.status().state == DeviceState.OFFLINE
    reader.close()
    with pytest.raises(DeviceError, match="0x8010001D"):
        reader.open()
    assert reader.status().state == DeviceState.OFFLINE
    pcscd.start()
    reader.open()
    assert reader.status().state == DeviceState.ONLINE
    pcscd.card().insert()
    event = next_event(reader)
    assert event is not None and event.identity.card_uid == UID


def test_pcscd_restarted_while_waiting(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:")
    card = pcscd.card()
    card.insert()
    assert next_event(reader).kind == CardEventKind.READ
    pcscd.restart()  # the card's connection goes down with the old pcscd
    assert card.wait_removed_by_peer()
    other = pcscd.card(card=EmulatedCard(uid=bytes.fromhex("CAFEBABE")))
    other.insert()
    happened = run_like_the_app(reader, until=time.monotonic() + 5)
    assert happened[0] == DeviceState.OFFLINE  # the old context is dead: DeviceError
    assert DeviceState.ONLINE in happened  # reopened
    kinds = [e.kind for e in happened if isinstance(e, CardEvent)]
    assert kinds == [CardEventKind.REMOVED, CardEventKind.READ]
    assert happened[-1].identity.card_uid == "CAFEBABE"


def test_card_left_in_reader_across_restart_is_not_read_again(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:")
    card = pcscd.card()
    card.insert()
    assert next_event(reader).kind == CardEventKind.READ
    # The card stays put: the new pcscd sees it in the slot before the reader is reopened.
    pcscd.restart()
    card.insert()
    wait_readers([READER_0], present=True)
    happened = run_like_the_app(reader, until=time.monotonic() + 2.5)
    assert not [e for e in happened if isinstance(e, CardEvent)], happened
    card.remove()
    assert next_event(reader).kind == CardEventKind.REMOVED


def test_every_wait_is_bounded(pcscd: PcscdRig, open_reader):
    reader = open_reader("pcsc:")
    for timeout in (0, 0.05, 0.3):
        timed_wait(reader, timeout)  # empty reader
    pcscd.card().insert()
    assert next_event(reader).kind == CardEventKind.READ
    for timeout in (0, 0.05, 0.3):
        assert timed_wait(reader, timeout) is None  # card already read
    beid = open_reader("pcsc:?profile=beid&reader=00 01")
    pcscd.card(slot=1, card=beid_card()).insert()
    assert next_event(beid).kind == CardEventKind.READ
    for timeout in (0, 0.05, 0.3):
        assert timed_wait(beid, timeout) is None


@pytest.mark.parametrize(("answer", "state"), [
    ((scard.SCARD_E_UNKNOWN_READER, []), DeviceState.NODEVICE),  # unplugged
    ((scard.SCARD_S_SUCCESS, [(READER_0, scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_CHANGED,
                                [])]), DeviceState.NODEVICE),
    ((scard.SCARD_S_SUCCESS, [(READER_0, scard.SCARD_STATE_UNAVAILABLE, [])]),
     DeviceState.HWERROR),
])
def test_reader_going_away(pcscd: PcscdRig, open_reader, monkeypatch, answer, state):
    # vpcd's readers cannot be unplugged: pcscd's answer for a vanished reader is faked.
    reader = open_reader("pcsc:")
    pcscd.card().insert()
    assert next_event(reader).kind == CardEventKind.READ
    monkeypatch.setattr(scard, "SCardGetStatusChange", lambda *args: answer)
    assert timed_wait(reader, POLL_S).kind == CardEventKind.REMOVED  # the card went with it
    assert reader.status().state == state
    with pytest.raises(DeviceError, match="PC/SC reader"):
        reader.wait_event(POLL_S)
    reader.close()
    assert reader.status().state == state  # what the app reports while it retries
    monkeypatch.undo()
    reader.open()  # plugged in again
    assert reader.status().state == DeviceState.ONLINE


def test_wait_before_open_is_a_device_error():
    with pytest.raises(DeviceError, match="not open"):
        PcscReader("pcsc:").wait_event(0.1)
