"""The diagnostics PIN gate: five wrong PINs lock entry for five minutes, across restarts.

Qt-free. The state is one small JSON file, ``<data_dir>/diagnostics/pin_gate.json``, written
atomically (temporary file, fsync, rename). The gate fails closed: a state file that cannot
be read counts as a lock-out starting now, and a lock that seems to end further away than
``lock_s`` (the clock was set back) is shortened to ``lock_s`` from now. A lock known to this
gate is kept even if the file disappears behind its back.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from contract.atomic import write_atomic
from kiosk.technician.pin import PinHashError, verify_pin

log = logging.getLogger(__name__)

STATE_FILE = "pin_gate.json"
MAX_FAILURES = 5
LOCK_S = 300


@dataclass(frozen=True)
class GateResult:
    """The answer to one PIN.

    ``reason``: "ok"; "wrong" (``newly_locked`` when this failure started a lock-out);
    "locked" (refused unchecked while a lock-out lasts); "not-configured" (no pin_hash, so
    no PIN can open diagnostics); "bad-hash" (pin_hash is malformed). Only "wrong" counts as
    a failed attempt.
    """

    ok: bool
    locked: bool
    locked_until: float | None
    attempts_left: int
    newly_locked: bool
    reason: str


class PinGate:
    """Checks technician PINs and counts failures; thread-safe."""

    def __init__(self, folder: Path, *, max_failures: int = MAX_FAILURES, lock_s: float = LOCK_S,
                 clock: Callable[[], float] = time.time):
        if max_failures < 1 or lock_s <= 0:
            raise ValueError("max_failures must be at least 1 and lock_s positive")
        self.folder = Path(folder)
        self.path = self.folder / STATE_FILE
        self.max_failures = max_failures
        self.lock_s = float(lock_s)
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
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

    def check(self, pin: str, pin_hash: str) -> GateResult:
        """Check ``pin`` against ``pin_hash``; refused unchecked while locked."""
        with self._lock:
            now = self._clock()
            self._load(now)
            if self._locked_until is not None:
                return self._result(False, "locked")
            if not pin_hash:
                return self._result(False, "not-configured")
            try:
                ok = verify_pin(pin, pin_hash)
            except PinHashError as exc:
                log.error("diagnostics PIN cannot be checked: %s", exc)
                return self._result(False, "bad-hash")
            if ok:
                self._failures = 0
                self._save()
                return self._result(True, "ok")
            self._failures += 1
            newly_locked = self._failures >= self.max_failures
            if newly_locked:
                self._failures, self._locked_until = 0, now + self.lock_s
                log.warning("diagnostics entry locked for %g s after %d wrong PINs",
                            self.lock_s, self.max_failures)
            self._save()
            return self._result(False, "wrong", newly_locked)

    # --- state --------------------------------------------------------------------------

    def _result(self, ok: bool, reason: str, newly_locked: bool = False) -> GateResult:
        locked = self._locked_until is not None
        return GateResult(ok=ok, locked=locked, locked_until=self._locked_until,
                          attempts_left=0 if locked else self.max_failures - self._failures,
                          newly_locked=newly_locked, reason=reason)

    def _load(self, now: float) -> None:
        """Merge the file into what this gate knows; the stricter of the two wins."""
        failures, until = self._read(now)
        self._failures = max(failures, self._failures) if until is None else 0
        candidates = [t for t in (until, self._locked_until) if t is not None]
        until = max(candidates) if candidates else None
        changed = False
        if until is not None and until > now + self.lock_s:
            log.warning("diagnostics lock-out ended %.0f s from now; the clock must have been "
                        "set back, so it ends in %g s", until - now, self.lock_s)
            until, changed = now + self.lock_s, True
        if until is not None and until <= now:
            until, self._failures, changed = None, 0, True  # served: a fresh count
        self._locked_until = until
        if changed or (until is not None and until != self._file_until):
            self._save()

    def _read(self, now: float) -> tuple[int, float | None]:
        self._file_until = None
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            self._damage_lock = None
            return 0, None
        except OSError as exc:
            return 0, self._damaged(now, f"cannot be read ({exc.strerror})")
        try:
            data = json.loads(raw)
            failures, until = data["failures"], data["locked_until"]
            if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
                raise ValueError("failures")
            if until is not None and (isinstance(until, bool)
                                      or not isinstance(until, int | float) or until != until):
                raise ValueError("locked_until")
        except (ValueError, KeyError, TypeError):
            return 0, self._damaged(now, "is damaged")
        self._damage_lock = None
        self._file_until = None if until is None else float(until)
        return failures, self._file_until

    def _damaged(self, now: float, problem: str) -> float | None:
        """Fail closed: a lock-out from the moment the damage was first seen (not renewed on
        every read, or a file that stays unreadable would lock technicians out for good)."""
        if self._damage_lock is None:
            self._damage_lock = now + self.lock_s
            log.error("diagnostics PIN state %s %s; locking entry for %g s", self.path,
                      problem, self.lock_s)
        return self._damage_lock if self._damage_lock > now else None

    def _save(self) -> None:
        data = {"failures": self._failures, "locked_until": self._locked_until}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, json.dumps(data).encode(), mode=0o600)
        except OSError as exc:
            # The gate still holds the state in memory; only a restart would forget it.
            log.error("diagnostics PIN state %s cannot be written (%s)", self.path, exc.strerror)
        else:
            self._file_until = self._locked_until


