"""The diagnostics PIN gate: five wrong PINs lock entry, across restarts, longer each time.

Qt-free. The first lock-out lasts ``lock_s`` (5 minutes), each further one twice as long as
the one before, up to ``max_lock_s`` (24 hours); a right PIN starts the count again. The
PIN identifies the technician (``kiosk.technician.pin.identify``). The state is one small
JSON file, ``<data_dir>/diagnostics/pin_gate.json``, written atomically (temporary file,
fsync, rename). The gate fails closed: a state file that cannot be read counts as a lock-out
starting now, and a lock that seems to end further away than its length (the clock was set
back) is shortened to that length from now. A lock known to this gate is kept even if the
file disappears behind its back.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contract.atomic import write_atomic
from kiosk.technician.pin import PIN_DIGITS, UNNAMED, identify

log = logging.getLogger(__name__)

STATE_FILE = "pin_gate.json"
MAX_FAILURES = 5
LOCK_S = 300
MAX_LOCK_S = 24 * 3600


@dataclass(frozen=True)
class GateResult:
    """The answer to one PIN.

    ``reason``: "ok" (``technician`` names who); "wrong" (``newly_locked`` when this failure
    started a lock-out); "locked" (refused unchecked while a lock-out lasts);
    "not-configured" (no technician, so no PIN can open diagnostics); "bad-hash" (every
    hash is malformed). Only "wrong" counts as a failed attempt.
    """

    ok: bool
    locked: bool
    locked_until: float | None
    attempts_left: int
    newly_locked: bool
    reason: str
    technician: str | None = None
    lockouts: int = 0  # lock-outs since the last right PIN
    weak: bool = False  # the right PIN is shorter than 6 digits (a hash from before names)


def lock_length(lock_s: float, max_lock_s: float, lockouts: int) -> float:
    """The ``lockouts``-th lock-out's length: ``lock_s``, doubling, at most ``max_lock_s``."""
    return min(max_lock_s, lock_s * 2 ** min(max(lockouts - 1, 0), 32))


def read_status(folder: Path, now: float | None = None) -> dict:
    """The gate's state as the heartbeat reports it, read without writing:
    ``{"locked_until": epoch s | None, "failures": n, "lockouts": k}`` (a lock-out already
    served is None); a file that cannot be read adds ``"damaged": True``."""
    now = time.time() if now is None else now
    try:
        data = json.loads((Path(folder) / STATE_FILE).read_bytes())
        until = data.get("locked_until")
        until = float(until) if until is not None and float(until) > now else None
        return {"locked_until": until, "failures": int(data["failures"]),
                "lockouts": int(data.get("lockouts", 0))}
    except FileNotFoundError:
        return {"locked_until": None, "failures": 0, "lockouts": 0}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {"locked_until": None, "failures": 0, "lockouts": 0, "damaged": True}


