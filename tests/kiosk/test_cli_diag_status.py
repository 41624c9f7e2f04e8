"""`kiosk diag status` as a technician and a monitoring script run it: a real subprocess,
simulated devices, a real central server on 127.0.0.1, the running app's snapshot file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kiosk.config import load_config_file
from kiosk.technician import status as st
from kiosk.technician.status_text import WIDTH, display_width
from offline_queue import OfflineQueue

ROOT = Path(__file__).resolve().parents[2]
KIOSK, TOKEN = "ZJ-HZ-0001", "token-one-0123456789"


def write_config(tmp_path: Path, devices: str = "", central: str = "") -> Path:
    (tmp_path / "token").write_text(TOKEN)
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\nid = "{KIOSK}"\ndata_dir = "data"\n'
                   f'[central]\ntoken_file = "token"\n{central}\n[devices]\n{devices}\n',
                   encoding="utf-8")
    return cfg


def diag_status(cfg: Path, *extra: str, lang: str = "C.UTF-8") -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": lang}
    env.pop("LC_ALL", None)
    return subprocess.run([sys.executable, "-m", "kiosk", "diag", "status", *extra,
                           "--config", str(cfg)], cwd=cfg.parent, env=env,
                          capture_output=True, text=True, timeout=60)


def as_json(result: subprocess.CompletedProcess) -> dict:
    assert result.stdout.count("\n") == 1, result.stdout
    return json.loads(result.stdout)


def test_sim_devices_all_well_exit_0(tmp_path):
    result = diag_status(write_config(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    status = as_json(result)
    assert status["devices"]["card_reader"]["state"] == "online"
    assert status["devices"]["printer"] == {"uri": "sim:", "state": "online",
                                            "detail": "simulated printer", "since": None,
                                            "paper": "full", "level": "ok"}
    assert status["kiosk"]["id"] == KIOSK and status["kiosk"]["app_running"] is False
    assert status["kiosk"]["config_path"] == str(tmp_path / "kiosk.toml")
    assert status["central"]["url"] == "" and status["queue"]["pending"] == 0
    assert status["menu"]["version"] >= 1
    assert not (tmp_path / "data" / "queue.db").exists()  # reading made no queue


def test_paper_out_is_a_fault_exit_1_with_one_line(tmp_path):
    result = diag_status(write_config(tmp_path, 'printer = "sim:?paper=out"'), "--json")
    assert result.returncode == 1
    status = as_json(result)
    assert status["devices"]["printer"]["level"] == "fault"
    assert status["devices"]["printer"]["paper"] == "out" and status["level"] == "fault"
    assert result.stderr.strip().splitlines() == [
        "kiosk: device fault: printer usererror, paper out (simulated paper out)"]


def test_paper_low_warns_but_exits_0(tmp_path):
    result = diag_status(write_config(tmp_path, 'printer = "sim:?paper=low"'), "--json")
    assert result.returncode == 0
    status = as_json(result)
    assert status["devices"]["printer"]["level"] == "warn" and status["level"] == "warn"


def test_a_reader_that_cannot_be_opened_is_a_fault_not_a_traceback(tmp_path):
    cfg = write_config(tmp_path, 'card_reader = "serial:///dev/ttyKIOSK9?protocol=ga467"\n'
                                 'printer = "nfc://x"')
    result = diag_status(cfg)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert "FAULT" in result.stdout and "ttyKIOSK9" in result.stdout
    assert "nfc://x" in result.stdout
    assert all(display_width(line) <= WIDTH for line in result.stdout.splitlines())


def test_a_bad_config_exits_2(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text("[kiosk]\nidle_timeout_s = 1\n")
    result = diag_status(cfg)
    assert result.returncode == 2 and "idle_timeout_s" in result.stderr
    assert "Traceback" not in result.stderr


def test_queue_counts_are_read_live(tmp_path):
    cfg = write_config(tmp_path)
    config = load_config_file(cfg)
    with OfflineQueue(config.queue_path) as queue:
        queue.enqueue("svc", {"phone": "13812345678"})
        queue.mark_rejected(queue.enqueue("svc", {}), "closed")
    status = as_json(diag_status(cfg, "--json"))
    assert (status["queue"]["pending"], status["queue"]["rejected"]) == (1, 1)
    assert status["queue"]["level"] == "warn"


def test_text_output_in_english_and_chinese(tmp_path):
    cfg = write_config(tmp_path)
    en = diag_status(cfg)
    assert en.returncode == 0
    lines = en.stdout.splitlines()
    assert lines[0].startswith("ok") and any(line.startswith("ok     printer") for line in lines)
    zh = diag_status(cfg, lang="zh_CN.UTF-8")
    assert "打印机" in zh.stdout and "正常" in zh.stdout
    for line in lines + zh.stdout.splitlines():
        assert display_width(line) <= WIDTH


# --- the central platform, live ------------------------------------------------------------

@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN}})


def test_central_reachable_and_token_accepted(tmp_path, central):
    result = diag_status(write_config(tmp_path, central=f'url = "{central.url}"'), "--json")
    assert result.returncode == 0, result.stderr
    c = as_json(result)["central"]
    assert (c["reachable"], c["token_accepted"], c["level"]) == (True, True, "ok")
    assert isinstance(c["latency_ms"], int)


def test_central_refuses_the_token(tmp_path, central):
    cfg = write_config(tmp_path, central=f'url = "{central.url}"')
    (tmp_path / "token").write_text("someone-elses-token-1234")
    result = diag_status(cfg, "--json")
    assert result.returncode == 0  # devices are fine; the central's fault is in the report
    status = as_json(result)
    assert status["central"]["token_accepted"] is False and status["central"]["level"] == "fault"
    assert status["level"] == "fault"
    assert "someone-elses-token-1234" not in result.stdout + result.stderr


def test_central_stopped_is_unreachable(tmp_path, central):
    url = central.url
    central.stop()
    result = diag_status(write_config(tmp_path, central=f'url = "{url}"'))
    assert result.returncode == 0
    assert "unreachable" in result.stdout and "connection refused" in result.stdout
    assert "FAULT  central" in result.stdout


# --- the running app's snapshot ------------------------------------------------------------

def app_snapshot(cfg: Path, written: float) -> dict:
    """What a running app would write: a busy reader since a while, a sync, an uptime."""
    from drivers.base import DeviceState, DeviceStatus, Paper
    from uplink.uploader import SyncStatus

    config = load_config_file(cfg)
    status = st.collect_status(
        config,
        devices={"card_reader": DeviceStatus(DeviceState.BUSY, "reading a card"),
                 "printer": DeviceStatus(DeviceState.ONLINE, "TM-T20", Paper.LOW)},
        device_since={"card_reader": written - 5, "printer": written - 3600},
        sync=SyncStatus(online=True, last_success_at=written - 20,
                        last_heartbeat_at=written - 10),
        queue=None, menu_version=7,
        menu_rejected={"version": 8, "reason": "signature does not verify",
                       "at": "2026-11-24T09:00:00Z"},
        started_at=written - 3 * 3600, central_probe=None, now=written)
    st.write_snapshot(st.snapshot_path(config), status)
    return status


def test_a_fresh_snapshot_gives_the_apps_devices_and_uptime(tmp_path):
    cfg = write_config(tmp_path)
    written = time.time() - 5
    snap = app_snapshot(cfg, written)
    status = as_json(diag_status(cfg, "--json"))
    assert status["kiosk"]["app_running"] is True
    assert status["devices"] == snap["devices"]  # not opened here: the app owns them
    assert status["devices"]["card_reader"]["state"] == "busy"
    assert 3 * 3600 <= status["kiosk"]["uptime_s"] <= 3 * 3600 + 60
    assert status["menu"]["version"] == 7
    assert status["menu"]["last_rejected"]["reason"] == "signature does not verify"
    assert status["central"]["last_sync"] == snap["central"]["last_sync"]


def test_a_stale_snapshot_is_ignored(tmp_path):
    cfg = write_config(tmp_path)
    app_snapshot(cfg, time.time() - 120)
    status = as_json(diag_status(cfg, "--json"))
    assert status["kiosk"]["app_running"] is False
    assert status["devices"]["card_reader"]["state"] == "online"  # opened here, sim
    assert status["kiosk"]["uptime_s"] is None


def test_without_the_app_the_menu_and_its_last_rejection_come_from_disk(tmp_path):
    from kiosk.central_link import menu_store

    cfg = write_config(tmp_path)
    menu_store(load_config_file(cfg)).set_rejection(42, "signature does not verify")
    status = as_json(diag_status(cfg, "--json"))
    assert status["menu"]["last_rejected"]["version"] == 42
    assert status["menu"]["last_rejected"]["reason"] == "signature does not verify"
    assert status["menu"]["level"] == "warn"


def test_a_broken_menu_file_is_reported_not_raised(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "menu.json").write_text("{not json")
    cfg.write_text(cfg.read_text().replace('data_dir = "data"',
                                           'data_dir = "data"\nmenu_file = "menu.json"'))
    result = diag_status(cfg, "--json")
    assert result.returncode == 0, result.stderr
    menu = as_json(result)["menu"]
    assert menu["version"] == 0 and "not valid JSON" in menu["last_rejected"]["reason"]
