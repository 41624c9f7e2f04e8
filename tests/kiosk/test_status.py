"""The diagnostics overview: levels, the live central probe against a real server, the
snapshot file, the text lines, rejected transactions and the status board."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.base import DeviceState, DeviceStatus, Paper
from kiosk.config import demo_config, parse_config
from kiosk.technician import status as st
from kiosk.technician.rejections import personal_values, rejected_transactions
from kiosk.technician.status_text import WIDTH, display_width
from offline_queue import OfflineQueue
from offline_queue.record import UNREADABLE
from uplink.status_board import StatusBoard
from uplink.uploader import SyncStatus

NOW = 1_800_000_000.0
KIOSK, TOKEN = "ZJ-HZ-0001", "token-one-0123456789"
ONLINE_READER = DeviceStatus(DeviceState.ONLINE, "simulated card reader")
ONLINE_PRINTER = DeviceStatus(DeviceState.ONLINE, "simulated printer", Paper.FULL)


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


IDENTITY = {"method": "ga467", "name": "张三丰", "id_number": "330106199001011234"}


def config_for(tmp_path: Path, url: str = "", token: str | None = TOKEN, **devices: str):
    token_file = tmp_path / "token"
    if token is not None:
        token_file.write_text(token + "\n")
    data = {"kiosk": {"id": KIOSK, "data_dir": str(tmp_path / "data")},
            "central": {"url": url, "token_file": str(token_file)},
            "devices": {"card_reader": "sim:", "printer": "sim:", **devices}}
    return parse_config(data, tmp_path / "kiosk.toml")


def collect(config, queue=None, **overrides):
    kwargs = {"devices": {"card_reader": ONLINE_READER, "printer": ONLINE_PRINTER},
              "device_since": {"card_reader": NOW - 60, "printer": NOW - 120}, "sync": None,
              "queue": queue, "menu_version": 3, "menu_rejected": None, "started_at": NOW - 7200,
              "central_probe": None, "now": NOW}
    kwargs.update(overrides)
    return st.collect_status(config, **kwargs)


@pytest.fixture
def queue(tmp_path):
    with OfflineQueue(tmp_path / "queue.db", clock=lambda: NOW - 10) as q:
        yield q


def test_all_well_is_ok_with_every_section(tmp_path, queue):
    status = collect(config_for(tmp_path), queue)
    assert status["level"] == "ok"
    assert status["time"] == "2027-01-15T08:00:00Z"
    assert status["kiosk"] == {"id": KIOSK, "app_version": status["kiosk"]["app_version"],
                               "config_path": str(tmp_path / "kiosk.toml"),
                               "data_dir": str(tmp_path / "data"), "uptime_s": 7200,
                               "timezone": "Asia/Shanghai",
                               "clock": status["kiosk"]["clock"],
                               "notices": [], "level": "ok"}
    assert status["devices"]["card_reader"] == {
        "uri": "sim:", "state": "online", "detail": "simulated card reader",
        "since": "2027-01-15T07:59:00Z", "level": "ok"}
    assert status["devices"]["printer"]["paper"] == "full"
    assert status["central"]["url"] == "" and status["central"]["level"] == "ok"
    assert status["queue"] == {"pending": 0, "sent": 0, "rejected": 0,
                               "oldest_pending_s": None, "level": "ok"}
    assert status["menu"] == {"version": 3, "last_rejected": None, "level": "ok"}
    assert status["disk"]["free_bytes"] > 0 and status["disk"]["level"] in ("ok", "warn")
    json.dumps(status)  # JSON-ready


@pytest.mark.parametrize("state, level", [
    (DeviceState.ONLINE, "ok"), (DeviceState.BUSY, "warn"), (DeviceState.OFFLINE, "fault"),
    (DeviceState.HWERROR, "fault"), (DeviceState.NODEVICE, "fault"),
    (DeviceState.USERERROR, "fault")])
def test_device_state_levels(tmp_path, state, level):
    status = collect(config_for(tmp_path), devices={
        "card_reader": DeviceStatus(state, "x"), "printer": ONLINE_PRINTER})
    assert status["devices"]["card_reader"]["level"] == level
    assert st.device_faults(status) == (["card_reader"] if level == "fault" else [])


@pytest.mark.parametrize("paper, level", [
    (Paper.FULL, "ok"), (Paper.LOW, "warn"), (Paper.UNKNOWN, "warn"), (None, "warn"),
    (Paper.OUT, "fault"), (Paper.JAMMED, "fault")])
def test_paper_levels(tmp_path, paper, level):
    printer = DeviceStatus(DeviceState.ONLINE, "p", paper)
    status = collect(config_for(tmp_path), devices={"card_reader": ONLINE_READER,
                                                    "printer": printer})
    assert status["devices"]["printer"]["level"] == level
    assert status["devices"]["printer"]["paper"] == str(paper or Paper.UNKNOWN)


def test_a_device_without_any_status_yet_is_a_fault(tmp_path):
    status = collect(config_for(tmp_path), devices={}, device_since={})
    assert status["devices"]["card_reader"]["state"] == "offline"
    assert status["devices"]["card_reader"]["since"] is None
    assert sorted(st.device_faults(status)) == ["card_reader", "printer"]


def test_queue_levels_old_pending_and_rejected(tmp_path):
    clock = Clock(NOW - 2 * 3600)
    with OfflineQueue(tmp_path / "q.db", clock=clock) as q:
        old = q.enqueue("svc", {"amount": 1})
        clock.t = NOW - 10
        status = collect(config_for(tmp_path), q)
        assert status["queue"]["pending"] == 1 and status["queue"]["oldest_pending_s"] == 7200
        assert status["queue"]["level"] == "warn"
        assert collect(config_for(tmp_path), q, now=NOW + 2 * 86400)["queue"]["level"] == "fault"
        q.mark_sent([old])
        assert collect(config_for(tmp_path), q)["queue"]["level"] == "ok"
        q.mark_rejected(q.enqueue("svc", {}), "bad")
        status = collect(config_for(tmp_path), q)
        assert (status["queue"]["rejected"], status["queue"]["pending"]) == (1, 0)
        assert status["queue"]["level"] == "warn"


def test_queue_not_open_and_closed_queue(tmp_path):
    assert collect(config_for(tmp_path), None)["queue"]["level"] == "warn"
    q = OfflineQueue(tmp_path / "q.db")
    q.close()
    status = collect(config_for(tmp_path), q)
    assert status["queue"]["level"] == "fault" and "closed" in status["queue"]["error"]


def test_menu_rejection_and_notices_warn(tmp_path):
    status = collect(config_for(tmp_path), menu_rejected={
        "version": 4, "reason": "signature does not verify", "at": "2027-01-15T07:00:00Z"},
        notices=["queue database was corrupt at start"])
    assert status["menu"]["level"] == "warn" and status["kiosk"]["level"] == "warn"
    assert status["level"] == "warn"


def test_disk_levels(tmp_path, monkeypatch):
    import shutil

    for free, level in ((10 << 30, "ok"), (400 << 20, "warn"), (50 << 20, "fault")):
        monkeypatch.setattr(shutil, "disk_usage",
                            lambda p, free=free: shutil._ntuple_diskusage(20 << 30, 0, free))
        assert collect(config_for(tmp_path))["disk"]["level"] == level


def test_central_judged_from_the_sync_status_without_a_probe(tmp_path):
    config = config_for(tmp_path, url="http://127.0.0.1:9")
    assert collect(config)["central"]["level"] == "warn"  # nothing known yet
    good = SyncStatus(online=True, last_success_at=NOW - 30, last_attempt_at=NOW - 30,
                      last_heartbeat_at=NOW - 20)
    central = collect(config, sync=good)["central"]
    assert (central["reachable"], central["token_accepted"], central["level"]) == (
        True, True, "ok")
    assert central["last_sync"] == "2027-01-15T07:59:30Z"
    assert central["last_heartbeat"] == "2027-01-15T07:59:40Z"
    refused = SyncStatus(auth_failed=True, last_attempt_at=NOW - 5, last_error="HTTP 401")
    central = collect(config, sync=refused)["central"]
    assert central["token_accepted"] is False and central["level"] == "fault"
    assert central["last_error"] == "HTTP 401"


# --- the live probe against a real central server ----------------------------------------

@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN}})


def test_probe_reachable_and_token_accepted(tmp_path, central):
    config = config_for(tmp_path, url=central.url)
    probe = st.probe_central(config, timeout_s=5)
    assert probe["reachable"] is True and probe["token_accepted"] is True
    assert probe["error"] is None and probe["latency_ms"] >= 0
    assert collect(config, central_probe=probe)["central"]["level"] == "ok"


def test_probe_token_refused(tmp_path, central):
    config = config_for(tmp_path, url=central.url, token="not-the-token-0000")
    probe = st.probe_central(config, timeout_s=5)
    assert (probe["reachable"], probe["token_accepted"]) == (True, False)
    assert "401" in probe["error"]
    assert collect(config, central_probe=probe)["central"]["level"] == "fault"


def test_probe_without_a_token_file(tmp_path, central):
    config = config_for(tmp_path, url=central.url, token=None)
    probe = st.probe_central(config, timeout_s=5)
    assert probe["token_accepted"] is False and "does not exist" in probe["error"]


def test_probe_with_the_central_stopped(tmp_path, central):
    url = central.url
    central.stop()
    config = config_for(tmp_path, url=url)
    probe = st.probe_central(config, timeout_s=5)
    assert probe["reachable"] is False and probe["error"] == "connection refused"
    status = collect(config, central_probe=probe)
    assert status["central"]["level"] == "fault" and status["level"] == "fault"
    assert st.device_faults(status) == []  # only devices decide the CLI's exit code


def test_probe_offline_only_asks_nothing(tmp_path):
    probe = st.probe_central(config_for(tmp_path, url=""))
    assert probe == {"reachable": None, "latency_ms": None, "token_accepted": None,
                     "error": None}


# --- the snapshot ----------------------------------------------------------------------------

def test_snapshot_round_trip_and_freshness(tmp_path):
    status = collect(config_for(tmp_path), notices=["n"], menu_rejected={"version": 9,
                                                                         "reason": "r"})
    path = tmp_path / "data" / "status.json"
    st.write_snapshot(path, status)
    assert st.read_snapshot(path, 90, now=NOW + 60) == status
    assert st.read_snapshot(path, 90, now=NOW + 91) is None
    assert st.read_snapshot(path, 90, now=NOW - 91) is None  # from the future: not trusted
    inputs = st.snapshot_inputs(st.read_snapshot(path, 90, now=NOW))
    again = st.collect_status(config_for(tmp_path), queue=None, central_probe=None, now=NOW,
                              **inputs)
    for key in ("devices", "menu"):
        assert again[key] == status[key]
    assert again["kiosk"]["uptime_s"] == 7200 and again["kiosk"]["notices"] == ["n"]


@pytest.mark.parametrize("content", ["", "{", "[]", '{"time": "x"}',
                                     '{"time": "2027-01-15T08:00:00Z", "devices": {}}'])
def test_a_damaged_snapshot_is_ignored(tmp_path, content):
    path = tmp_path / "status.json"
    path.write_text(content)
    assert st.read_snapshot(path, 90, now=NOW) is None
    assert st.read_snapshot(tmp_path / "missing.json", 90, now=NOW) is None


# --- text --------------------------------------------------------------------------------

@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_status_lines_fit_80_columns(tmp_path, locale):
    long_detail = "cannot open: /dev/serial/by-id/usb-Prolific_Technology_Inc._USB-Serial " * 2
    status = collect(config_for(tmp_path, url="https://svc.example.gov.cn"), devices={
        "card_reader": DeviceStatus(DeviceState.NODEVICE, long_detail),
        "printer": DeviceStatus(DeviceState.USERERROR, "paper out", Paper.OUT)},
        central_probe={"reachable": False, "latency_ms": None, "token_accepted": None,
                       "error": "connection refused"},
        menu_rejected={"version": 4, "reason": "签名无法验证 signature does not verify"})
    lines = st.status_lines(status, locale)
    assert all(display_width(line) <= WIDTH for line in lines), lines
    text = "\n".join(lines)
    assert "nodevice" in text and "connection refused" in text and "Prolific" in text
    tag = {"en": "FAULT", "zh_CN": "故障"}[locale]
    assert lines[0].startswith(tag)


def test_status_lines_of_a_demo_config():
    status = st.collect_status(demo_config(), devices={}, device_since={}, sync=None,
                               queue=None, menu_version=1, menu_rejected=None, started_at=None,
                               central_probe=None)
    text = "\n".join(st.status_lines(status))
    assert "built-in demo configuration" in text and "offline-only" in text


# --- rejected transactions, masked -----------------------------------------------------------

def test_rejected_transactions_are_masked_newest_first(queue):
    first = queue.enqueue("hpf-withdraw", {"phone": "13812345678"}, IDENTITY)
    second = queue.enqueue("card-service", {}, {"method": "pcsc-uid", "card_uid": "04a1b2"})
    queue.enqueue("still-pending", {})
    queue.mark_rejected(first, "id number 330106199001011234 is blocked")
    queue.mark_rejected(second, "unknown card")
    rows = rejected_transactions(queue, 10)
    assert [r["id"] for r in rows] == [second, first]
    assert rows[1]["identity"] == {"method": "ga467", "name": "张**",
                                   "id_number": "330106********1234"}
    assert rows[1]["reason"] == "id number 330106********1234 is blocked"
    assert rows[1]["reference"] == first.replace("-", "").upper()[:4] + "-" + \
        first.replace("-", "").upper()[4:8]
    assert rows[0]["identity"] == {"method": "pcsc-uid", "card_uid": "04A1B2"}
    assert "13812345678" not in json.dumps(rows, ensure_ascii=False)
    assert "张三丰" not in json.dumps(rows, ensure_ascii=False)
    assert len(rejected_transactions(queue, 1)) == 1


def test_a_rejection_reason_naming_the_resident_is_masked(queue):
    tx = queue.enqueue("hpf-withdraw", {}, IDENTITY)
    queue.mark_rejected(tx, "张三丰 is not insured in this county")
    (row,) = rejected_transactions(queue, 10)
    assert row["reason"] == "张** is not insured in this county"


def test_rejected_with_undecryptable_data_still_listed(tmp_path):
    path = tmp_path / "q.db"
    with OfflineQueue(path) as q:
        tx = q.enqueue("svc", {}, IDENTITY)
        q.mark_rejected(tx, "no such service")
    (tmp_path / "queue.key").write_bytes(bytes(32))  # another key: the row cannot be opened
    with OfflineQueue(path) as q:
        rows = rejected_transactions(q)
    # The reason is sealed too (issue #12: it can name the resident), so it cannot be read
    # either; the row is still listed, and says why it is unreadable.
    assert [(r["id"], r["identity"], r["reason"]) for r in rows] == [(tx, None, UNREADABLE)]


def test_personal_values_of_the_queue(queue):
    queue.enqueue("svc", {}, IDENTITY)
    assert personal_values(queue) == {"张三丰": "张**",
                                      "330106199001011234": "330106********1234"}


# --- the status board --------------------------------------------------------------------

def test_status_board_tracks_since_when_state_or_paper_changes():
    clock = Clock(100.0)
    board = StatusBoard(5, clock=clock)
    assert board.started_at == 100.0 and board.device_since("printer") is None
    board.set_device("printer", ONLINE_PRINTER)
    clock.t = 200.0
    board.set_device("printer", DeviceStatus(DeviceState.ONLINE, "other detail", Paper.FULL))
    assert board.device_since("printer") == 100.0  # detail only: same state
    clock.t = 300.0
    board.set_device("printer", DeviceStatus(DeviceState.ONLINE, "low", Paper.LOW))
    assert board.devices_since() == {"printer": 300.0}
    status = SyncStatus(online=True)
    board.set_sync(status)
    assert board.sync() is status
    board.set_menu(6, {"version": 7, "reason": "r"})
    assert board.snapshot()[1:] == (6, {"version": 7, "reason": "r"})
    assert board.menu_rejected() == {"version": 7, "reason": "r"}


def test_board_inputs_feed_collect_status(tmp_path):
    clock = Clock(NOW - 600)
    board = StatusBoard(4, clock=clock)
    clock.t = NOW - 60
    board.set_device("card_reader", ONLINE_READER)
    board.set_device("printer", DeviceStatus(DeviceState.ONLINE, "p", Paper.LOW))
    board.set_sync(SyncStatus(online=True, last_success_at=NOW - 5))
    board.add_notice("queue database was corrupt at start")
    status = st.collect_status(config_for(tmp_path), queue=None, central_probe=None, now=NOW,
                               **st.board_inputs(board))
    assert status["kiosk"]["uptime_s"] == 600 and status["menu"]["version"] == 4
    assert status["devices"]["printer"]["since"] == "2027-01-15T07:59:00Z"
    assert status["devices"]["printer"]["level"] == "warn"
    assert status["central"]["last_sync"] == "2027-01-15T07:59:55Z"
    assert status["kiosk"]["notices"] == ["queue database was corrupt at start"]
