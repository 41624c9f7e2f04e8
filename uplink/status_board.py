"""``StatusBoard``: what the heartbeat and diagnostics report about the running kiosk.

Written by the GUI thread, read by the sync worker's and diagnostics' threads. Light to import
(no HTTP or database modules), so the window can build one before its first frame.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from drivers.base import DeviceStatus

# The notice a corrupt queue database leaves for technicians (until one clears it).
QUEUE_MOVED_NOTICE = "queue database was corrupt at start; moved to"

if TYPE_CHECKING:
    from uplink.uploader import SyncStatus


class StatusBoard:
    """What the heartbeat reports about the kiosk, written by the GUI thread and read by the
    sync worker's thread."""

    def __init__(self, menu_version: int = 0, clock: Callable[[], float] = time.time):
        self._lock = threading.Lock()
        self._clock = clock
        self.started_at = clock()  # the app's start, for diagnostics' uptime
        self._devices: dict[str, DeviceStatus] = {}
        self._since: dict[str, float] = {}  # when each device's state or paper last changed
        self._menu_version = menu_version
        self._menu_rejected: dict | None = None
        self._notices: list[str] = []  # faults technicians must hear of, e.g. a lost database
        self._sync: SyncStatus | None = None

    def set_device(self, name: str, status: DeviceStatus) -> None:
        with self._lock:
            old = self._devices.get(name)
            if old is None or (old.state, old.paper) != (status.state, status.paper):
                self._since[name] = self._clock()
            self._devices[name] = status

    def device_since(self, name: str) -> float | None:
        """When ``name``'s state (or paper) last changed, epoch s; None before any status."""
        with self._lock:
            return self._since.get(name)

    def devices_since(self) -> dict[str, float]:
        with self._lock:
            return dict(self._since)

    def set_sync(self, status: SyncStatus) -> None:
        """The sync worker's latest status (the app forwards it from ``on_status``)."""
        with self._lock:
            self._sync = status

    def sync(self) -> SyncStatus | None:
        with self._lock:
            return self._sync

    def menu_rejected(self) -> dict | None:
        with self._lock:
            return self._menu_rejected

    def set_menu(self, version: int, rejected: dict | None = None) -> None:
        with self._lock:
            self._menu_version, self._menu_rejected = version, rejected

    def add_notice(self, text: str) -> None:
        with self._lock:
            self._notices = [*self._notices, text][-20:]

    def forget_notices(self, prefix: str) -> int:
        """A technician dealt with them: drop the notices starting with ``prefix``."""
        with self._lock:
            kept = [n for n in self._notices if not n.startswith(prefix)]
            dropped, self._notices = len(self._notices) - len(kept), kept
        return dropped

    def notices(self) -> list[str]:
        with self._lock:
            return list(self._notices)

    def snapshot(self) -> tuple[dict[str, DeviceStatus], int, dict | None]:
        with self._lock:
            return dict(self._devices), self._menu_version, self._menu_rejected
