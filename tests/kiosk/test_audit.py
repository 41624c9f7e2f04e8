"""The technicians' audit log: one fsynced JSON line per entry, a file per day, 90 days."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from kiosk.technician.audit import AuditLog

DAY = 86400.0
T0 = dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC).timestamp()


class Clock:
    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_record_appends_one_line_with_time_event_outcome_detail(tmp_path):
    audit = AuditLog(tmp_path / "audit", clock=Clock())
    entry = audit.record("test-print", "ok", printer="sim:", paper="full")
    chain = {k: entry.pop(k) for k in ("prev", "hash", "prev_day")}
    assert entry == {"time": "2026-11-24T09:30:00Z", "event": "test-print", "outcome": "ok",
                     "technician": None, "detail": {"printer": "sim:", "paper": "full"}}
    assert chain["prev"] == "" and chain["prev_day"] is None and len(chain["hash"]) == 64
    entry.update(chain)
    audit.record("pin-failed", "wrong", attempts_left=4)
    path = tmp_path / "audit" / "audit-2026-11-24.jsonl"
    lines = [json.loads(x) for x in path.read_text("utf-8").splitlines()]
    assert lines[0] == entry
    assert lines[1]["event"] == "pin-failed" and lines[1]["detail"] == {"attempts_left": 4}
    assert path.stat().st_mode & 0o777 == 0o600


def test_detail_strings_are_masked(tmp_path):
    audit = AuditLog(tmp_path, clock=Clock())
    audit.record("test-read", "ok", note="read 330106199001011234 phone 13812345678",
                 nested={"ids": ["330106199001011234"]})
    text = (tmp_path / "audit-2026-11-24.jsonl").read_text("utf-8")
    assert "330106199001011234" not in text and "13812345678" not in text
    assert "330106********1234" in text and "138****5678" in text


def test_a_file_per_utc_day_and_recent_reads_across_them(tmp_path):
    clock = Clock()
    audit = AuditLog(tmp_path, clock=clock)
    for day in range(3):
        for i in range(4):
            audit.record("entry", "ok", n=day * 10 + i)
        clock.t += DAY
    assert [p.name for p in audit.files()] == [
        "audit-2026-11-24.jsonl", "audit-2026-11-25.jsonl", "audit-2026-11-26.jsonl"]
    assert [e["detail"]["n"] for e in audit.recent(6)] == [12, 13, 20, 21, 22, 23]
    assert len(audit.recent(100)) == 12
    assert audit.recent(0) == []


def test_prune_removes_days_older_than_90(tmp_path):
    clock = Clock()
    audit = AuditLog(tmp_path, clock=clock)
    audit.record("entry", "ok")  # 2026-11-24
    clock.t += 90 * DAY  # 2027-02-22: the first day is exactly 90 days old, kept
    assert audit.prune() == 0
    clock.t += DAY
    assert audit.prune() == 1
    assert audit.files() == []


def test_record_on_a_new_day_prunes_by_itself(tmp_path):
    clock = Clock()
    audit = AuditLog(tmp_path, clock=clock)
    audit.record("entry", "ok")
    clock.t += 120 * DAY
    audit.record("leave", "ok")
    assert [p.name for p in audit.files()] == ["audit-2027-03-24.jsonl"]


def test_recent_skips_a_torn_line_and_foreign_files(tmp_path):
    audit = AuditLog(tmp_path, clock=Clock())
    audit.record("entry", "ok")
    with open(tmp_path / "audit-2026-11-24.jsonl", "a", encoding="utf-8") as f:
        f.write('{"time": "2026-11-24T09:3')  # a power cut mid-write
    (tmp_path / "notes.txt").write_text("not an audit file")
    (tmp_path / "audit-2026-13-45.jsonl").write_text("{}")  # no such date
    audit2 = AuditLog(tmp_path, clock=Clock(T0 + 60))
    audit2.record("leave", "ok")
    assert [e["event"] for e in audit2.recent(10)] == ["entry", "leave"]
    assert [p.name for p in audit2.files()] == ["audit-2026-11-24.jsonl"]


def test_a_write_failure_is_logged_not_raised(tmp_path, caplog):
    blocker = tmp_path / "audit"
    blocker.write_text("a file where the folder should be")
    audit = AuditLog(blocker, clock=Clock())
    entry = audit.record("export", "failed", reason="disk full")
    assert entry["event"] == "export"
    assert "audit entry export/failed not written" in caplog.text
    assert audit.recent(5) == [] and audit.files() == []


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError):
        AuditLog(tmp_path, keep_days=0)
    with pytest.raises(ValueError):
        AuditLog(tmp_path).record("", "ok")
