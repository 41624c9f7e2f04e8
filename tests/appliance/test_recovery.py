"""Crash and hang recovery with the real ``kiosk run`` process under a real notify socket.

Without systemd as PID 1 this tests what the app controls: READY and the pings, the exit
code of a crash (Restart=always starts the kiosk again: appliance/kiosk.service, checked by
systemd-analyze), the pings stopping when the event loop hangs (WatchdogSec then kills and
restarts it), and the out-of-service screen after too many quick failures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from notify_listener import NotifyListener

from kiosk.shell.supervision import CRASH_EXIT_CODE
from offline_queue import OfflineQueue

ROOT = Path(__file__).resolve().parents[2]
FAULTY = Path(__file__).with_name("faulty_kiosk.py")
PERIOD_USEC = 200_000  # a ping every 100 ms


@pytest.fixture
def listener(tmp_path):
    nl = NotifyListener(tmp_path)
    yield nl
    nl.close()


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\nhide_cursor = false\n'
                   'service_point = "东山村便民服务点"\nservice_phone = "0571-8888 1234"\n'
                   '[devices]\nallow_simulated = true\n', encoding="utf-8")
    return cfg


def _start(tmp_path: Path, listener: NotifyListener) -> subprocess.Popen:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT),
           **listener.env(watchdog_usec=PERIOD_USEC)}
    cmd = [sys.executable, str(FAULTY), str(tmp_path / "fault"), "--",
           "run", "--config", str(_config(tmp_path))]
    return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _inject(tmp_path: Path, fault: str) -> None:
    (tmp_path / "fault").write_text(fault)


def _ledger(tmp_path: Path) -> list:
    path = tmp_path / "data" / "starts.json"
    return json.loads(path.read_text()) if path.exists() else []


def test_ready_pings_and_a_clean_stop(tmp_path, listener):
    proc = _start(tmp_path, listener)
    try:
        ready = listener.wait_for(lambda m: "READY" in m, timeout=60)
        assert ready["STATUS"].startswith("home; window ")
        listener.wait_for_pings(5)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    listener.wait_for(lambda m: "STOPPING" in m)
    assert _ledger(tmp_path) == []  # a clean stop is not a failure


def test_uncaught_exception_exits_for_a_restart_with_the_queue_intact(tmp_path, listener):
    proc = _start(tmp_path, listener)
    try:
        listener.wait_for(lambda m: "READY" in m, timeout=60)
        with OfflineQueue(tmp_path / "data" / "queue.db") as q:
            q.enqueue("svc", {"a": "1"})
        _inject(tmp_path, "exception")
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == CRASH_EXIT_CODE, err
    assert "RuntimeError: injected fault" in err
    assert len(_ledger(tmp_path)) == 1  # counted as a failed start
    with OfflineQueue(tmp_path / "data" / "queue.db") as q:
        assert q.recovered_from is None and q.counts()["pending"] == 1


def test_segfault_ends_the_process(tmp_path, listener):
    proc = _start(tmp_path, listener)
    try:
        listener.wait_for(lambda m: "READY" in m, timeout=60)
        _inject(tmp_path, "segfault")
        proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == -signal.SIGSEGV  # Restart=always: systemd starts it again
    assert listener.count("STOPPING") == 0


def test_a_hung_event_loop_stops_the_pings(tmp_path, listener):
    proc = _start(tmp_path, listener)
    try:
        listener.wait_for(lambda m: "READY" in m, timeout=60)
        listener.wait_for_pings(3)
        _inject(tmp_path, "hang")
        listener.wait_for_silence(quiet_s=2.0, timeout=30)  # 20 periods: systemd would kill
        assert proc.poll() is None  # alive but silent: only the watchdog can tell
    finally:
        proc.kill()
        proc.communicate(timeout=30)


def test_after_quick_failures_the_kiosk_starts_out_of_service(tmp_path, listener):
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    now = time.time()
    (data / "starts.json").write_text(json.dumps([now - 90, now - 60, now - 30]))
    proc = _start(tmp_path, listener)
    try:
        ready = listener.wait_for(lambda m: "READY" in m, timeout=60)
        assert ready["STATUS"].startswith("out of service; window ")
        listener.wait_for_pings(3)  # still alive for systemd
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert not (data / "queue.db").exists()  # no devices, no queue, no visits
    assert _ledger(tmp_path) == []  # stopped on purpose: the next start tries again
