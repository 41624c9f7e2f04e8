"""Signed menus reach a running kiosk window over real HTTP from the reference central on
127.0.0.1: applied at the next return home, never mid-visit; every rejection keeps the
running menu and reaches the central in a heartbeat; restarts start with the stored menu."""

from __future__ import annotations

import copy
import json
import logging
import re
import time

import pytest
from e2e_setup import FAST, visible
from kiosk_helpers import touch, wait_screen

from central.signing import generate_keypair, sign_menu
from contract import resources

KIOSK, TOKEN, KEY_ID = "E2E-MENU-01", "menu-token-2468", "admin-2026"
PRIVATE, PUBLIC = generate_keypair()
DEFAULT_DOC = json.loads(resources.default_menu_path().read_text("utf-8"))
DEFAULT_VERSION = DEFAULT_DOC["version"]


def tr(zh: str, en: str) -> dict:
    return {"zh_CN": zh, "en": en}


def menu_doc(version: int, *, drop: str | None = None, disable: str | None = None) -> dict:
    """The shipped menu at ``version`` with a new category and service (a winter heating
    subsidy), optionally without ``drop`` or with ``disable`` switched off."""
    doc = copy.deepcopy(DEFAULT_DOC)
    doc["version"] = version
    doc["categories"].append({"id": "subsidies", "title": tr("补贴申领", "Subsidies"),
                              "icon": "money"})
    doc["services"].append({
        "id": "winter-subsidy", "category": "subsidies",
        "title": tr("冬季取暖补贴", "Winter heating subsidy"),
        "description": tr("本月新增", "New this month"), "icon": "money", "enabled": True,
        "requires_identity": False, "fields": [],
        "receipt": {"title": tr("取暖补贴回执", "Heating subsidy receipt"),
                    "note": tr("请保管好回执。", "Keep this receipt.")},
    })
    doc["services"] = [s for s in doc["services"] if s["id"] != drop]
    for s in doc["services"]:
        if s["id"] == disable:
            s["enabled"] = False
    return doc


@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN}}, signing_key=PRIVATE, key_id=KEY_ID)


@pytest.fixture
def start(kiosk, central):
    """Opens kiosk windows on the same data folder (a restart is a second call)."""
    return lambda: kiosk(KIOSK, TOKEN, central, **FAST, menu_poll_s=1,
                         menu_keys=f'{KEY_ID} = "{PUBLIC}"')


def beat(central) -> dict:
    return central.store.latest_heartbeat(KIOSK) or {}


def wait_rejection(qtbot, central, reason: str, since: float = 0.0) -> dict:
    """The ``menu_rejected`` of the first heartbeat received after ``since`` whose reason
    starts with ``reason``."""
    found = {}

    def arrived() -> bool:
        for received_at, body in central.store.heartbeats(KIOSK, limit=1):
            rejected = body.get("menu_rejected") or {}
            if received_at > since and str(rejected.get("reason", "")).startswith(reason):
                found.update(rejected)
                return True
        return False

    qtbot.waitUntil(arrived, timeout=8000)
    return found


def wait_poller(qtbot, window):
    qtbot.waitUntil(lambda: window.menu_poller is not None, timeout=20000)  # deferred start
    return window.menu_poller


def menu_answers(caplog, status: int) -> int:
    """How many menu requests the central answered with ``status`` (its request log)."""
    pattern = re.compile(rf'/menu HTTP/1\.1" {status} ')
    return sum(1 for r in caplog.records
               if r.name == "central.handler" and pattern.search(r.getMessage()))


def confirm_visit(qtbot, window) -> str:
    touch(qtbot, window, "btn:confirm")
    qtbot.waitUntil(lambda: bool(window.ctl.session.visit.transaction_id), timeout=5000)
    return window.ctl.session.visit.transaction_id


# --- publish -> shown -----------------------------------------------------------------------


def test_a_published_menu_shows_on_the_running_window_within_one_poll(qtbot, start, central,
                                                                     tmp_path):
    window = start()
    wait_poller(qtbot, window)
    assert not visible(window, "category:subsidies")
    central.publish_menu(menu_doc(2))
    # The home screen is rebuilt while it is shown: no touch needed.
    qtbot.waitUntil(lambda: visible(window, "category:subsidies"), timeout=4000)
    assert window.ctl.session.menu.version == 2
    touch(qtbot, window, "category:subsidies")
    touch(qtbot, window, "tile:winter-subsidy")
    wait_screen(qtbot, window, "confirm")
    tx_id = confirm_visit(qtbot, window)
    qtbot.waitUntil(lambda: central.store.transaction(tx_id) is not None, timeout=8000)
    assert central.store.transaction(tx_id)["menu_version"] == 2
    qtbot.waitUntil(lambda: beat(central).get("menu_version") == 2, timeout=5000)
    assert beat(central)["menu_rejected"] is None
    stored = json.loads((tmp_path / "data" / "menu" / "menu.json").read_text("utf-8"))
    assert stored["bundle"]["menu"]["version"] == 2


