"""Wiring the kiosk to the central platform: client, uploader, worker and heartbeat. Qt-free.

Used by the app (a background ``SyncWorker``) and by ``kiosk sync --once``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from kiosk.config import Config
from offline_queue import OfflineQueue
from uplink.client import CentralClient
from uplink.heartbeat import build_heartbeat
from uplink.status_board import StatusBoard
from uplink.sync_worker import SyncWorker
from uplink.uploader import SyncStatus, Uploader


def make_client(config: Config, **options) -> CentralClient:
    """A client for ``config``'s central platform; ``options`` (timeouts, body limits) go to
    ``CentralClient``. The uploader, the menu poller and the diagnostics probe each make one."""
    c = config.central
    return CentralClient(c.url, config.kiosk.id, c.token_file, c.ca_file, **options)


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
            menu_rejected=rejected, sync=sync, queue_notices=queue.notices())

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
