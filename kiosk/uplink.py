"""Wiring the kiosk to the central platform: client, uploader, worker and heartbeat. Qt-free.

Used by the app (a background ``SyncWorker``) and by ``kiosk sync --once``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from drivers.base import DeviceStatus
from kiosk.config import Config
from kiosk.heartbeat import build_heartbeat
from offline_queue import OfflineQueue
from offline_queue.client import CentralClient
from offline_queue.sync import SyncStatus, Uploader
from offline_queue.worker import SyncWorker


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

    def notices(self) -> list[str]:
        with self._lock:
            return list(self._notices)

    def snapshot(self) -> tuple[dict[str, DeviceStatus], int, dict | None]:
        with self._lock:
            return dict(self._devices), self._menu_version, self._menu_rejected


def make_client(config: Config) -> CentralClient:
    c = config.central
    return CentralClient(c.url, config.kiosk.id, c.token_file, c.ca_file)


def make_uploader(config: Config, queue: OfflineQueue) -> Uploader:
    c = config.central
    return Uploader(queue, make_client(config), max_backoff_s=c.max_backoff_s,
                    auth_retry_s=c.auth_retry_s)


def make_worker(config: Config, queue: OfflineQueue, board: StatusBoard,
                on_status: Callable[[SyncStatus], None] | None = None) -> SyncWorker:
    uploader = make_uploader(config, queue)
    holder: dict[str, SyncWorker] = {}
    if queue.recovered_from:
        board.add_notice(f"queue database was corrupt at start; moved to {queue.recovered_from}")

    def heartbeat() -> dict:
        devices, menu_version, rejected = board.snapshot()
        worker = holder.get("worker")
        sync = worker.status.as_dict() if worker is not None else None
        if sync is not None and board.notices():
            sync["notices"] = board.notices()
        return build_heartbeat(
            kiosk_id=config.kiosk.id, menu_version=menu_version, counts=queue.counts(),
            oldest_pending_s=queue.oldest_pending_age_s(time.time()), devices=devices,
            menu_rejected=rejected, sync=sync)

    worker = SyncWorker(uploader, sync_interval_s=config.central.sync_interval_s,
                        heartbeat_s=config.central.heartbeat_s, heartbeat_payload=heartbeat,
                        on_status=on_status)
    holder["worker"] = worker
    return worker


def is_online(status: SyncStatus) -> bool:
    """The home screen's indicator: the last contact with the central platform worked."""
    if status.auth_failed or status.heartbeat_error or status.state == "offline":
        return False
    return status.online or status.last_heartbeat_at is not None
