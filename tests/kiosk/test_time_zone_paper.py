"""Receipts and the printer's self-test page print one zone (kiosk.timezone), never UTC beside
local time, never a date from 1970."""

from __future__ import annotations

import dataclasses
import datetime as dt
import time

import pytest

from drivers.base import DeviceState, DeviceStatus
from kiosk.config import ConfigError, demo_config, load_config_file
from kiosk.receipts.render import layout_receipt, local_time
from kiosk.technician.device_checks import self_test_page


@pytest.fixture(autouse=True)
def utc_process(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")  # the process's zone must not matter
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_self_test_page_prints_one_zone(tmp_path):
    config = demo_config(tmp_path)
    page = self_test_page(config, "sim:", 384, DeviceStatus(DeviceState.ONLINE))
    printed = dict(page.answers)["时间 Time"]
    assert local_time(page.created_at, page.time_zone) == printed[:16]
    utc_now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M")
    assert printed[:16] != utc_now or config.kiosk.timezone == "UTC"
    assert page.time_zone == "Asia/Shanghai"


def test_the_timezone_key_changes_every_printed_time(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ntimezone = "Europe/Berlin"\ndata_dir = "d"\n', encoding="utf-8")
    config = load_config_file(cfg)
    page = self_test_page(config, "sim:", 384, DeviceStatus(DeviceState.ONLINE))
    assert page.time_zone == "Europe/Berlin"
    assert local_time(page.created_at, "Europe/Berlin") == dict(page.answers)["时间 Time"][:16]
    cfg.write_text('[kiosk]\ntimezone = "Mars/Olympus"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="timezone"):
        load_config_file(cfg)


def test_receipt_of_a_clock_in_1970_prints_no_date(tmp_path):
    from kiosk.receipts import reprints

    page = self_test_page(demo_config(tmp_path), "sim:", 384, DeviceStatus(DeviceState.ONLINE))
    unset = dataclasses.replace(page, created_at=None)
    layout = layout_receipt(unset)
    assert layout is not None
    assert local_time(None) == local_time(dt.datetime(1970, 1, 2, tzinfo=dt.UTC))
    assert "1970" not in local_time(dt.datetime(1970, 1, 2, tzinfo=dt.UTC))
    store = reprints.ReprintStore(tmp_path / "reprints")
    store.save(unset)
    assert store.load(unset.transaction_id) == unset
