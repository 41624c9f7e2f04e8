"""The diagnostics screen on simulated devices: the overview, every action, and leaving
without a trace. Sync runs against a real reference central on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from diag_helpers import (
    audit_entries,
    audit_text,
    close_window,
    diag_toml,
    enter,
    make_window,
    pin_hash,
    sync_worker,
)
from kiosk_helpers import current_screen, find, touch, wait_find, wait_screen
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel

from drivers.base import DeviceState, DeviceStatus, Paper
from kiosk.receipts.render import ReceiptData
from offline_queue import OfflineQueue

ROOT = Path(__file__).resolve().parents[2]
RESIDENT = {"method": "ga467", "name": "张建国", "id_number": "330106195503120016"}


@pytest.fixture
def window(qtbot, tmp_path):
    win = make_window(qtbot, diag_toml(tmp_path))
    enter(qtbot, win)
    yield win
    close_window(win)


def tile(window, section):
    return window.router.current.tiles[section]


def wait_tiles(qtbot, window):
    qtbot.waitUntil(lambda: window.router.current.status is not None, timeout=5000)


def feedback(window) -> str:
    return find(window, "label:diag-feedback", QLabel).text()


def run(qtbot, window, button: str, expect: str, timeout: int = 8000) -> str:
    """Touch an action; wait until the feedback is final (neither "running" nor a hint)."""
    touch(qtbot, window, button)
    qtbot.waitUntil(lambda: window.router.current.feedback.property("level")
                    in ("ok", "warn", "fault"), timeout=timeout)
    text = feedback(window)
    assert expect in text, text
    return text


def all_text(widget) -> str:
    return "\n".join(w.text() for w in widget.findChildren(QLabel))


# -- the overview -----------------------------------------------------------------------------

def test_overview_of_a_healthy_kiosk(qtbot, window):
    wait_tiles(qtbot, window)
    screen = window.router.current
    assert screen.objectName() == "screen:diagnostics"
    for section in ("card_reader", "printer", "queue", "menu", "disk", "kiosk", "central"):
        assert tile(window, section).level == "ok", section
        assert find(window, f"diag:{section}:level", QLabel).text() == "正常"
    assert "online" in tile(window, "printer").detail()
    assert "纸张 full" in tile(window, "printer").detail()
    assert "自 " in tile(window, "card_reader").detail()  # since when
    assert "待上传 0 · 已上传 0 · 被拒 0" in tile(window, "queue").detail()
    assert f"当前版本 {window.ctl.session.menu.version}" in tile(window, "menu").detail()
    assert "可用" in tile(window, "disk").detail()
    kiosk = tile(window, "kiosk").detail()
    assert "DIAG-0001" in kiosk and str(window.config.source) in kiosk
    assert "只离线运行" in tile(window, "central").detail()


def test_overview_shows_a_printer_out_of_paper_in_red(qtbot, tmp_path):
    win = make_window(qtbot, diag_toml(tmp_path, printer="sim:?paper=out"))
    try:
        enter(qtbot, win)
        wait_tiles(qtbot, win)
        assert tile(win, "printer").level == "fault"
        assert find(win, "diag:printer:level", QLabel).text() == "故障"
        assert "usererror · 纸张 out" in tile(win, "printer").detail()
        assert tile(win, "card_reader").level == "ok"
    finally:
        close_window(win)


def test_overview_refreshes_while_shown(qtbot, window):
    wait_tiles(qtbot, window)
    window.ctl.on_device_status("card_reader", DeviceStatus(DeviceState.HWERROR, "SAM fault"))
    qtbot.waitUntil(lambda: tile(window, "card_reader").level == "fault", timeout=6000)
    assert "hwerror" in tile(window, "card_reader").detail()
    assert "SAM fault" in tile(window, "card_reader").detail()


def test_status_snapshot_is_written_for_the_cli(qtbot, window):
    path = window.config.kiosk.data_dir / "status.json"
    qtbot.waitUntil(path.exists, timeout=5000)
    snapshot = json.loads(path.read_text("utf-8"))
    assert snapshot["kiosk"]["id"] == "DIAG-0001"
    assert snapshot["devices"]["printer"]["state"] == "online"
    from kiosk.technician.status import read_snapshot

    assert read_snapshot(path) is not None


def test_english_labels(qtbot, window):
    wait_tiles(qtbot, window)
    touch(qtbot, window, "btn:lang")
    assert find(window, "btn:diag-test-print", QAbstractButton).text() == "Test print"
    assert find(window, "diag:printer:level", QLabel).text() == "OK"
    assert current_screen(window) == "screen:diagnostics"


# -- actions ----------------------------------------------------------------------------------

def test_test_print_prints_on_the_apps_printer(qtbot, window):
    text = run(qtbot, window, "btn:diag-test-print", "测试页已打印")
    assert "打印机 online，纸张 full" in text
    name, path = window.printer.printed[-1]
    assert name.startswith("TEST-") and path.is_file()
    entry = [e for e in audit_entries(window) if e["event"] == "test-print"][-1]
    assert entry["outcome"] == "ok" and entry["detail"]["paper"] == "full"


def test_test_print_with_paper_out_shows_the_fault(qtbot, tmp_path):
    win = make_window(qtbot, diag_toml(tmp_path, printer="sim:?paper=out"))
    try:
        enter(qtbot, win)
        text = run(qtbot, win, "btn:diag-test-print", "没有打印出来")
        assert text.startswith("✗ 测试打印") and "纸张 out" in text and "usererror" in text
        assert win.router.current.feedback.property("level") == "fault"
        assert not win.printer.printed
        entry = [e for e in audit_entries(win) if e["event"] == "test-print"][-1]
        assert entry["outcome"] == "failed" and entry["detail"]["paper"] == "out"
    finally:
        close_window(win)


def test_test_read_shows_the_card_masked_and_starts_no_visit(qtbot, window):
    touch(qtbot, window, "btn:diag-test-read")
    assert "秒内把卡放到读卡器上" in feedback(window)
    assert not find(window, "btn:diag-test-read").isEnabled()
    window.reader_thread.reader.present_sample(0)  # what the demo's key 1 does
    qtbot.waitUntil(lambda: "读到" in feedback(window), timeout=5000)
    text = feedback(window)
    assert "张**" in text and "330106********0016" in text
    assert "张建国" not in text and "330106195503120016" not in text
    assert window.ctl.session.visit is None and window.ctl.card_listener is None
    assert current_screen(window) == "screen:diagnostics"
    assert "张建国" not in audit_text(window) and "330106195503120016" not in audit_text(window)
    assert ("test-read", "ok") in [(e["event"], e["outcome"]) for e in audit_entries(window)]


def test_test_read_of_an_unreadable_card_and_the_time_out(qtbot, window):
    touch(qtbot, window, "btn:diag-test-read")
    window.reader_thread.reader.present_unreadable("checksum error")
    qtbot.waitUntil(lambda: "读不出来" in feedback(window), timeout=5000)
    assert "checksum error" in feedback(window)
    window.router.current.actions.read_timeout_s = 0.3
    run(qtbot, window, "btn:diag-test-read", "0.3 秒内没有读到卡")
    assert "读卡器 online" in feedback(window)
    outcomes = [e["outcome"] for e in audit_entries(window) if e["event"] == "test-read"]
    assert outcomes == ["unreadable", "timeout"]


def test_sync_now_on_an_offline_only_kiosk_says_so(qtbot, window):
    run(qtbot, window, "btn:diag-sync", "只离线运行")
    assert ("sync-now", "offline-only") in [(e["event"], e["outcome"])
                                            for e in audit_entries(window)]


def test_sync_now_uploads_a_held_back_transaction(qtbot, tmp_path, start_central):
    central = start_central({"DIAG-0001": {"token": "t0k3n-diag"}})
    (tmp_path / "token").write_text("t0k3n-diag")
    config = diag_toml(tmp_path, central=f'[central]\nurl = "{central.url}"\n'
                                          'token_file = "token"\nmax_backoff_s = 300\n')
    # Before the kiosk starts: a transaction held back by an earlier failed attempt.
    data = tmp_path / "data"
    data.mkdir()
    with OfflineQueue(data / "queue.db") as q:
        tx = q.enqueue("job-vacancies", {}, None, 1)
        q.mark_failed([tx], "network down", time.time() + 3600)
    win = make_window(qtbot, config)
    try:
        sync_worker(qtbot, win)
        qtbot.waitUntil(lambda: win.sync_status is not None, timeout=10000)
        assert central.store.transaction(tx) is None  # held back: not sent by itself
        enter(qtbot, win)
        text = run(qtbot, win, "btn:diag-sync", "待上传 0 · 已上传 1", timeout=15000)
        assert "立即上传" in text
        assert central.store.transaction(tx) is not None
        entry = [e for e in audit_entries(win) if e["event"] == "sync-now"][-1]
        assert entry["outcome"] == "ok" and entry["detail"]["sent"] == 1
        qtbot.waitUntil(lambda: tile(win, "central").level == "ok", timeout=25000)
        assert "令牌有效" in tile(win, "central").detail()
    finally:
        close_window(win)


def test_sync_now_after_the_token_is_fixed_does_not_wait_out_the_auth_hold(qtbot, tmp_path,
                                                                          start_central):
    central = start_central({"DIAG-0001": {"token": "right"}})
    (tmp_path / "token").write_text("wrong")
    config = diag_toml(tmp_path, central=f'[central]\nurl = "{central.url}"\n'
                                          'token_file = "token"\nauth_retry_s = 3600\n')
    win = make_window(qtbot, config)
    try:
        tx = win.queue.enqueue("job-vacancies", {}, None, 1)
        sync_worker(qtbot, win).wake()  # made after the first frame: wait for it
        qtbot.waitUntil(lambda: win.sync_status is not None and win.sync_status.auth_failed,
                        timeout=10000)
        enter(qtbot, win)
        qtbot.waitUntil(lambda: tile(win, "central").level == "fault", timeout=25000)
        (tmp_path / "token").write_text("right")  # the technician fixes the token
        run(qtbot, win, "btn:diag-sync", "待上传 0 · 已上传 1", timeout=15000)
        assert central.store.transaction(tx) is not None
    finally:
        close_window(win)


def test_reprint_of_a_receipt_that_failed_to_print(qtbot, window):
    ctl, printer = window.ctl, window.printer
    printer.fault = DeviceStatus(DeviceState.USERERROR, "paper out", Paper.OUT)
    data = ReceiptData(title="回执", service_title="招聘岗位查询", service_point="测试",
                       kiosk_id="DIAG-0001", transaction_id="0f1e2d3c-0000-4000-8000-000000000001",
                       reference="0F1E-2D3C", created_at=dt.datetime.now(dt.UTC),
                       resident_name="张**", id_number="330106********0016", answers=(),
                       note="")
    errors = []
    ctl.print_receipt(data, errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors[0] and ctl.reprints.pending() == [data.transaction_id]
    run(qtbot, window, "btn:diag-reprint", "补打成功 0 张，共 1 张")  # paper still out
    assert ctl.reprints.pending() == [data.transaction_id]
    printer.fault = None  # the technician put paper in
    touch(qtbot, window, "btn:diag-close")
    text = run(qtbot, window, "btn:diag-reprint", "补打成功 1 张，共 1 张")
    assert text.startswith("✓ 补打回执")
    assert ctl.reprints.pending() == []
    assert printer.printed[-1][0] == data.transaction_id
    assert "0F1E-2D3C：已补打" in window.router.current.panel.lines()
    outcomes = [e["outcome"] for e in audit_entries(window) if e["event"] == "reprint"]
    assert outcomes == ["failed", "ok"]


def test_reprint_with_nothing_waiting(qtbot, window):
    run(qtbot, window, "btn:diag-reprint", "没有待补打的回执")


def test_rejected_transactions_are_listed_masked(qtbot, window):
    queue = window.queue
    tx = queue.enqueue("hpf-withdraw", {"phone": "13912345678"}, RESIDENT, 1)
    queue.mark_rejected(tx, "id_number 330106195503120016 not found")
    run(qtbot, window, "btn:diag-rejected", "共 1 条")
    panel = window.router.current.panel
    wait_find(qtbot, window, "diag:panel")
    (line,) = panel.lines()
    assert "张**" in line and "330106********0016" in line and "hpf-withdraw" in line
    assert "not found" in line
    shown = all_text(window)
    for secret in ("张建国", "330106195503120016", "13912345678"):
        assert secret not in shown
    touch(qtbot, window, "btn:diag-close")
    assert panel.lines() == [] and window.router.current.views.currentIndex() == 0


def test_recent_log_lines_are_masked_and_scroll(qtbot, window):
    logs = window.config.kiosk.data_dir / "logs"
    logs.mkdir(parents=True)
    lines = [f"2026-01-01 10:00:{i:02d} INFO kiosk: line {i}" for i in range(60)]
    lines.append("2026-01-01 10:01:00 WARNING kiosk: card 330106195503120016 phone 13912345678")
    (logs / "kiosk.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run(qtbot, window, "btn:diag-logs", "最近 61 行")
    panel = window.router.current.panel
    shown = panel.lines()
    assert shown[0].endswith("line 0") and "330106********0016" in shown[-1]
    assert "139****5678" in shown[-1]
    assert "330106195503120016" not in all_text(window) and "13912345678" not in all_text(window)
    bar = panel.scroll.verticalScrollBar()
    assert bar.maximum() > 0
    touch(qtbot, window, "btn:diag-page-down")
    assert bar.value() > 0
    touch(qtbot, window, "btn:diag-page-up")
    assert bar.value() == 0


def test_export_writes_a_zip_into_the_picked_folder(qtbot, window, tmp_path):
    stick = tmp_path / "media" / "USB-STICK"
    stick.mkdir(parents=True)
    # A planted visit: the resident's name, ID and phone in the queue, and a log line that
    # carries the name in full (a slip no pattern can catch; the queue's names are known).
    window.queue.enqueue("hpf-withdraw", {"phone": "13912345678"}, RESIDENT, 1)
    logs = window.config.kiosk.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with open(logs / "kiosk.log", "a", encoding="utf-8") as f:
        f.write(f"2026-01-01 10:00:00 INFO kiosk: visit of {RESIDENT['name']} ended\n")
    actions = window.router.current.actions
    actions.usb_globs, actions.mounted_only = (str(tmp_path / "media" / "*"),), False
    wait_tiles(qtbot, window)
    run(qtbot, window, "btn:diag-export", "请选择保存诊断包的U盘")
    folder = wait_find(qtbot, window, "btn:diag-folder:0", QAbstractButton)
    assert folder.text() == str(stick) and folder.height() >= 90
    assert find(window, "btn:diag-folder:1").text().endswith("exports")  # always offered
    touch(qtbot, window, "btn:diag-folder:0")
    qtbot.waitUntil(lambda: "已保存" in feedback(window), timeout=10000)
    (written,) = stick.glob("*.zip")
    assert written.name in feedback(window)
    with zipfile.ZipFile(written) as zf:
        names = zf.namelist()
        status = json.loads(zf.read("status.json"))
        everything = b"".join(zf.read(n) for n in names).decode("utf-8")
    assert "config.toml" in names and any(n.startswith("audit/") for n in names)
    assert status["kiosk"]["id"] == "DIAG-0001"
    assert pin_hash() not in everything
    for secret in (RESIDENT["name"], RESIDENT["id_number"], "13912345678"):
        assert secret not in everything
    assert "张**" in everything  # the slipped name, masked
    entry = [e for e in audit_entries(window) if e["event"] == "export"][-1]
    assert entry["outcome"] == "ok" and entry["detail"]["file"] == written.name


def test_export_to_a_folder_that_cannot_be_written_says_why(qtbot, window, tmp_path):
    stick = tmp_path / "media" / "RO"
    stick.mkdir(parents=True)
    actions = window.router.current.actions
    actions.usb_globs, actions.mounted_only = (str(tmp_path / "media" / "*"),), False
    run(qtbot, window, "btn:diag-export", "请选择")
    wait_find(qtbot, window, "btn:diag-folder:0")
    stick.rmdir()
    (tmp_path / "media" / "RO").write_text("the stick was pulled; a file is in its place")
    touch(qtbot, window, "btn:diag-folder:0")
    qtbot.waitUntil(lambda: window.router.current.feedback.property("level") == "fault",
                    timeout=10000)
    assert feedback(window).startswith("✗ 导出诊断包")
    assert "could not be written" in feedback(window)
    assert [e["outcome"] for e in audit_entries(window) if e["event"] == "export"] == ["failed"]


def test_leave_wipes_the_technicians_views(qtbot, window):
    window.queue.mark_rejected(window.queue.enqueue("hpf-withdraw", {}, RESIDENT, 1), "no")
    run(qtbot, window, "btn:diag-rejected", "共 1 条")
    screen = window.router.current
    touch(qtbot, window, "btn:diag-leave")
    wait_screen(qtbot, window, "home")
    assert not window.tech.active and window.ctl.card_listener is None
    assert all_text(screen).strip() == ""  # tiles, feedback and panel are empty
    assert screen.panel.lines() == [] and screen.status is None
    assert not window.tech.pad_open
    assert window.findChild(QLabel, "label:title").text() == window.ctl.tr("app.name")
    assert ("leave", "ok") in [(e["event"], e["outcome"]) for e in audit_entries(window)]
    touch(qtbot, window, "category:housing-fund")  # residents carry on as before
    wait_screen(qtbot, window, "services")


def test_leaving_while_a_card_read_waits_gives_the_reader_back(qtbot, window):
    touch(qtbot, window, "btn:diag-test-read")
    touch(qtbot, window, "btn:diag-leave")
    wait_screen(qtbot, window, "home")
    assert window.ctl.card_listener is None
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-withdraw")
    wait_screen(qtbot, window, "identify")
    window.reader_thread.reader.present_sample(0)  # the resident's card goes to the visit again
    wait_screen(qtbot, window, "form")


# -- restart ----------------------------------------------------------------------------------

RESTART_SCRIPT = textwrap.dedent("""\
    import sys
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QPushButton
    from kiosk.cli.commands import main

    app = QApplication(sys.argv[:1])

    def press_restart():
        window = next(w for w in app.topLevelWidgets() if w.objectName() == "kiosk")
        window.tech.enter()  # the PIN was right (the entry tests go through the pad)
        button = window.findChild(QPushButton, "btn:diag-restart")
        QTimer.singleShot(300, button.click)

    QTimer.singleShot(1500, press_restart)
    QTimer.singleShot(20000, lambda: app.exit(99))  # never hang the test
    sys.exit(main(["run", "--config", sys.argv[1]]))
    """)


def test_restart_ends_kiosk_run_with_exit_code_75(tmp_path):
    config = diag_toml(tmp_path)  # kiosk mode, locked down, as systemd runs it
    text = config.read_text("utf-8").replace('locale = "zh_CN"',
                                            'locale = "zh_CN"\nhide_cursor = false')
    text = text.replace("[devices]\n", "[devices]\nallow_simulated = true\n")
    config.write_text(text, encoding="utf-8")
    script = tmp_path / "restart.py"
    script.write_text(RESTART_SCRIPT, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, str(script), str(config)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 75, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    audit = "".join(p.read_text("utf-8") for p in
                    (tmp_path / "data" / "diagnostics" / "audit").glob("*.jsonl"))
    events = [json.loads(line)["event"] for line in audit.splitlines()]
    assert events[-2:] == ["entry", "restart"]


def test_every_touch_target_is_large_enough(qtbot, window):
    for size in ((1920, 1080), (1280, 800), (1080, 1920)):
        window.resize(*size)
        QApplication.processEvents()
        for button in window.router.current.findChildren(QAbstractButton):
            if button.isVisible():
                assert button.height() >= 90, (size, button.objectName(), button.height())


def test_closing_the_window_in_diagnostics_stops_its_refresh_and_wipes_it(qtbot, tmp_path):
    win = make_window(qtbot, diag_toml(tmp_path))
    enter(qtbot, win)
    screen = win.router.current
    wait_tiles(qtbot, win)
    run(qtbot, win, "btn:diag-logs", "最近")
    close_window(win)  # e.g. SIGTERM while a technician is at the kiosk
    assert not screen._timer.isActive()
    assert all(not t.detail() for t in screen.tiles.values())
    assert not screen.feedback.text()
    qtbot.wait(3000)  # past one refresh period: nothing is submitted to the closed executors
