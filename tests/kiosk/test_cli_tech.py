"""The command-line twins of the diagnostics screen's actions (`kiosk diag rejected`, `logs`,
`export`, `reprint`, and the audit of `test-print`, `read-card`, `sync --once`), run as a
technician runs them: real subprocesses, real queue, log, reprint and audit files, simulated
devices, the reference central on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from drivers.base import DeviceState, DeviceStatus, Paper
from kiosk.config import load_config_file
from kiosk.receipts.render import ReceiptData
from kiosk.receipts.reprints import ReprintStore
from kiosk.technician import status as st
from kiosk.technician.audit import AuditLog
from kiosk.visit.session import short_reference
from offline_queue import OfflineQueue

ROOT = Path(__file__).resolve().parents[2]
KIOSK, TOKEN = "ZJ-HZ-0001", "token-tech-0123456789"
NAME, ID_NUMBER, PHONE = "张三丰", "330106199001011234", "13812345678"
IDENTITY = {"method": "ga467", "name": NAME, "id_number": ID_NUMBER}
REFUSED = ("kiosk: the kiosk app is running and owns the printer: use Reprint on its "
           "diagnostics screen")


def write_config(tmp_path: Path, devices: str = "", central: str = "") -> Path:
    (tmp_path / "token").write_text(TOKEN)
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\nid = "{KIOSK}"\ndata_dir = "data"\n'
                   f'[central]\ntoken_file = "token"\n{central}\n[devices]\n{devices}\n',
                   encoding="utf-8")
    return cfg


def kiosk(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    env.pop("LC_ALL", None)
    return subprocess.run([sys.executable, "-m", "kiosk", *args, "--config", str(cfg)],
                          cwd=cfg.parent, env=env, capture_output=True, text=True, timeout=60)


def one_json(result: subprocess.CompletedProcess) -> dict:
    assert result.stdout.count("\n") == 1, result.stdout
    return json.loads(result.stdout)


def one_error_line(result: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def audit_entries(tmp_path: Path) -> list[dict]:
    return AuditLog.for_data_dir(tmp_path / "data").recent(100)


def queue_of(cfg: Path) -> OfflineQueue:
    return OfflineQueue(load_config_file(cfg).queue_path)


def plant_rejected(cfg: Path) -> str:
    with queue_of(cfg) as queue:
        tid = queue.enqueue("hpf-withdraw", {"phone": PHONE}, IDENTITY, menu_version=1)
        queue.mark_rejected(tid, f"id_number {ID_NUMBER} does not match the account")
    return tid


# --- rejected ------------------------------------------------------------------------------

def test_rejected_shows_the_reason_and_the_identity_masked(tmp_path):
    cfg = write_config(tmp_path)
    tid = plant_rejected(cfg)
    result = kiosk(cfg, "diag", "rejected", "--json")
    assert result.returncode == 0, result.stderr
    out = one_json(result)
    assert out["count"] == 1 and out["limit"] == 100
    [item] = out["rejected"]
    assert item["id"] == tid and item["reference"] == short_reference(tid)
    assert item["service_id"] == "hpf-withdraw"
    assert item["identity"] == {"method": "ga467", "name": "张**",
                                "id_number": "330106********1234"}
    assert item["reason"] == "id_number 330106********1234 does not match the account"
    text = kiosk(cfg, "diag", "rejected")
    assert text.returncode == 0, text.stderr
    [line] = text.stdout.splitlines()
    assert line.startswith(short_reference(tid)) and "张**" in line
    assert line.endswith("reason: id_number 330106********1234 does not match the account")
    for output in (result.stdout + result.stderr, text.stdout + text.stderr):
        assert NAME not in output and ID_NUMBER not in output and PHONE not in output
    entries = [e for e in audit_entries(tmp_path) if e["event"] == "rejected"]
    assert [(e["outcome"], e["detail"]) for e in entries] == [
        ("ok", {"via": "cli", "count": 1})] * 2


def test_rejected_limit_and_a_missing_queue(tmp_path):
    cfg = write_config(tmp_path)
    none = kiosk(cfg, "diag", "rejected", "--json")
    assert none.returncode == 0 and none.stderr == ""
    assert one_json(none) == {"count": 0, "limit": 100, "rejected": []}
    assert not (tmp_path / "data" / "queue.db").exists()  # reading made no queue
    assert kiosk(cfg, "diag", "rejected").stdout == "no rejected transactions\n"
    plant_rejected(cfg)
    newest = plant_rejected(cfg)
    assert [i["id"] for i in one_json(kiosk(cfg, "diag", "rejected", "--json", "--limit",
                                            "1"))["rejected"]] == [newest]
    bad = kiosk(cfg, "diag", "rejected", "--limit", "0")
    assert bad.returncode == 2 and "at least 1" in bad.stderr and "Traceback" not in bad.stderr


def test_rejected_with_the_queue_key_gone_fails_with_one_line(tmp_path):
    cfg = write_config(tmp_path)
    plant_rejected(cfg)
    (tmp_path / "data" / "queue.key").unlink()
    result = kiosk(cfg, "diag", "rejected", "--json")
    assert result.returncode == 1 and result.stdout == ""
    line = one_error_line(result)
    assert line.startswith("kiosk: the queue ") and "cannot be read" in line
    last = audit_entries(tmp_path)[-1]
    assert (last["event"], last["outcome"], last["detail"]["via"]) == (
        "rejected", "failed", "cli")
    assert not (tmp_path / "data" / "queue.key").exists()  # no new key made over sealed rows


# --- logs ----------------------------------------------------------------------------------

def test_logs_prints_the_last_lines_masked(tmp_path):
    cfg = write_config(tmp_path)
    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True)
    (logs / "kiosk.log.1").write_text("old one\nold two\n", encoding="utf-8")
    (logs / "kiosk.log").write_text(
        f"upload of {ID_NUMBER} failed\nphone {PHONE} typed\nlast line\n", encoding="utf-8")
    result = kiosk(cfg, "diag", "logs", "--lines", "4")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["old two", "upload of 330106********1234 failed",
                                          "phone 138****5678 typed", "last line"]
    as_json = kiosk(cfg, "diag", "logs", "--json")
    out = one_json(as_json)
    assert out["lines"][0] == "old one" and len(out["lines"]) == 5
    assert out["folder"] == str(logs)
    for output in (result.stdout, as_json.stdout):
        assert ID_NUMBER not in output and PHONE not in output
    counts = [e["detail"]["count"] for e in audit_entries(tmp_path) if e["event"] == "logs"]
    assert counts == [4, 5]


def test_logs_without_files_and_with_a_bad_count(tmp_path):
    cfg = write_config(tmp_path)
    result = kiosk(cfg, "diag", "logs")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("no log lines in ")
    bad = kiosk(cfg, "diag", "logs", "--lines", "many")
    assert bad.returncode == 2 and "'many'" in bad.stderr and "Traceback" not in bad.stderr


def test_an_audit_that_cannot_be_written_does_not_fail_the_command(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "diagnostics").write_text("a file where the audit folder goes")
    result = kiosk(cfg, "diag", "logs", "--json")
    assert result.returncode == 0
    assert one_json(result)["lines"] == []
    assert "audit entry logs/ok not written" in one_error_line(result)


# --- export --------------------------------------------------------------------------------

def test_export_writes_a_bundle_without_personal_data(tmp_path):
    cfg = write_config(tmp_path)
    with queue_of(cfg) as queue:  # a visit that is waiting for upload
        queue.enqueue("hpf-withdraw", {"phone": PHONE}, IDENTITY, menu_version=1)
    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True)
    (logs / "kiosk.log").write_text(f"INFO visit of {NAME} ({ID_NUMBER}, {PHONE}) stored\n",
                                    encoding="utf-8")
    AuditLog.for_data_dir(tmp_path / "data").record("entry", "ok")
    result = kiosk(cfg, "diag", "export", "usb", "--json")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    out = one_json(result)
    path = Path(out["path"])
    assert path.parent == tmp_path / "usb" and path.name.startswith(f"kiosk-diag-{KIOSK}-")
    assert path.suffix == ".zip" and path.stat().st_size == out["bytes"]
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        texts = {name: zf.read(name).decode("utf-8") for name in names}
    day = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d")
    assert set(names) == {"README.txt", "status.json", "config.toml", "logs/kiosk.log",
                          f"audit/audit-{day}.jsonl"}
    for name, text in texts.items():
        for value in (NAME, ID_NUMBER, PHONE, TOKEN):
            assert value not in text, (name, value)
    assert "visit of 张** (330106********1234, 138****5678) stored" in texts["logs/kiosk.log"]
    status = json.loads(texts["status.json"])  # collected as `kiosk diag status` does
    assert status["queue"]["pending"] == 1 and status["kiosk"]["app_running"] is False
    assert status["devices"]["printer"]["state"] == "online"
    last = audit_entries(tmp_path)[-1]
    assert (last["event"], last["outcome"]) == ("export", "ok")
    assert last["detail"] == {"via": "cli", "file": path.name, "folder": str(tmp_path / "usb")}
    text = kiosk(cfg, "diag", "export", str(tmp_path / "usb"))
    assert text.returncode == 0 and Path(text.stdout.strip()).parent == tmp_path / "usb"


def test_export_into_a_file_fails_with_one_line(tmp_path):
    cfg = write_config(tmp_path)
    (tmp_path / "not-a-folder").write_text("x")
    result = kiosk(cfg, "diag", "export", "not-a-folder")
    assert result.returncode == 1 and result.stdout == ""
    assert one_error_line(result).startswith("kiosk: the bundle could not be written to ")
    last = audit_entries(tmp_path)[-1]
    assert (last["event"], last["outcome"], last["detail"]["via"]) == (
        "export", "failed", "cli")


# --- reprint -------------------------------------------------------------------------------

def keep_receipt(tmp_path: Path, tid: str = "3f1c7a52-8a7e-4f7e-9a55-0d1f4f3b2c11") -> str:
    ReprintStore(tmp_path / "data" / "reprints").save(ReceiptData(
        title="公积金提取申请回执", service_title="公积金提取", service_point="转塘街道",
        kiosk_id=KIOSK, transaction_id=tid, reference=short_reference(tid),
        created_at=dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC), resident_name="张**",
        id_number="330106********1234", answers=(("手机号码", "138****5678"),),
        note="请凭此回执查询。"))
    return tid


def kept(tmp_path: Path) -> list[str]:
    return ReprintStore(tmp_path / "data" / "reprints").pending()


def test_reprint_prints_a_kept_receipt_and_forgets_it(tmp_path):
    cfg = write_config(tmp_path, 'printer = "sim:"')
    tid = keep_receipt(tmp_path)
    result = kiosk(cfg, "diag", "reprint", "--json")
    assert result.returncode == 0, result.stderr
    out = one_json(result)
    assert (out["total"], out["printed"], out["state"], out["paper"]) == (1, 1, "online", "full")
    assert out["receipts"] == [{"id": tid, "reference": "3F1C-7A52", "printed": True}]
    assert [p.name for p in (tmp_path / "data" / "receipts").glob("*.png")] == [f"{tid}.png"]
    assert kept(tmp_path) == []
    last = audit_entries(tmp_path)[-1]
    assert (last["event"], last["outcome"], last["detail"]) == (
        "reprint", "ok", {"via": "cli", "printed": 1, "total": 1})
    again = kiosk(cfg, "diag", "reprint")
    assert again.returncode == 0
    assert again.stdout == "no receipts are waiting for a reprint\n"
    assert audit_entries(tmp_path)[-1]["outcome"] == "none"


def test_reprint_out_of_paper_keeps_the_receipt_and_exits_1(tmp_path):
    cfg = write_config(tmp_path, 'printer = "sim:?paper=out"')
    tid = keep_receipt(tmp_path)
    result = kiosk(cfg, "diag", "reprint")
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "3F1C-7A52  not reprinted: sim:?paper=out: simulated fault: usererror, paper out, "
        "simulated paper out", "reprinted 0 of 1 on sim:?paper=out"]
    assert one_error_line(result).startswith("kiosk: 1 of 1 receipts were not reprinted: ")
    assert kept(tmp_path) == [tid]
    assert not list((tmp_path / "data" / "receipts").glob("*.png"))
    last = audit_entries(tmp_path)[-1]
    assert (last["event"], last["outcome"], last["detail"]) == (
        "reprint", "failed", {"via": "cli", "printed": 0, "total": 1})


def test_reprint_of_an_unreadable_record_fails_and_the_rest_still_print(tmp_path):
    cfg = write_config(tmp_path, 'printer = "sim:"')
    broken = tmp_path / "data" / "reprints" / "0badcafe-0000.json"
    broken.parent.mkdir(parents=True)
    broken.write_text("{not json")
    tid = keep_receipt(tmp_path)
    os.utime(broken, (time.time() - 60, time.time() - 60))  # oldest first
    result = kiosk(cfg, "diag", "reprint", "--json")
    assert result.returncode == 1
    out = one_json(result)
    assert [(r["id"], r["printed"]) for r in out["receipts"]] == [("0badcafe-0000", False),
                                                                  (tid, True)]
    assert "unreadable" in out["receipts"][0]["error"]
    assert kept(tmp_path) == []  # the broken one is given up, the good one printed
    assert "Traceback" not in result.stderr and "1 of 2 receipts" in result.stderr


def app_snapshot(cfg: Path, written: float) -> None:
    """The status.json a running app writes every 30 s."""
    config = load_config_file(cfg)
    status = st.collect_status(
        config, devices={"card_reader": DeviceStatus(DeviceState.ONLINE, "sim"),
                         "printer": DeviceStatus(DeviceState.ONLINE, "sim", Paper.FULL)},
        device_since={}, sync=None, queue=None, menu_version=1, menu_rejected=None,
        started_at=written - 600, central_probe=None, now=written)
    st.write_snapshot(st.snapshot_path(config), status)


def test_reprint_is_refused_while_the_app_runs(tmp_path):
    cfg = write_config(tmp_path, 'printer = "sim:"')
    tid = keep_receipt(tmp_path)
    app_snapshot(cfg, time.time() - 5)
    result = kiosk(cfg, "diag", "reprint", "--json")
    assert result.returncode == 1 and result.stdout == ""
    assert one_error_line(result) == REFUSED
    assert kept(tmp_path) == [tid]
    assert not (tmp_path / "data" / "receipts").exists()
    last = audit_entries(tmp_path)[-1]
    assert (last["event"], last["outcome"], last["detail"]["via"]) == (
        "reprint", "refused", "cli")
    app_snapshot(cfg, time.time() - st.SNAPSHOT_MAX_AGE_S - 30)  # the app stopped long ago
    stale = kiosk(cfg, "diag", "reprint")
    assert stale.returncode == 0, stale.stderr
    assert kept(tmp_path) == []


# --- the audit of the existing commands ----------------------------------------------------

def test_test_print_and_read_card_are_audited(tmp_path):
    cfg = write_config(tmp_path, 'card_reader = "sim:?card=0"\nprinter = "sim:?paper=out"')
    assert kiosk(cfg, "diag", "read-card", "--json").returncode == 0
    assert kiosk(cfg, "diag", "test-print").returncode == 1
    cfg = write_config(tmp_path, 'card_reader = "sim:"\nprinter = "sim:"')
    assert kiosk(cfg, "diag", "read-card", "--timeout", "0.2").returncode == 1
    assert kiosk(cfg, "diag", "test-print").returncode == 0
    got = [(e["event"], e["outcome"], e["detail"]) for e in audit_entries(tmp_path)]
    assert got[0] == ("test-read", "ok", {"via": "cli", "method": "sim"})
    assert got[1][:2] == ("test-print", "failed")
    assert got[1][2]["paper"] == "out" and "paper out" in got[1][2]["error"]
    assert got[2] == ("test-read", "failed",
                      {"via": "cli", "error": "no card was read within 0.2 s"})
    assert got[3] == ("test-print", "ok", {"via": "cli", "state": "online", "paper": "full",
                                           "error": None})
    audit_text = "".join(p.read_text("utf-8") for p in
                         (tmp_path / "data" / "diagnostics" / "audit").iterdir())
    assert "张建国" not in audit_text and "330106195503120016" not in audit_text


@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN}})


def test_sync_once_is_audited(tmp_path, central):
    offline = write_config(tmp_path)
    with queue_of(offline) as queue:
        queue.enqueue("hpf-withdraw", {"phone": PHONE}, IDENTITY, menu_version=1)
    assert kiosk(offline, "sync", "--once").returncode == 1  # no central.url: still pending
    cfg = write_config(tmp_path, central=f'url = "{central.url}"')
    result = kiosk(cfg, "sync", "--once")
    assert result.returncode == 0, result.stderr
    entries = [e for e in audit_entries(tmp_path) if e["event"] == "sync-now"]
    assert [(e["outcome"], e["detail"]["via"]) for e in entries] == [
        ("offline-only", "cli"), ("ok", "cli")]
    assert entries[0]["detail"]["pending"] == 1
    detail = entries[1]["detail"]
    assert (detail["pending"], detail["sent"] + detail["duplicate"] + detail["rejected"]) == (0, 1)
    with queue_of(cfg) as queue:
        queue.enqueue("hpf-withdraw", {"phone": PHONE}, IDENTITY, menu_version=1)
    central.stop()
    failed = kiosk(cfg, "sync", "--once")
    assert failed.returncode == 1
    last = audit_entries(tmp_path)[-1]
    assert (last["event"], last["outcome"], last["detail"]["state"]) == (
        "sync-now", "failed", "offline")
    assert last["detail"]["pending"] == 1 and last["detail"]["error"]
