"""Receipts kept for a reprint: masked data only, written safely, given up after a week."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time

from kiosk.receipts.render import ReceiptData
from kiosk.receipts.reprints import GIVE_UP_AFTER_S, ReprintStore


def receipt(tx: str = "3f1c7a52-8a7e-4f7e-9a55-0d1f4f3b2c11") -> ReceiptData:
    return ReceiptData(
        title="公积金提取申请回执", service_title="公积金提取", service_point="转塘街道",
        kiosk_id="ZJ-HZ-0001", transaction_id=tx, reference="3F1C-7A52",
        created_at=dt.datetime(2026, 11, 24, 9, 30, tzinfo=dt.UTC), resident_name="张**",
        id_number="330106********1234", answers=(("手机号码", "139****5678"),),
        note="请凭此回执查询。", labels={"name": "姓名"})


def test_round_trip_and_remove(tmp_path):
    store = ReprintStore(tmp_path / "reprints")
    data = receipt()
    store.save(data)
    assert store.pending() == [data.transaction_id]
    assert store.load(data.transaction_id) == data
    path = tmp_path / "reprints" / f"{data.transaction_id}.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "330106********1234" in path.read_text("utf-8")
    store.remove(data.transaction_id)
    assert store.pending() == [] and store.load(data.transaction_id) is None


def test_stale_and_broken_records_are_given_up(tmp_path):
    store = ReprintStore(tmp_path / "reprints")
    store.save(receipt("aaaa-1"))
    store.save(receipt("bbbb-2"))
    old = time.time() - GIVE_UP_AFTER_S - 10
    os.utime(tmp_path / "reprints" / "aaaa-1.json", (old, old))
    assert store.pending() == ["bbbb-2"]
    (tmp_path / "reprints" / "bbbb-2.json").write_text("{broken")
    assert store.load("bbbb-2") is None
    assert store.pending() == []
