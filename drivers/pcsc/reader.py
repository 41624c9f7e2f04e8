"""PC/SC smart-card reader through pcscd, with pyscard's low-level ``smartcard.scard`` API.

URI: ``pcsc:`` or ``pcsc:?reader=SUBSTRING&profile=NAME``. The reader is the first one whose
name contains SUBSTRING (case-insensitive), else the first reader; the profile (default
``uid``) says what to read from a card (drivers/pcsc/profiles.py, drivers/README.md).

Everything runs on the caller's thread: ``wait_event`` blocks in ``SCardGetStatusChange`` for
at most its timeout, then reads a newly arrived card there and then. No monitor thread: pyscard's
``CardMonitor`` calls observers on a thread of its own and dies silently when pcscd restarts.

Failures the app recovers from by closing and reopening raise ``DeviceError``, with
``status()`` saying why: pcscd not running, gone, or restarted (its old context is dead):
offline; no reader matching, or the reader unplugged: nodevice. A card that fails mid-read
gives an UNREADABLE event. A card is read once; its next event is REMOVED. pcsc-lite counts
card insertions and removals in the upper 16 bits of a reader's event state, so a card swapped
between two waits gives REMOVED, then the new card's event.
"""

from __future__ import annotations

import hashlib
import logging
import time
from urllib.parse import parse_qsl, urlsplit

from smartcard import scard

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
from drivers.pcsc.profiles import PROFILES, CardUnreadable

log = logging.getLogger(__name__)

MAX_APDUS = 64  # per card read
READ_BUDGET_S = 10.0  # per card read; each APDU is bounded by the reader driver's own timeout


def _code(hresult: int) -> int:
    """pyscard may hand back an HRESULT as a negative int: compare them as unsigned."""
    return hresult & 0xFFFFFFFF


# pcscd is gone, or restarted and no longer knows our context: reopen.
_SERVICE_LOST = {_code(c) for c in (
    scard.SCARD_E_NO_SERVICE,
    scard.SCARD_E_SERVICE_STOPPED,
    scard.SCARD_F_COMM_ERROR,
    scard.SCARD_E_INVALID_HANDLE,
    scard.SCARD_F_INTERNAL_ERROR,
    scard.SCARD_E_NO_MEMORY,
)}
# The reader went away (unplugged).
_READER_GONE = {_code(scard.SCARD_E_UNKNOWN_READER), _code(scard.SCARD_E_READER_UNAVAILABLE)}
_NOTHING_HAPPENED = {_code(scard.SCARD_E_TIMEOUT), _code(scard.SCARD_E_CANCELLED)}
_NO_READERS = _code(scard.SCARD_E_NO_READERS_AVAILABLE)
_SHARING_VIOLATION = _code(scard.SCARD_E_SHARING_VIOLATION)


def _describe(op: str, hresult: int) -> str:
    return f"{op}: {scard.SCardGetErrorMessage(hresult)} (0x{_code(hresult):08X})"


def parse_pcsc_uri(uri: str) -> tuple[str, str]:
    """``pcsc:?reader=...&profile=...`` -> (reader substring, profile name)."""
    parts = urlsplit(uri)
    if parts.scheme.lower() != "pcsc":
        raise DeviceConfigError(f"{uri!r}: not a pcsc: URI")
    if parts.netloc or parts.path or parts.fragment:
        raise DeviceConfigError(f"{uri!r}: a pcsc: URI takes only ?reader=...&profile=...")
    params: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in ("reader", "profile"):
            raise DeviceConfigError(f"{uri!r}: unknown parameter {key!r} (known: reader, profile)")
        if key in params:
            raise DeviceConfigError(f"{uri!r}: {key!r} given twice")
        params[key] = value
    profile = params.get("profile", "uid") or "uid"
    if profile not in PROFILES:
        known = ", ".join(PROFILES)
        raise DeviceConfigError(f"{uri!r}: unknown PC/SC profile {profile!r} (known: {known})")
    return params.get("reader", ""), profile


