"""One time zone for people (kiosk.timezone), UTC on the wire: the process's TZ plays no part."""

from __future__ import annotations

import datetime as dt
import logging
import os
import time

import pytest

from contract.times import TimeFormatError, is_zone, people_clock, people_time, rfc3339

WHEN = dt.datetime(2026, 12, 2, 17, 15, 48, tzinfo=dt.UTC)


@pytest.fixture
def foreign_tz(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_people_time_is_the_configured_zone_whatever_tz_says(foreign_tz):
    assert people_time(WHEN) == "2026-12-03 01:15"
    assert people_time(WHEN.timestamp(), seconds=True) == "2026-12-03 01:15:48"
    assert people_time(WHEN, "Europe/Berlin") == "2026-12-02 18:15"
    assert people_clock(WHEN) == "01:15:48"
    assert rfc3339(WHEN) == "2026-12-02T17:15:48Z"


def test_a_clock_from_1970_is_never_shown_as_a_date():
    assert people_time(0) == ""
    assert people_time(86400.0, unknown="time not known") == "time not known"
    assert people_time(None, unknown="?") == "?"


def test_zone_names_are_checked():
    assert is_zone("Asia/Shanghai")
    for bad in ("Mars/Olympus", "", "../etc/passwd", None):
        assert not is_zone(bad)
    with pytest.raises(TimeFormatError):
        people_time(WHEN, "Mars/Olympus")


def test_log_lines_start_with_rfc3339_utc(foreign_tz):
    from kiosk.logs import UtcFormatter

    record = logging.LogRecord("kiosk", logging.INFO, __file__, 1, "hello", None, None)
    record.created = WHEN.timestamp()
    assert UtcFormatter().format(record) == "2026-12-02T17:15:48Z INFO kiosk: hello"
    assert os.environ["TZ"] == "America/New_York"