class PinGate:
    """Checks technician PINs and counts failures; thread-safe."""

    def __init__(self, folder: Path, *, max_failures: int = MAX_FAILURES, lock_s: float = LOCK_S,
                 max_lock_s: float = MAX_LOCK_S, clock: Callable[[], float] = time.time):
        if max_failures < 1 or lock_s <= 0 or max_lock_s < lock_s:
            raise ValueError("max_failures must be at least 1, lock_s positive, max_lock_s "
                             "at least lock_s")
        self.folder = Path(folder)
        self.path = self.folder / STATE_FILE
        self.max_failures = max_failures
        self.lock_s = float(lock_s)
        self.max_lock_s = float(max_lock_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._lockouts = 0  # lock-outs since the last right PIN: the next one is longer
        self._locked_until: float | None = None  # what this gate knows, besides the file
        self._file_until: float | None = None  # the lock-out the file held when last read
        self._damage_lock: float | None = None  # the lock-out a damaged file started

    @classmethod
    def for_data_dir(cls, data_dir: Path, **kwargs) -> PinGate:
        return cls(Path(data_dir) / "diagnostics", **kwargs)

    def locked_until(self) -> float | None:
        """When the current lock-out ends (epoch s), or None when entry is open."""
        with self._lock:
            self._load(self._clock())
            return self._locked_until

    def attempts_left(self) -> int:
        with self._lock:
            self._load(self._clock())
            return 0 if self._locked_until is not None else self.max_failures - self._failures

    def check(self, pin: str, hashes: dict[str, str] | str) -> GateResult:
        """Whose PIN ``pin`` is among ``hashes`` (name -> hash; a lone hash string is the
        unnamed technician's); refused unchecked while locked."""
        if isinstance(hashes, str):
            hashes = {UNNAMED: hashes} if hashes else {}
        with self._lock:
            now = self._clock()
            self._load(now)
            if self._locked_until is not None:
                return self._result(False, "locked")
            if not hashes:
                return self._result(False, "not-configured")
            name, bad = identify(pin, hashes)
            if name is None and len(bad) == len(hashes):
                return self._result(False, "bad-hash")
            if name is not None:
                self._failures = self._lockouts = 0
                self._save()
                return dataclasses.replace(self._result(True, "ok", technician=name),
                                           weak=len(pin) < PIN_DIGITS[0])
            self._failures += 1
            newly_locked = self._failures >= self.max_failures
            if newly_locked:
                self._lockouts += 1
                length = self._length()
                self._failures, self._locked_until = 0, now + length
                log.warning("diagnostics entry locked for %g s after %d wrong PINs (lock-out "
                            "%d in a row)", length, self.max_failures, self._lockouts)
            self._save()
            return self._result(False, "wrong", newly_locked)

    def _length(self) -> float:
        return lock_length(self.lock_s, self.max_lock_s, self._lockouts)

    # --- state --------------------------------------------------------------------------

    def _result(self, ok: bool, reason: str, newly_locked: bool = False,
                technician: str | None = None) -> GateResult:
        locked = self._locked_until is not None
        return GateResult(ok=ok, locked=locked, locked_until=self._locked_until,
                          attempts_left=0 if locked else self.max_failures - self._failures,
                          newly_locked=newly_locked, reason=reason, technician=technician,
                          lockouts=self._lockouts)

    def _load(self, now: float) -> None:
        """Merge the file into what this gate knows; the stricter of the two wins."""
        failures, until, lockouts = self._read(now)
        self._failures = max(failures, self._failures) if until is None else 0
        self._lockouts = max(lockouts, self._lockouts)
        candidates = [t for t in (until, self._locked_until) if t is not None]
        until = max(candidates) if candidates else None
        changed = False
        length = self._length()
        if until is not None and until > now + length:
            log.warning("diagnostics lock-out ended %.0f s from now; the clock must have been "
                        "set back, so it ends in %g s", until - now, length)
            until, changed = now + length, True
        if until is not None and until <= now:
            until, self._failures, changed = None, 0, True  # served: a fresh count
        self._locked_until = until
        if changed or (until is not None and until != self._file_until):
            self._save()

    def _read(self, now: float) -> tuple[int, float | None, int]:
        self._file_until = None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self._damage_lock = None
            return 0, None, 0
        except OSError as exc:
            return 0, self._damaged(now, f"cannot be read ({exc.strerror})"), 0
        try:
            data = json.loads(raw)
            failures, until = data["failures"], data["locked_until"]
            lockouts = data.get("lockouts", 0)
            for count in (failures, lockouts):
                if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                    raise ValueError("failures")
            if until is not None and (isinstance(until, bool)
                                      or not isinstance(until, int | float) or until != until):
                raise ValueError("locked_until")
        except (ValueError, KeyError, TypeError, AttributeError):
            return 0, self._damaged(now, "is damaged"), 0
        self._damage_lock = None
        self._file_until = None if until is None else float(until)
        return failures, self._file_until, lockouts

    def _damaged(self, now: float, problem: str) -> float | None:
        """Fail closed: a lock-out from the moment the damage was first seen (not renewed on
        every read, or a file that stays unreadable would lock technicians out for good)."""
        if self._damage_lock is None:
            self._damage_lock = now + self.lock_s
            log.error("diagnostics PIN state %s %s; locking entry for %g s", self.path,
                      problem, self.lock_s)
        return self._damage_lock if self._damage_lock > now else None

    def _save(self) -> None:
        data = {"failures": self._failures, "locked_until": self._locked_until,
                "lockouts": self._lockouts}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, json.dumps(data).encode(), mode=0o600)
        except OSError as exc:
            # The gate still holds the state in memory; only a restart would forget it.
            log.error("diagnostics PIN state %s cannot be written (%s)", self.path, exc.strerror)
        else:
            self._file_until = self._locked_until


