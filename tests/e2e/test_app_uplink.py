"""The running kiosk window uploads what a resident confirms and sends heartbeats, over real
HTTP to the reference central, with the network dropping and coming back."""

from __future__ import annotations

import pytest
from e2e_setup import FAST, write_kiosk_config
from kiosk_helpers import SIM_VOICE, touch
from PySide6.QtWidgets import QLabel

from kiosk.app import create_window

KIOSK, TOKEN = "E2E-APP-01", "app-token-5678"


@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN}})


@pytest.fixture
def window(kiosk, central):
    return kiosk(KIOSK, TOKEN, central, **FAST)


def visit(qtbot, window) -> str:
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    touch(qtbot, window, "btn:confirm")
    qtbot.waitUntil(lambda: window.ctl.session.visit is not None
                    and bool(window.ctl.session.visit.transaction_id), timeout=5000)
    tx_id = window.ctl.session.visit.transaction_id
    touch(qtbot, window, "btn:finish")
    return tx_id


def test_confirmed_visit_reaches_central_and_heartbeat_reports(qtbot, window, central):
    network = window.findChild(QLabel, "label:network")
    qtbot.waitUntil(lambda: window.ctl.online is True, timeout=10000)
    assert network.isVisible() and "网络正常" in network.text()
    tx_id = visit(qtbot, window)
    qtbot.waitUntil(lambda: central.store.transaction(tx_id) is not None, timeout=10000)
    qtbot.waitUntil(lambda: window.queue.counts()["sent"] == 1, timeout=5000)
    qtbot.waitUntil(lambda: (central.store.latest_heartbeat(KIOSK) or {})
                    .get("queue", {}).get("pending") == 0, timeout=5000)
    beat = central.store.latest_heartbeat(KIOSK)
    assert beat["menu_version"] == window.ctl.session.menu.version
    assert beat["devices"]["printer"]["state"] == "online"
    assert beat["devices"]["card_reader"]["state"] == "online"


def test_network_down_then_back(qtbot, window, central):
    qtbot.waitUntil(lambda: window.ctl.online is True, timeout=10000)
    central.faults.next_status(503, times=1000)  # the platform is down for everyone
    tx_id = visit(qtbot, window)  # the resident notices nothing
    qtbot.waitUntil(lambda: window.ctl.online is False, timeout=10000)
    assert "离线" in window.findChild(QLabel, "label:network").text()
    assert window.queue.counts()["pending"] == 1
    central.faults.clear()
    qtbot.waitUntil(lambda: central.store.transaction(tx_id) is not None, timeout=15000)
    qtbot.waitUntil(lambda: window.ctl.online is True, timeout=10000)


def test_a_corrupt_queue_is_moved_aside_and_reported(qtbot, tmp_path, central):
    data = tmp_path / "data"
    data.mkdir()
    (data / "queue.db").write_bytes(b"this is not a database" * 100)
    cfg = write_kiosk_config(tmp_path, KIOSK, TOKEN, central.url, heartbeat_s=1,
                             tables=SIM_VOICE)
    win = create_window(str(cfg))
    qtbot.addWidget(win)
    win.show()
    try:
        qtbot.waitUntil(lambda: central.store.latest_heartbeat(KIOSK) is not None,
                        timeout=10000)
        notices = central.store.latest_heartbeat(KIOSK)["sync"]["notices"]
        assert "corrupt" in notices[0]
        moved = list(data.glob("queue.db.corrupt-*"))
        assert moved and moved[0].read_bytes().startswith(b"this is not a database")
        assert win.queue.counts() == {"pending": 0, "sent": 0, "rejected": 0}
    finally:
        win.close()
