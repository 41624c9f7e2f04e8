"""`kiosk diag clear-notices`: what a corrupt queue file lost is reported (diag status, the
heartbeat's queue.unreadable, the fleet page) until a technician clears it. Run as a technician
runs it: a real subprocess on a real data folder, the reference central on 127.0.0.1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from central.fleet import fleet_report
from kiosk.central_link import make_worker
from kiosk.config import load_config_file
from kiosk.technician.audit import AuditLog
from offline_queue import OfflineQueue
from uplink.status_board import StatusBoard

ROOT = Path(__file__).resolve().parents[2]
KIOSK, TOKEN = "ZJ-HZ-0042", "token-notices-0123456789"


def write_config(tmp_path: Path, central: str = "") -> Path:
    (tmp_path / "token").write_text(TOKEN)
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\nid = "{KIOSK}"\ndata_dir = "data"\n'
                   f'[central]\ntoken_file = "token"\n{central}\n'
                   '[devices]\ncard_reader = "sim:"\nprinter = "sim:"\n', encoding="utf-8")
    return cfg


def kiosk(cfg: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "LANG": "C.UTF-8"}
    env.pop("LC_ALL", None)
    return subprocess.run([sys.executable, "-m", "kiosk", *args, "--config", str(cfg)],
                          cwd=cfg.parent, env=env, capture_output=True, text=True, timeout=60)


def corrupt_queue(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir(mode=0o700, exist_ok=True)  # the audit log may have made it
    (data / "queue.db").write_bytes(b"not a database" * 500)  # e.g. a bad SD card
    return data


def clear_entries(tmp_path: Path) -> list[dict]:
    return [e for e in AuditLog.for_data_dir(tmp_path / "data").recent(100)
            if e["event"] == "clear-notices"]


def test_clear_notices_ends_the_report_in_status_heartbeat_and_fleet_page(tmp_path,
                                                                         start_central):
    central = start_central({KIOSK: {"token": TOKEN}})
    cfg = write_config(tmp_path, f'url = "{central.url}"\nheartbeat_s = 3600\n'
                                 'sync_interval_s = 3600')
    data = corrupt_queue(tmp_path)
    config = load_config_file(cfg)
    board = StatusBoard()
    # The running kiosk: its queue found the file corrupt, moved it aside, kept a notice.
    with OfflineQueue(config.queue_path, key_file=config.kiosk.queue_key_file) as queue:
        moved = Path(queue.recovered_from)
        assert moved.exists() and queue.notices()
        worker = make_worker(config, queue, board)
        assert worker.prepare()

        def heartbeat() -> dict:
            worker.sync_now()
            worker.run_round()
            assert worker.status.heartbeat_error is None
            return central.store.latest_heartbeat(KIOSK)

        (notice,) = heartbeat()["queue"]["unreadable"]
        assert notice["file"] == moved.name and notice["unreadable"] is None
        (row,) = fleet_report(central, time.time())["kiosks"]
        assert any("queue was corrupt" in p["text"] for p in row["problems"])

        status = json.loads(kiosk(cfg, "diag", "status", "--json").stdout)
        assert status["queue"]["level"] == "warn"
        assert [n["file"] for n in status["queue"]["unreadable"]] == [moved.name]
        text = " ".join(kiosk(cfg, "diag", "status").stdout.split())  # lines wrap at 80
        assert f"WARN queue {moved.name}: an unknown number unreadable" in text

        # The technician clears it from the command line while the kiosk runs.
        result = kiosk(cfg, "diag", "clear-notices", "--json")
        assert result.returncode == 0, result.stderr
        cleared = json.loads(result.stdout)
        assert cleared["cleared"] == 1
        assert [n["file"] for n in cleared["notices"]] == [moved.name]
        assert not moved.exists()  # the moved file, with sealed personal data, is gone

        beat = heartbeat()
        assert "unreadable" not in beat["queue"]
        (row,) = fleet_report(central, time.time())["kiosks"]
        assert not any("queue was corrupt" in p["text"] for p in row["problems"])
        worker.finish()

    (entry,) = clear_entries(tmp_path)
    assert entry["outcome"] == "ok" and entry["detail"]["via"] == "cli"
    assert entry["technician"].startswith("cli:")
    assert entry["detail"]["files"] == [moved.name] and entry["detail"]["cleared"] == 1
    assert sorted(p.name for p in data.iterdir() if p.name.startswith("queue.db")) == [
        "queue.db"]


def test_clear_notices_with_nothing_to_clear(tmp_path):
    cfg = write_config(tmp_path)
    result = kiosk(cfg, "diag", "clear-notices")  # no queue yet: nothing was ever stored
    assert (result.returncode, result.stdout) == (0, "no queue notices to clear\n")
    corrupt_queue(tmp_path)
    first = kiosk(cfg, "diag", "clear-notices")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("cleared: queue.db.corrupt-")
    assert "an unknown number unreadable, 0 salvaged" in first.stdout
    again = kiosk(cfg, "diag", "clear-notices")
    assert again.stdout == "no queue notices to clear\n"
    assert [e["outcome"] for e in clear_entries(tmp_path)] == ["none", "ok", "none"]
