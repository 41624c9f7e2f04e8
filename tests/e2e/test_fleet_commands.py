"""Commands from the fleet over real HTTP: an admin asks the running kiosk window (offscreen)
for a screenshot, a restart, a diagnostics bundle; the kiosk runs each id once and reports."""

from __future__ import annotations

import sqlite3

import pytest
import requests
from e2e_setup import FAST
from kiosk_helpers import touch, wait_screen

from kiosk.shell.technician_mode import RESTART_EXIT_CODE

KIOSK, TOKEN = "E2E-CMD-01", "cmd-token-5678"
ADMIN = "fleet-admin-token-0123456789"


@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN, "group": "village"}},
                         admins={"ops": {"token": ADMIN}})


def kiosk_window(qtbot, kiosk, central):
    win = kiosk(KIOSK, TOKEN, central, **{**FAST, "heartbeat_s": 3})
    qtbot.waitUntil(lambda: win.ctl.online is True and win.fleet is not None, timeout=10000)
    return win


@pytest.fixture
def window(qtbot, kiosk, central):
    return kiosk_window(qtbot, kiosk, central)


def send(central, kind: str) -> str:
    r = requests.post(f"{central.url}/api/v1/admin/commands", json={"type": kind,
                      "kiosk": KIOSK}, headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
    assert r.status_code == 201, r.text
    return r.json()["commands"][0]["id"]


def status(central, command_id: str) -> str:
    return central.store.command(command_id)["status"]


def test_a_screenshot_arrives_within_two_heartbeats(qtbot, window, central):
    before = len(central.store.heartbeats(KIOSK, limit=1000))
    command_id = send(central, "screenshot")
    qtbot.waitUntil(lambda: status(central, command_id) == "done", timeout=15000)
    beats = len(central.store.heartbeats(KIOSK, limit=1000)) - before
    assert beats <= 2  # one carried the command, the next the result
    record, png = central.store.upload(command_id)
    assert png.startswith(b"\x89PNG") and record["kiosk_id"] == KIOSK
    picture = requests.get(f"{central.url}/api/v1/admin/commands/{command_id}/upload",
                           auth=("ops", ADMIN), timeout=10)  # what the fleet page's browser does
    assert picture.status_code == 200 and picture.content == png
    assert "bytes uploaded" in central.store.command(command_id)["detail"]


def test_a_screenshot_is_refused_while_a_visit_is_on_screen(qtbot, window, central):
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    command_id = send(central, "screenshot")
    qtbot.waitUntil(lambda: status(central, command_id) == "refused", timeout=15000)
    assert central.store.command(command_id)["detail"] == "visit on screen"
    assert central.store.upload(command_id) is None


def test_a_restart_waits_for_the_visit_to_end(qtbot, window, central):
    codes: list[int] = []
    window.fleet.exit = codes.append
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    command_id = send(central, "restart")
    qtbot.waitUntil(lambda: window.fleet.restart_waiting, timeout=15000)
    assert codes == []  # a resident is on screen: it waits
    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "done")
    assert codes == []
    touch(qtbot, window, "btn:finish")
    qtbot.waitUntil(lambda: codes == [RESTART_EXIT_CODE], timeout=5000)
    qtbot.waitUntil(lambda: status(central, command_id) == "done", timeout=10000)


def test_a_command_is_not_run_twice_after_a_restart(qtbot, tmp_path, kiosk, central):
    first = kiosk_window(qtbot, kiosk, central)
    command_id = send(central, "screenshot")
    qtbot.waitUntil(lambda: status(central, command_id) == "done", timeout=15000)
    uploaded = central.store.upload_info(command_id)["received_at"]
    first.close()
    # The central sends it again (as if the kiosk's report had been lost)...
    with sqlite3.connect(tmp_path / "central.db") as db:
        db.execute("UPDATE commands SET status = 'sent', detail = NULL WHERE id = ?",
                   (command_id,))
    again = kiosk_window(qtbot, kiosk, central)  # the kiosk after its restart
    runs: list[str] = []
    again.fleet.finished.connect(lambda cid, *_: runs.append(cid))
    qtbot.waitUntil(lambda: status(central, command_id) == "done", timeout=15000)
    assert runs == []  # ...and it reports the result it has, without running it again
    assert central.store.upload_info(command_id)["received_at"] == uploaded


def test_diagnostics_bundle_and_unknown_answers(qtbot, window, central):
    bundle = send(central, "upload_diagnostics")
    update = send(central, "check_update")
    qtbot.waitUntil(lambda: status(central, bundle) == "done", timeout=20000)
    record, data = central.store.upload(bundle)
    assert record["content_type"] == "application/zip" and data.startswith(b"PK")
    qtbot.waitUntil(lambda: status(central, update) == "refused", timeout=10000)
    assert central.store.command(update)["detail"].startswith("unsupported")