# --- every rejection -------------------------------------------------------------------------


def test_every_rejection_keeps_the_running_menu_and_reaches_the_central(qtbot, start, central,
                                                                       tmp_path):
    window = start()
    poller = wait_poller(qtbot, window)
    stored = tmp_path / "data" / "menu" / "menu.json"
    running = window.ctl.session.menu
    assert running.version == DEFAULT_VERSION

    def expect(reason: str, version: int | None) -> None:
        poller.wake()
        rejected = wait_rejection(qtbot, central, reason)
        assert rejected["version"] == version
        assert beat(central)["menu_version"] == window.ctl.session.menu.version
        assert window.ctl.session.menu is running  # the running menu stays, whole
        assert visible(window, "category:employment")
        assert not visible(window, "category:subsidies")

    tampered = sign_menu(menu_doc(2), PRIVATE, KEY_ID)
    tampered["menu"]["services"][0]["title"]["en"] = "Changed after signing"
    central.publish_bundle(tampered)
    expect("bad signature: signature does not verify", 2)

    central.publish_bundle(sign_menu(menu_doc(3), PRIVATE, "admin-1999"))
    expect("unknown key id: key 'admin-1999' is not a trusted key", 3)

    invalid = menu_doc(4)
    invalid["services"][-1]["category"] = "no-such-category"
    central.publish_menu(invalid, validate=False)
    expect("invalid document: $.services", 4)

    central.publish_menu(menu_doc(DEFAULT_VERSION))
    expect("not newer: version 1 is not greater than the running version 1", DEFAULT_VERSION)

    central.faults.next_status(200, body="<html>proxy error</html>", times=1000, endpoint="menu")
    expect("not JSON", None)
    central.faults.clear()

    central.faults.next_status(200, body="", times=1000, endpoint="menu")
    expect("not JSON: the answer is empty", None)
    central.faults.clear()

    huge = menu_doc(5)
    huge["services"][0]["description"]["en"] = "x" * (2 * 1024 * 1024)
    central.publish_bundle(sign_menu(huge, PRIVATE, KEY_ID))
    expect("over 2 MiB", None)
    assert not stored.exists()  # nothing rejected was ever stored

    # A good menu is applied and clears the report...
    central.publish_menu(menu_doc(6))
    poller.wake()
    qtbot.waitUntil(lambda: visible(window, "category:subsidies"), timeout=5000)
    qtbot.waitUntil(lambda: beat(central).get("menu_version") == 6
                    and beat(central).get("menu_rejected") is None, timeout=5000)
    # ... and there is no way back to an older one.
    central.publish_menu(menu_doc(5))
    poller.wake()
    assert wait_rejection(qtbot, central, "not newer: version 5")["version"] == 5
    assert window.ctl.session.menu.version == 6
    assert json.loads(stored.read_text("utf-8"))["bundle"]["menu"]["version"] == 6


def test_a_rejection_is_still_reported_after_a_restart(qtbot, start, central):
    central.publish_bundle(sign_menu(menu_doc(2), PRIVATE, "admin-1999"))
    first = start()
    wait_rejection(qtbot, central, "unknown key id")
    first.close()
    restarted_at = time.time()
    # The central's menu is unreachable now: only the kiosk's memory can report it.
    central.faults.next_status(503, times=1000, endpoint="menu")
    start()
    rejected = wait_rejection(qtbot, central, "unknown key id", since=restarted_at)
    assert rejected["version"] == 2


# --- the 304 path ----------------------------------------------------------------------------


