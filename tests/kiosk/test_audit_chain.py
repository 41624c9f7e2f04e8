"""The audit log's hash chain: tampering, deletion and reordering are found, and where;
pruning old days leaves a chain that still checks; `kiosk diag audit-verify` says so."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.technician.audit import AuditLog

DAY = 86400.0
T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC).timestamp()
REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def filled(folder: Path, clock: Clock, days: int = 3, per_day: int = 4) -> AuditLog:
    audit = AuditLog(folder, clock=clock)
    for d in range(days):
        for i in range(per_day):
            audit.record("test-print", "ok", technician=f"tech-{i % 2}", n=d * 10 + i)
            clock.t += 60
        clock.t += DAY
    return audit


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_an_untouched_log_is_intact_and_entries_name_the_technician(tmp_path):
    audit = filled(tmp_path, Clock())
    verdict = audit.verify()
    assert verdict.intact and verdict.entries == 12 and verdict.files == 3
    entries = audit.recent(12)
    assert {e["technician"] for e in entries} == {"tech-0", "tech-1"}
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False))


def test_a_tampered_line_is_found_where_it_is(tmp_path):
    audit = filled(tmp_path, Clock())
    path = audit.files()[1]
    lines = lines_of(path)
    lines[2] = lines[2].replace(b'"ok"', b'"failed"')
    path.write_bytes(b"".join(lines))
    verdict = audit.verify()
    assert not verdict.intact
    assert verdict.broken_at["file"] == str(path) and verdict.broken_at["line"] == 3
    assert "altered" in verdict.broken_at["problem"]


def test_a_tampered_line_with_its_hash_recomputed_breaks_the_next_link(tmp_path):
    from kiosk.technician.audit_chain import entry_hash

    audit = filled(tmp_path, Clock())
    path = audit.files()[0]
    lines = lines_of(path)
    entry = json.loads(lines[1])
    entry["technician"] = "someone-else"
    entry["hash"] = entry_hash(entry)
    lines[1] = (json.dumps(entry, ensure_ascii=False) + "\n").encode()
    path.write_bytes(b"".join(lines))
    verdict = audit.verify()
    assert not verdict.intact and verdict.broken_at["line"] == 3
    assert verdict.broken_at["file"] == str(path)


@pytest.mark.parametrize("index", [0, 1, 3])
def test_a_deleted_line_is_found(tmp_path, index):
    audit = filled(tmp_path, Clock())
    path = audit.files()[1]
    lines = lines_of(path)
    del lines[index]
    path.write_bytes(b"".join(lines))
    verdict = audit.verify()
    assert not verdict.intact
    if index < 3:
        assert verdict.broken_at == {**verdict.broken_at, "file": str(path), "line": index + 1}
    else:  # the day's last line: the next day's first entry no longer follows
        assert verdict.broken_at["file"] == str(audit.files()[2])
        assert verdict.broken_at["line"] == 1


def test_reordered_lines_are_found(tmp_path):
    audit = filled(tmp_path, Clock())
    path = audit.files()[2]
    lines = lines_of(path)
    lines[1], lines[2] = lines[2], lines[1]
    path.write_bytes(b"".join(lines))
    verdict = audit.verify()
    assert not verdict.intact
    assert verdict.broken_at["file"] == str(path) and verdict.broken_at["line"] == 2


def test_a_day_file_deleted_before_its_time_is_found(tmp_path):
    audit = filled(tmp_path, Clock())
    audit.files()[1].unlink()
    verdict = audit.verify()
    assert not verdict.intact and verdict.broken_at["line"] == 1


def test_the_oldest_day_file_deleted_before_its_time_is_found(tmp_path):
    audit = filled(tmp_path, Clock())
    audit.files()[0].unlink()
    verdict = audit.verify()
    assert not verdict.intact and "not old enough" in verdict.broken_at["problem"]


def test_the_chain_survives_pruning(tmp_path):
    clock = Clock()
    audit = filled(tmp_path, clock, days=3)
    clock.t = T0 + 91 * DAY  # the first day is past 90 days now; the next entry prunes it
    audit.record("entry", "ok", technician="tech-0")
    assert len(audit.files()) == 3
    verdict = AuditLog(tmp_path, clock=clock).verify()
    assert verdict.intact, verdict.broken_at
    assert verdict.entries == 9


def test_a_torn_line_is_noted_and_the_chain_goes_on(tmp_path):
    clock = Clock()
    audit = filled(tmp_path, clock, days=1)
    path = audit.files()[0]
    with path.open("ab") as f:
        f.write(b'{"time": "2026-11-24T09:3')  # a power cut mid-write
    clock.t -= DAY
    audit.record("entry", "ok", technician="tech-1")
    verdict = audit.verify()
    assert verdict.intact and verdict.entries == 5
    assert verdict.torn == [{"file": path.name, "line": 5}]


def test_two_writers_keep_one_chain(tmp_path):
    clock = Clock()
    app, cli = AuditLog(tmp_path, clock=clock), AuditLog(tmp_path, clock=clock)
    for i in range(6):
        (app if i % 2 else cli).record("logs", "ok", n=i)
    assert app.verify().intact


def run_verify(config: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "kiosk", "diag", "audit-verify", "--config",
                           str(config), *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_audit_verify_intact_then_broken(tmp_path):
    config = tmp_path / "kiosk.toml"
    config.write_text('[kiosk]\ndata_dir = "data"\n', encoding="utf-8")
    audit = AuditLog.for_data_dir(tmp_path / "data")  # today's clock: nothing is pruned
    for i in range(3):
        audit.record("logs", "ok", technician="wang", n=i)
    ok = run_verify(config, "--json")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["intact"] is True
    path = audit.files()[0]
    lines = lines_of(path)
    del lines[1]
    path.write_bytes(b"".join(lines))
    broken = run_verify(config)
    assert broken.returncode == 1
    assert f"{path} line 2" in broken.stderr and "Traceback" not in broken.stderr
    as_json = json.loads(run_verify(config, "--json").stdout)
    assert as_json["intact"] is False
    assert as_json["broken_at"]["file"] == str(path) and as_json["broken_at"]["line"] == 2
