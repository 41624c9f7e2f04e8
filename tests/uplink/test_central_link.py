"""``kiosk.central_link`` turns a kiosk config into uplink objects: what the heartbeat says
of the kiosk comes from the kiosk (its id, its version), the rest from the board and queue."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sync_server import KIOSK_ID, TOKEN, SyncServer

from drivers.base import DeviceState, DeviceStatus
from kiosk import __version__
from kiosk.central_link import make_worker, menu_store
from kiosk.config import Config, load_config_file
from offline_queue import OfflineQueue
from uplink.status_board import StatusBoard


@pytest.fixture
def config(tmp_path: Path, server: SyncServer) -> Config:
    (tmp_path / "token").write_text(TOKEN)
    path = tmp_path / "kiosk.toml"
    path.write_text(f'[kiosk]\nid = "{KIOSK_ID}"\ndata_dir = "data"\n'
                    f'[central]\nurl = "{server.url}"\ntoken_file = "token"\n'
                    "heartbeat_s = 3600\nsync_interval_s = 3600\n", encoding="utf-8")
    return load_config_file(path)


def test_the_worker_heartbeat_carries_the_kiosk_id_and_version(config, server) -> None:
    board = StatusBoard(menu_version=7)
    board.set_device("card_reader", DeviceStatus(DeviceState.ONLINE, "sim"))
    rounds = threading.Semaphore(0)
    with OfflineQueue(config.kiosk.data_dir / "queue.db") as queue:
        queue.enqueue("hpf-withdraw", {"phone": "13800000000"})
        worker = make_worker(config, queue, board, on_status=lambda status: rounds.release(),
                             start_share=lambda: 0.0)
        worker.start()
        try:
            assert rounds.acquire(timeout=5)  # the first round uploads and sends a heartbeat
        finally:
            assert worker.stop(5)
    (beat,) = server.heartbeats
    assert beat["kiosk_id"] == KIOSK_ID and beat["app_version"] == __version__
    assert beat["menu_version"] == 7
    assert beat["devices"]["card_reader"] == {"state": "online", "detail": "sim"}
    assert beat["queue"]["pending"] == 0  # uploaded in the same round, before the heartbeat


def test_the_menu_store_is_the_menu_folder_of_the_data_dir(config) -> None:
    assert menu_store(config).folder == config.kiosk.data_dir / "menu"
