"""`kiosk run` in kiosk mode stops cleanly on SIGTERM (how systemd stops it)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from offline_queue import OfflineQueue

ROOT = Path(__file__).resolve().parents[2]


def test_sigterm_stops_the_locked_kiosk(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\nhide_cursor = false\n'
                   '[devices]\nallow_simulated = true\n[voice]\nengine = "sim"\n', encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(cfg)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    queue_db = tmp_path / "data" / "queue.db"
    deadline = time.monotonic() + 30
    while not queue_db.exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.1)
    time.sleep(1.0)  # let the event loop start
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    with OfflineQueue(queue_db) as q:  # closed cleanly: opens without recovery
        assert q.recovered_from is None


def test_kiosk_run_logs_to_a_masked_rotating_file(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\nhide_cursor = false\n'
                   '[devices]\nallow_simulated = true\n[voice]\nengine = "sim"\n', encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "run", "--config", str(cfg)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    log_file = tmp_path / "data" / "logs" / "kiosk.log"
    deadline = time.monotonic() + 30
    while not (log_file.exists() and "printer" in log_file.read_text("utf-8")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)
    assert "printer: online" in log_file.read_text("utf-8")
