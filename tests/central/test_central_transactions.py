"""Uploads: accepted, duplicate, rejected in a batch; exactly-once storage; 400 and 413."""

from __future__ import annotations

import threading

import pytest
import requests
from central_helpers import K1, headers, make_tx, post_batch


def _statuses(r: requests.Response) -> list[str]:
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "application/json"
    return [x["status"] for x in r.json()["results"]]


def test_accept_duplicate_and_rejected_in_one_batch(central):
    first, second = make_tx(), make_tx(identity=None, fields={})
    r = post_batch(central.url, [first])
    assert r.json() == {"results": [{"id": first["id"], "status": "accepted"}]}

    bad = make_tx(created_at="2026-11-24 09:30:00")
    r = post_batch(central.url, [first, second, bad])
    results = r.json()["results"]
    assert [x["id"] for x in results] == [first["id"], second["id"], bad["id"]]
    assert _statuses(r) == ["duplicate", "accepted", "rejected"]
    assert "created_at" in results[2]["reason"]
    assert "reason" not in results[0] and "reason" not in results[1]
    assert central.store.transactions_count() == 2
    assert central.store.transaction(bad["id"]) is None


def test_stored_transaction_keeps_its_content(central):
    tx = make_tx(fields={"phone": "13800000000", "note": "住房"}, menu_version=12)
    post_batch(central.url, [tx])
    stored = central.store.transaction(tx["id"])
    assert stored["kiosk_id"] == K1
    assert {k: stored[k] for k in tx} == tx


def test_the_same_id_twice_in_one_batch_is_stored_once(central):
    tx = make_tx()
    assert _statuses(post_batch(central.url, [tx, tx])) == ["accepted", "duplicate"]
    assert central.store.transactions_count() == 1


def test_upper_case_uuid_is_the_same_transaction(central):
    tx = make_tx()
    shouted = {**tx, "id": tx["id"].upper()}
    r = post_batch(central.url, [tx, shouted])
    assert _statuses(r) == ["accepted", "duplicate"]
    assert r.json()["results"][1]["id"] == shouted["id"]  # echoed as sent


def test_resent_with_other_content_keeps_the_first(central, caplog):
    tx = make_tx()
    post_batch(central.url, [tx])
    changed = {**tx, "fields": {"phone": "13900000000"}}
    result = post_batch(central.url, [changed]).json()["results"][0]  # central-api.md §4
    assert result["status"] == "rejected" and result["reason"].startswith("conflict")
    assert _statuses(post_batch(central.url, [tx])) == ["duplicate"]  # the same content again
    assert central.store.transaction(tx["id"])["fields"] == tx["fields"]
    assert "different content" in caplog.text
    assert "13900000000" not in caplog.text and "13800000000" not in caplog.text


def test_same_batch_posted_twice_is_stored_once(central):
    batch = [make_tx() for _ in range(100)]
    assert _statuses(post_batch(central.url, batch)) == ["accepted"] * 100
    assert _statuses(post_batch(central.url, batch)) == ["duplicate"] * 100
    assert central.store.transactions_count() == 100


def test_same_batch_from_four_threads_at_once_is_stored_once(central):
    batch = [make_tx() for _ in range(100)]
    barrier = threading.Barrier(4)
    statuses: list[list[str]] = []
    lock = threading.Lock()

    def send() -> None:
        with requests.Session() as s:
            barrier.wait()
            got = _statuses(post_batch(central.url, batch, session=s))
        with lock:
            statuses.append(got)

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(statuses) == 4
    # Each transaction is accepted exactly once across the four answers.
    for i in range(100):
        column = [s[i] for s in statuses]
        assert sorted(column) == ["accepted", "duplicate", "duplicate", "duplicate"], i
    assert central.store.transactions_count() == 100


@pytest.mark.parametrize("overrides, reason", [
    ({"id": "not-a-uuid"}, "id"),
    ({"service_id": "Bad Service"}, "service_id"),
    ({"service_id": 7}, "service_id"),
    ({"menu_version": -1}, "menu_version"),
    ({"menu_version": "12"}, "menu_version"),
    ({"menu_version": True}, "menu_version"),
    ({"created_at": "2026-11-24T09:30:00+08:00"}, "created_at"),
    ({"created_at": "2026-02-30T09:30:00Z"}, "created_at"),
    ({"identity": "ga467"}, "identity"),
    ({"identity": {"id_number": "330106199001011234"}}, "identity: method"),
    ({"identity": {"method": "ga467", "name": "张三"}}, "identity: id_number"),
    ({"identity": {"method": "pcsc-uid", "card_uid": "04a1b2"}}, "identity: card_uid"),
    ({"fields": []}, "fields"),
])
def test_malformed_transaction_is_rejected_with_a_reason(central, overrides, reason):
    good, bad = make_tx(), make_tx(**overrides)
    r = post_batch(central.url, [good, bad])
    assert _statuses(r) == ["accepted", "rejected"]
    assert r.json()["results"][1]["reason"].startswith(reason)
    assert central.store.transactions_count() == 1


def test_missing_identity_key_is_rejected(central):
    tx = make_tx()
    del tx["identity"]
    assert _statuses(post_batch(central.url, [tx])) == ["rejected"]


def test_other_identity_profiles_and_unknown_keys_are_accepted(central):
    txs = [make_tx(identity={"method": "pcsc-uid", "card_uid": "04A1B2C3"}),
           make_tx(identity={"method": "social-card", "card_no": "X1"}),
           make_tx(created_at="2026-11-24T09:30:00.123Z", extra="ignored")]
    assert _statuses(post_batch(central.url, txs)) == ["accepted"] * 3


def test_101_transactions_is_413(central):
    r = post_batch(central.url, [make_tx() for _ in range(101)])
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/json"
    assert "100" in r.json()["error"]
    assert central.store.transactions_count() == 0


def test_body_over_the_byte_limit_is_413(central):
    big = make_tx(fields={"blob": "x" * (1024 * 1024)})
    r = post_batch(central.url, [big])
    assert r.status_code == 413
    assert r.headers["Content-Type"] == "application/json"
    assert central.store.transactions_count() == 0


def test_byte_limit_is_configurable(tmp_path):
    from central_helpers import KIOSKS

    from central.server import CentralServer

    with CentralServer(tmp_path / "small.db", kiosks=KIOSKS, max_body_bytes=2048) as srv:
        assert post_batch(srv.url, [make_tx()]).status_code == 200
        r = post_batch(srv.url, [make_tx(fields={"blob": "x" * 4000})])
        assert r.status_code == 413


@pytest.mark.parametrize("data", [
    b"this is not json",
    b"\xff\xfe not utf-8",
    b"[]",
    b'{"kiosk_id": "ZJ-HZ-0001"}',
    b'{"kiosk_id": "ZJ-HZ-0001", "transactions": []}',
    b'{"kiosk_id": "ZJ-HZ-0001", "transactions": {}}',
    b'{"kiosk_id": "ZJ-HZ-0001", "transactions": [1]}',
    b'{"kiosk_id": "ZJ-HZ-0001", "transactions": [{"service_id": "a"}]}',
    b'{"transactions": [{"id": "3f1c7a52-8a7e-4f7e-9a55-0d1f4f3b2c11"}]}',
    b"",
])
def test_garbage_is_400_with_a_json_error(shared_central, data):
    r = requests.post(shared_central.url + "/api/v1/transactions", data=data,
                      headers={**headers(K1), "Content-Type": "application/json"}, timeout=10)
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]