def test_unchanged_menu_is_answered_304_and_nothing_happens(qtbot, start, central, tmp_path,
                                                           caplog):
    caplog.set_level(logging.DEBUG, logger="central.handler")
    central.publish_menu(menu_doc(2))
    window = start()
    poller = wait_poller(qtbot, window)
    qtbot.waitUntil(lambda: window.ctl.session.menu.version == 2, timeout=5000)
    menu = window.ctl.session.menu
    stored = tmp_path / "data" / "menu" / "menu.json"
    stamp = stored.stat().st_mtime_ns
    for _ in range(3):
        poller.wake()
    qtbot.waitUntil(lambda: menu_answers(caplog, 304) >= 2, timeout=5000)
    assert menu_answers(caplog, 200) == 1  # fetched once; then If-None-Match matched
    assert window.ctl.session.menu is menu
    assert stored.stat().st_mtime_ns == stamp
    qtbot.waitUntil(lambda: beat(central).get("menu_version") == 2, timeout=5000)
    assert beat(central)["menu_rejected"] is None


# --- never mid-visit -------------------------------------------------------------------------


@pytest.mark.parametrize("change", ["drop", "disable"])
def test_a_visit_completes_under_the_menu_it_started_with(qtbot, start, central, change):
    window = start()
    poller = wait_poller(qtbot, window)
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    wait_screen(qtbot, window, "confirm")
    central.publish_menu(menu_doc(2, **{change: "job-vacancies"}))
    poller.wake()
    # The new menu has reached the controller (the session holds it for the next visit)...
    qtbot.waitUntil(lambda: window.ctl.session._menu.version == 2, timeout=5000)
    # ... but the resident inside the removed service sees nothing change.
    assert window.ctl.session.menu.version == DEFAULT_VERSION
    wait_screen(qtbot, window, "confirm")
    tx_id = confirm_visit(qtbot, window)
    wait_screen(qtbot, window, "done")
    qtbot.waitUntil(lambda: central.store.transaction(tx_id) is not None, timeout=8000)
    tx = central.store.transaction(tx_id)
    assert (tx["service_id"], tx["menu_version"]) == ("job-vacancies", DEFAULT_VERSION)
    # Back home, the new menu shows.
    touch(qtbot, window, "btn:finish")
    wait_screen(qtbot, window, "home")
    assert window.ctl.session.menu.version == 2
    assert visible(window, "category:subsidies")
    touch(qtbot, window, "category:employment")
    qtbot.waitUntil(lambda: visible(window, "tile:unemployment-registration"), timeout=3000)
    assert not visible(window, "tile:job-vacancies")


# --- restarts -------------------------------------------------------------------------------


def test_a_restart_starts_with_the_stored_menu_without_fetching_it_again(qtbot, start, central,
                                                                        caplog):
    caplog.set_level(logging.DEBUG, logger="central.handler")
    central.publish_menu(menu_doc(2))
    first = start()
    qtbot.waitUntil(lambda: first.ctl.session.menu.version == 2, timeout=5000)
    first.close()
    fetched, unchanged = menu_answers(caplog, 200), menu_answers(caplog, 304)
    second = start()
    assert second.ctl.session.menu.version == 2  # before any poll
    assert visible(second, "category:subsidies")
    wait_poller(qtbot, second)
    qtbot.waitUntil(lambda: menu_answers(caplog, 304) > unchanged, timeout=5000)
    assert menu_answers(caplog, 200) == fetched
    qtbot.waitUntil(lambda: beat(central).get("menu_version") == 2, timeout=5000)


@pytest.mark.parametrize("damage", ["garbage", "tampered"])
def test_a_damaged_stored_menu_falls_back_then_heals(qtbot, start, central, tmp_path, damage,
                                                    caplog):
    folder = tmp_path / "data" / "menu"
    folder.mkdir(parents=True)
    stored = folder / "menu.json"
    if damage == "garbage":
        stored.write_bytes(b'{"format": 1, "bundle": {"menu": {"vers')  # cut mid-write
    else:
        bundle = sign_menu(menu_doc(3), PRIVATE, KEY_ID)
        bundle["menu"]["services"][-1]["title"]["zh_CN"] = "被改过"
        stored.write_text(json.dumps({"format": 1, "etag": None, "schema": "x",
                                      "stored_at": "2026-11-24T09:30:00Z", "bundle": bundle},
                                     ensure_ascii=False), encoding="utf-8")
    central.publish_menu(menu_doc(2))
    with caplog.at_level(logging.ERROR, logger="uplink.menu_store"):
        window = start()
    assert window.ctl.session.menu.version == DEFAULT_VERSION
    assert "stored menu" in caplog.text
    # The next poll fetches the central's menu and replaces the damaged file.
    qtbot.waitUntil(lambda: visible(window, "category:subsidies"), timeout=5000)
    assert json.loads(stored.read_text("utf-8"))["bundle"]["menu"]["version"] == 2
