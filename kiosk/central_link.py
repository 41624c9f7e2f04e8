"""Wiring the kiosk to the central platform: the one place a kiosk ``Config`` becomes uplink
objects (client, uploader, sync worker and heartbeat, menu store and poller). Qt-free.

Used by the app (background ``SyncWorker`` and ``MenuPoller``), ``kiosk sync --once``,
``kiosk status`` and diagnostics. Light to import: the HTTP and queue modules are imported
by the functions that build their objects, so the window can read its menu through this
module before its first frame, and an offline-only kiosk never loads the HTTP stack.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kiosk import __version__
from kiosk.config import Config
from uplink import menu_store as menu_store_mod
from uplink.menu_store import MenuStore

if TYPE_CHECKING:
    from contract.menu import Menu
    from kiosk.updates import UpdateReport
    from offline_queue import OfflineQueue
    from uplink.client import CentralClient
    from uplink.commands import CommandExchange
    from uplink.menu_poller import MenuBoard, MenuPoller
    from uplink.status_board import StatusBoard
    from uplink.sync_worker import SyncWorker
    from uplink.uploader import SyncStatus, Uploader


def make_client(config: Config, **options) -> CentralClient:
    """A client for ``config``'s central platform; ``options`` (timeouts, body limits) go to
    ``CentralClient``. The uploader, the menu poller and the diagnostics probe each make one."""
    from contract.clock import shared_clock
    from uplink.client import CentralClient

    c = config.central
    options.setdefault("clock", shared_clock())  # every answer's Date header corrects it
    return CentralClient(c.url, config.kiosk.id, c.token_file, c.ca_file, **options)


def make_uploader(config: Config, queue: OfflineQueue) -> Uploader:
    from uplink.uploader import Uploader

    c = config.central
    return Uploader(queue, make_client(config), max_backoff_s=c.max_backoff_s,
                    auth_retry_s=c.auth_retry_s)


def make_worker(config: Config, queue: OfflineQueue, board: StatusBoard,
                on_status: Callable[[SyncStatus], None] | None = None,
                technician: Callable[[], dict] | None = None,
                updates: UpdateReport | None = None,
                commands: CommandExchange | None = None, **options) -> SyncWorker:
    """``technician()`` gives the heartbeat's PIN gate state (``build_heartbeat``);
    ``updates`` adds the update state and takes the good heartbeats (``kiosk.updates``);
    ``commands`` adds the fleet commands' results and takes the answer's commands;
    ``options`` go to ``SyncWorker`` (``start_share``)."""
    from uplink.heartbeat import build_heartbeat
    from uplink.status_board import QUEUE_MOVED_NOTICE
    from uplink.sync_worker import SyncWorker

    uploader = make_uploader(config, queue)
    holder: dict[str, SyncWorker] = {}
    if queue.recovered_from:
        board.add_notice(f"{QUEUE_MOVED_NOTICE} {queue.recovered_from}")

    def heartbeat() -> dict:
        devices, menu_version, rejected = board.snapshot()
        worker = holder.get("worker")
        sync = worker.status.as_dict() if worker is not None else None
        if sync is not None and board.notices():
            sync["notices"] = board.notices()
        payload = build_heartbeat(
            kiosk_id=config.kiosk.id, app_version=__version__, menu_version=menu_version,
            counts=queue.counts(), oldest_pending_s=queue.oldest_pending_age_s(time.time()),
            devices=devices, menu_rejected=rejected, sync=sync,
            queue_notices=queue.notices(),
            technician=technician() if technician is not None else None)
        # Documented extra members: the disk ("full") and the kiosk's clock.
        full = bool(getattr(getattr(queue, "space", None), "disk_full", False))
        payload["disk"] = {"full": full, "state": "disk full" if full else "ok"}
        from contract.clock import shared_clock

        payload["clock"] = shared_clock().status()
        if updates is not None:
            payload = updates.add_to(payload)
        return payload if commands is None else commands.add_results(payload)

    def answered(payload: dict, response) -> None:
        try:
            doc = response.json() if response.body else None
        except ValueError:
            doc = None
        commands.answered(payload, response.status, doc)  # type: ignore[union-attr]

    worker = SyncWorker(uploader, sync_interval_s=config.central.sync_interval_s,
                        heartbeat_s=config.central.heartbeat_s, heartbeat_payload=heartbeat,
                        on_status=on_status,
                        on_heartbeat=None if updates is None else updates.heartbeat_ok,
                        on_answer=None if commands is None else answered, **options)
    holder["worker"] = worker
    return worker


def command_book(config: Config):
    """The fleet commands taken and their unreported results, ``<data_dir>/commands.json``."""
    from uplink.commands import CommandBook

    return CommandBook(config.kiosk.data_dir / "commands.json")


def is_online(status: SyncStatus) -> bool:
    """The home screen's indicator: the last contact with the central platform worked."""
    if status.auth_failed or status.heartbeat_error or status.state == "offline":
        return False
    return status.online or status.last_heartbeat_at is not None


# --- menus --------------------------------------------------------------------------------

def menu_store(config: Config) -> MenuStore:
    """The folder of the last known good menu, ``<data_dir>/menu``."""
    return MenuStore(config.kiosk.data_dir / "menu")


def load_running_menu(config: Config) -> Menu:
    """The menu the kiosk starts with (``uplink.menu_store.load_running_menu``)."""
    return menu_store_mod.load_running_menu(menu_store(config), config.kiosk.menu_file,
                                            config.central.menu_keys)


def make_poller(config: Config, board: MenuBoard, running_version: int,
                on_menu: Callable[[Menu], None] | None = None) -> MenuPoller:
    """The menu poller, with a client of its own that reads answers up to 2 MiB + 1 byte
    (more is a rejection, "over 2 MiB")."""
    from uplink.menu_poller import MAX_MENU_BYTES, MenuPoller, MenuUpdater

    client = make_client(config, max_body_bytes=MAX_MENU_BYTES + 1)
    updater = MenuUpdater(client, menu_store(config), board, config.central.menu_keys,
                          running_version, on_menu)
    return MenuPoller(updater, config.central.menu_poll_s)
