"""The kiosk's idea of the time when its own clock may be wrong (Qt-free, HTTP-free).

Many kiosks have no working clock battery: they start in 1970, or drift. ``KioskClock``
learns the offset from the central's answers (their ``Date`` header) and trusts the system
clock as it is when NTP has synchronised it. ``now()`` is the system clock corrected by that
offset. ``known()`` is False while the time cannot be believed (a date before the software
existed, nothing to correct it by); transactions made then say so to the central.
"""

from __future__ import annotations

import email.utils
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contract.times import is_plausible, rfc3339

log = logging.getLogger(__name__)

SYNC_FLAG = Path("/run/systemd/timesync/synchronized")
SMALL_OFFSET_S = 2.0  # a Date header has whole seconds: less than this is no news
TRUSTED_OFFSET_S = 120.0  # a drift beyond this is a clock problem a technician should see


def ntp_synchronized() -> bool:
    """True when systemd-timesyncd (or timedatectl) says the system clock is synchronised."""
    if SYNC_FLAG.exists():
        return True
    tool = shutil.which("timedatectl")
    if tool is None:
        return False
    try:
        done = subprocess.run([tool, "show", "-p", "NTPSynchronized", "--value"],
                              capture_output=True, text=True, timeout=2, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.stdout.strip() == "yes"


class KioskClock:
    """The system clock with what the kiosk learned about its error. Thread-safe."""

    def __init__(self, system: Callable[[], float] = time.time,
                 ntp: Callable[[], bool] = ntp_synchronized) -> None:
        self._system = system
        self._ntp = ntp
        self._lock = threading.Lock()
        self._offset: float | None = None  # central time minus system time, when learned
        self._learned_at: float | None = None
        self._problem: str | None = None  # e.g. a certificate "not yet valid" by our clock

    def system(self) -> float:
        """The system clock as it is, uncorrected (what TLS and the kernel go by)."""
        return self._system()

    def now(self) -> float:
        """Epoch seconds: the system clock, corrected by the learned offset."""
        with self._lock:
            offset = self._offset or 0.0
        return self._system() + offset

    def known(self) -> bool:
        """False while the kiosk cannot tell the time: its clock shows a date before the
        software existed and no central answer or NTP has put it right."""
        return is_plausible(self.now()) or self._ntp_ok()

    def observe_date(self, header: str | None, sent_at: float, received_at: float) -> None:
        """Learn from an answer's ``Date`` header; ``sent_at``/``received_at`` are the system
        clock when the request left and the answer came (the midpoint is compared)."""
        if not header:
            return
        try:
            server = email.utils.parsedate_to_datetime(header).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return
        offset = server - (sent_at + received_at) / 2
        with self._lock:
            old = self._offset
            self._offset = offset if abs(offset) >= SMALL_OFFSET_S else 0.0
            self._learned_at = received_at
            if abs(offset) < TRUSTED_OFFSET_S:
                self._problem = None
        if old is None or abs((old or 0.0) - offset) >= TRUSTED_OFFSET_S:
            if abs(offset) >= TRUSTED_OFFSET_S:
                log.warning("the kiosk's clock is %+.0f s off the central's; using the "
                            "central's time", -offset)

    def report_problem(self, problem: str) -> None:
        """A symptom of a wrong clock seen elsewhere (a certificate not yet valid)."""
        with self._lock:
            self._problem = problem

    def status(self) -> dict[str, Any]:
        """JSON-ready: ``state`` ("ok", "corrected", "unknown" or "wrong"), ``offset_s``,
        ``source`` ("ntp", "central" or "system"), ``now`` (corrected, RFC 3339), ``problem``."""
        with self._lock:
            offset, problem = self._offset, self._problem
        ntp = self._ntp_ok()
        source = "ntp" if ntp else "central" if offset is not None else "system"
        if problem:
            state = "wrong"
        elif not self.known():
            state = "unknown"
        elif offset is not None and abs(offset) >= TRUSTED_OFFSET_S and not ntp:
            state = "corrected"
        else:
            state = "ok"
        return {"state": state, "source": source,
                "offset_s": None if offset is None else round(offset),
                "now": rfc3339(self.now()), "problem": problem}

    def _ntp_ok(self) -> bool:
        try:
            return bool(self._ntp())
        except OSError:
            return False



_SHARED: list[KioskClock] = []
_SHARED_LOCK = threading.Lock()


def shared_clock() -> KioskClock:
    """The process's one ``KioskClock``: what the client learns, the queue and the
    technician's overview use."""
    with _SHARED_LOCK:
        if not _SHARED:
            _SHARED.append(KioskClock())
        return _SHARED[0]