class PcscReader(CardReader):
    """A PC/SC reader. Not thread-safe: one thread calls open, wait_event and close."""

    def __init__(self, uri: str = "pcsc:"):
        self.uri = uri
        self.reader_filter, self.profile = parse_pcsc_uri(uri)
        self._read_card = PROFILES[self.profile]
        self._ctx: int | None = None
        self._reader: str | None = None  # None while open: the reader went away
        self._known_state = scard.SCARD_STATE_UNAWARE
        self._card_counter: int | None = None  # event counter of the card already handled
        # Kept across a reopen: an event was handed out for a card not yet seen removed, and
        # the digest of its identity, so a card left in the reader while pcscd restarts is
        # neither read twice nor left without its REMOVED event.
        self._pending_removal = False
        self._unremoved: str | None = None
        self._queued: CardEvent | None = None  # handed out by the next wait_event
        self._status = DeviceStatus(DeviceState.OFFLINE, "not open")
        self.name = ""  # the PC/SC name of the reader in use, once opened

    # --- lifecycle ----------------------------------------------------------------------------

    def open(self) -> None:
        if self._ctx is not None:
            return
        hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if hresult != scard.SCARD_S_SUCCESS:
            self._set_status(DeviceState.OFFLINE, "pcscd is not running")
            raise DeviceError(_describe("SCardEstablishContext (is pcscd running?)", hresult))
        self._ctx = ctx
        self._card_counter = None  # counters of another pcscd mean nothing here
        try:
            self._reader = self._choose_reader()
        except DeviceError:
            self._release()
            raise
        self._known_state = scard.SCARD_STATE_UNAWARE
        self.name = self._reader
        log.info("PC/SC reader: %s (profile %s)", self._reader, self.profile)
        self._set_status(DeviceState.ONLINE, self._reader)

    def close(self) -> None:
        self._release()
        if self._status.state == DeviceState.ONLINE:
            self._set_status(DeviceState.OFFLINE, "closed")

    def status(self) -> DeviceStatus:
        """The state seen by the last call on the reader's thread (no I/O: any thread may ask)."""
        return self._status

    def _release(self) -> None:
        ctx, self._ctx = self._ctx, None
        self._reader = None
        self._card_counter = None
        if self._queued is not None:  # read but never handed out: read it again after reopening
            self._queued = None
            self._pending_removal = False
            self._unremoved = None
        if ctx is not None:
            hresult = scard.SCardReleaseContext(ctx)
            if hresult != scard.SCARD_S_SUCCESS:  # pcscd already gone: nothing left to free
                log.debug("%s", _describe("SCardReleaseContext", hresult))

    def _choose_reader(self) -> str:
        hresult, readers = scard.SCardListReaders(self._ctx, [])
        if _code(hresult) == _NO_READERS:
            readers = []
        else:
            self._check(hresult, "SCardListReaders")
        wanted = self.reader_filter.casefold()
        chosen = next((r for r in readers if wanted in r.casefold()), None)
        if chosen is None:
            what = f"matching {self.reader_filter!r}" if self.reader_filter else "attached"
            self._set_status(DeviceState.NODEVICE, f"no PC/SC reader {what}")
            raise DeviceError(f"no PC/SC reader {what} (readers: {', '.join(readers) or 'none'})")
        return chosen

    # --- events -------------------------------------------------------------------------------

    def wait_event(self, timeout: float) -> CardEvent | None:
        if self._ctx is None:
            raise DeviceError(f"{self.uri}: reader is not open")
        if self._queued is not None:
            event, self._queued = self._queued, None
            return event
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            event = self._poll(deadline)
            if event is not None or time.monotonic() >= deadline:
                return event

    def _poll(self, deadline: float) -> CardEvent | None:
        reader = self._reader
        if reader is None:
            raise DeviceError(f"{self.uri}: {self._status.detail}")
        hresult, states = scard.SCardGetStatusChange(
            self._ctx, _ms_left(deadline), [(reader, self._known_state)])
        if _code(hresult) in _NOTHING_HAPPENED:
            return None
        if _code(hresult) in _READER_GONE:
            return self._reader_lost(DeviceState.NODEVICE, "went away")
        self._check(hresult, "SCardGetStatusChange")
        _, event_state, _atr = states[0]
        self._known_state = event_state & ~scard.SCARD_STATE_CHANGED
        if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_IGNORE):
            return self._reader_lost(DeviceState.NODEVICE, "went away")
        if event_state & scard.SCARD_STATE_UNAVAILABLE:
            return self._reader_lost(DeviceState.HWERROR, "is unavailable")
        counter = (event_state >> 16) & 0xFFFF
        if not event_state & scard.SCARD_STATE_PRESENT:
            return self._removed()
        if self._card_counter is None:
            self._card_counter = counter
            return self._read(reader, event_state)
        if counter != self._card_counter:  # removed and another card put down since last look
            self._known_state = scard.SCARD_STATE_UNAWARE  # so the next look reads the new one
            return self._removed()
        return None

    def _removed(self) -> CardEvent | None:
        self._card_counter = None
        self._unremoved = None
        if not self._pending_removal:
            return None
        self._pending_removal = False
        return CardEvent(CardEventKind.REMOVED)

    def _reader_lost(self, state: DeviceState, what: str) -> CardEvent | None:
        """The next call raises DeviceError; a card handed out gets its REMOVED first."""
        log.warning("PC/SC reader %r %s", self._reader, what)
        self._set_status(state, f"PC/SC reader {self._reader!r} {what}")
        self._reader = None
        return self._removed()

    # --- reading a card -----------------------------------------------------------------------

    def _read(self, reader: str, event_state: int) -> CardEvent | None:
        event = self._read_once(reader, event_state)
        digest = _digest(event.identity) if event.identity is not None else None
        if self._pending_removal:  # an event was handed out before a reopen, and no REMOVED
            if digest is not None and digest == self._unremoved:
                log.info("card still in the reader since before reopening: not handed out again")
                return None
            self._queued, event = event, CardEvent(CardEventKind.REMOVED)
        self._pending_removal = True
        self._unremoved = digest
        return event

    def _read_once(self, reader: str, event_state: int) -> CardEvent:
        if event_state & scard.SCARD_STATE_MUTE:
            return _unreadable("card does not answer (mute)")
        # Exclusive: nobody can select another file between our APDUs. SCardBeginTransaction
        # would do it in shared mode, but waits without a bound for another holder to finish.
        hresult, hcard, protocol = scard.SCardConnect(
            self._ctx, reader, scard.SCARD_SHARE_EXCLUSIVE,
            scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
        if hresult != scard.SCARD_S_SUCCESS:
            self._check_service(hresult, "SCardConnect")
            if _code(hresult) == _SHARING_VIOLATION:
                return _unreadable("reader in use by another application")
            return _unreadable(_describe("SCardConnect", hresult))
        try:
            identity = self._read_card(_Transmitter(self, hcard, protocol))
        except CardUnreadable as exc:
            return _unreadable(str(exc))
        finally:
            hresult = scard.SCardDisconnect(hcard, scard.SCARD_LEAVE_CARD)
            if hresult != scard.SCARD_S_SUCCESS:
                log.debug("%s", _describe("SCardDisconnect", hresult))
        return CardEvent(CardEventKind.READ, identity=identity)

    # --- errors -------------------------------------------------------------------------------

    def _set_status(self, state: DeviceState, detail: str) -> None:
        self._status = DeviceStatus(state, detail)

    def _check_service(self, hresult: int, op: str) -> None:
        """Raise DeviceError when pcscd is gone or has forgotten our context."""
        if _code(hresult) in _SERVICE_LOST:
            self._set_status(DeviceState.OFFLINE, "pcscd not available")
            raise DeviceError(_describe(op, hresult))

    def _check(self, hresult: int, op: str) -> None:
        if hresult == scard.SCARD_S_SUCCESS:
            return
        self._check_service(hresult, op)
        self._set_status(DeviceState.HWERROR, _describe(op, hresult))
        raise DeviceError(_describe(op, hresult))


class _Transmitter:
    """``transmit(apdu) -> (data, sw)`` for the profiles, bounded in count and time."""

    def __init__(self, owner: PcscReader, hcard: int, protocol: int):
        self._owner = owner
        self._hcard = hcard
        self._protocol = protocol
        self._count = 0
        self._deadline = time.monotonic() + READ_BUDGET_S

    def __call__(self, apdu: bytes) -> tuple[bytes, int]:
        self._count += 1
        if self._count > MAX_APDUS:
            raise CardUnreadable(f"more than {MAX_APDUS} APDUs for one card")
        if time.monotonic() > self._deadline:
            raise CardUnreadable(f"card read took longer than {READ_BUDGET_S:.0f} s")
        hresult, response = scard.SCardTransmit(self._hcard, self._protocol, list(apdu))
        if hresult != scard.SCARD_S_SUCCESS:
            self._owner._check_service(hresult, "SCardTransmit")
            # Card pulled mid-APDU (SCARD_E_NOT_TRANSACTED, SCARD_W_REMOVED_CARD, ...).
            raise CardUnreadable(_describe("SCardTransmit", hresult))
        if len(response) < 2:  # vpcd's answer when the card left before answering
            raise CardUnreadable("response shorter than a status word")
        return bytes(response[:-2]), (response[-2] << 8) | response[-1]


def _unreadable(reason: str) -> CardEvent:
    log.warning("card unreadable: %s", reason)
    return CardEvent(CardEventKind.UNREADABLE, reason=reason)


def _digest(identity: Identity) -> str:
    return hashlib.sha256(repr(identity).encode()).hexdigest()


def _ms_left(deadline: float) -> int:
    return max(0, int((deadline - time.monotonic()) * 1000))
