"""Every kiosk at a glance, kept in memory so that the fleet page counts 20,000 kiosks fast.

A ``Glance`` is what the counts and filters need of a kiosk's last heartbeats, a few plain
values (no heartbeat bodies: the page's rows read those from the store). Heartbeats this
process takes are noted at once; the whole view is read again from the store in the
background when older than ``RELOAD_S``, for heartbeats that other central processes on the
same database took.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, NamedTuple

from .fleet import _RANK, BAD, NEVER, STALE_INTERVALS, WARN, heartbeat_interval, kiosk_status
from .kiosks import Kiosk

if TYPE_CHECKING:
    from .server import CentralServer

log = logging.getLogger(__name__)

RELOAD_S = 30.0


class Glance(NamedTuple):
    received: float  # of the last heartbeat
    stale_after: float
    level: str  # from the last heartbeat, leaving out staleness and a menu left behind
    menu_version: int | None
    app_version: str | None


def glance(kiosk: Kiosk, beats: list[tuple[float, dict[str, Any]]]) -> Glance:
    """The glance of ``beats`` (``(received_at, body)``, newest first, at least one)."""
    received = beats[0][0]
    row = kiosk_status(kiosk, beats, None, received)  # as if now: neither stale nor behind
    interval = heartbeat_interval([r for r, _ in beats])
    return Glance(received, received + STALE_INTERVALS * interval, row["level"],
                  row["menu_version"], row["app_version"])


def level_at(seen: Glance | None, serving: int | None, now: float) -> tuple[str, bool]:
    """``(level, stale)`` of a kiosk at ``now``, served menu version ``serving``."""
    if seen is None:
        return NEVER, False
    if now > seen.stale_after:
        return BAD, True
    level = seen.level
    if (serving is not None and seen.menu_version is not None and seen.menu_version < serving
            and _RANK[WARN] < _RANK[level]):
        level = WARN
    return level, False


class FleetView:
    """Kiosk id -> ``Glance`` for every kiosk that has sent a heartbeat."""

    def __init__(self, central: CentralServer) -> None:
        self._central = central
        self._lock = threading.Lock()
        self._glances: dict[str, Glance] = {}
        self._loaded_at: float | None = None
        self._reloading = False

    def preload(self) -> None:
        """Read the view in the background now, so that the first page is quick too."""
        self._reloading = True
        threading.Thread(target=self._reload, name="fleet-reload", daemon=True).start()

    def note_heartbeat(self, kiosk_id: str, received: float, body: dict[str, Any]) -> None:
        kiosk = self._central.kiosks.get(kiosk_id)
        if kiosk is None:
            return
        with self._lock:
            seen = self._glances.get(kiosk_id)
            if seen is not None and seen.received > received:
                return  # a newer one is known: this one changes nothing shown
            # Only the newest body counts; of the one before, its time (the interval). No
            # body is kept: 20,000 kept bodies made every full garbage collection long.
            beats = [(received, body)] if seen is None else [(received, body),
                                                             (seen.received, {})]
            self._glances[kiosk_id] = glance(kiosk, beats)

    def glances(self) -> dict[str, Glance]:
        """Every kiosk's glance; read from the store the first time, then again in the
        background whenever the view is older than ``RELOAD_S``."""
        if self._loaded_at is None:
            self._reload()  # the first look waits for it (a preload may be under way)
        elif time.monotonic() - self._loaded_at > RELOAD_S and not self._reloading:
            self._reloading = True
            threading.Thread(target=self._reload, name="fleet-reload", daemon=True).start()
        with self._lock:
            return self._glances

    def _reload(self) -> None:
        started = time.monotonic()
        try:
            central = self._central
            recent = central.store.recent_heartbeats(central.kiosks.ids(), 2)
            fresh = {}
            for kiosk_id, beats in recent.items():
                kiosk = central.kiosks.get(kiosk_id)
                if beats and kiosk is not None:
                    fresh[kiosk_id] = glance(kiosk, beats)
            with self._lock:
                for kiosk_id, mine in self._glances.items():  # noted while reading
                    theirs = fresh.get(kiosk_id)
                    if theirs is None or theirs.received < mine.received:
                        fresh[kiosk_id] = mine
                self._glances = fresh
                self._loaded_at = started
        except Exception:  # noqa: BLE001 - the page shows the view it has
            if not self._central.stopping.is_set():
                log.exception("reading the fleet's heartbeats failed")
        finally:
            self._reloading = False
