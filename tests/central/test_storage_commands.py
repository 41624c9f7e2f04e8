"""Fleet commands in the store, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import pytest
from central_helpers import K1, K2

from central.storage import open_store
from central.storage.commands import UPLOADS_KEPT


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.close()


def test_a_command_is_sent_until_the_kiosk_reports_it(store):
    made = store.add_commands([K1, K2], "screenshot", {}, admin="ops", now=10.0)
    assert [c["kiosk_id"] for c in made] == [K1, K2]
    assert len({c["id"] for c in made}) == 2
    first = store.take_commands(K1, now=11.0)
    assert [(c["id"], c["type"], c["status"]) for c in first] == [
        (made[0]["id"], "screenshot", "pending")]
    again = store.take_commands(K1, now=12.0)  # not reported yet: sent again
    assert [c["id"] for c in again] == [made[0]["id"]]
    assert store.command(made[0]["id"])["sent_at"] == 12.0
    recorded = store.finish_commands(K1, [{"id": made[0]["id"], "status": "done",
                                           "detail": "1920x1080"}], now=13.0)
    assert recorded == 1
    assert store.take_commands(K1) == []
    done = store.command(made[0]["id"])
    assert (done["status"], done["detail"], done["finished_at"]) == ("done", "1920x1080", 13.0)
    # a second report, or one for another kiosk's command, changes nothing
    assert store.finish_commands(K1, [{"id": made[0]["id"], "status": "failed"}]) == 0
    assert store.finish_commands(K1, [{"id": made[1]["id"], "status": "done"}]) == 0
    assert store.command(made[1]["id"])["status"] == "pending"
    assert {c["id"] for c in store.commands()} == {made[0]["id"], made[1]["id"]}
    assert [c["id"] for c in store.commands(K2)] == [made[1]["id"]]


def test_uploads_keep_the_newest_of_each_kiosk_and_kind(store):
    ids = [c["id"] for c in store.add_commands([K1] * (UPLOADS_KEPT + 1), "screenshot", {},
                                               admin="ops")]
    for i, command_id in enumerate(ids):
        store.add_upload(command_id, K1, "screenshot", "image/png", b"png%d" % i, now=100.0 + i)
    kept = store.uploads(K1)
    assert [u["command_id"] for u in kept] == ids[::-1][:UPLOADS_KEPT]
    record, body = store.upload(ids[-1])
    assert body == b"png%d" % UPLOADS_KEPT and record["size"] == len(body)
    assert record["content_type"] == "image/png"
    assert store.upload(ids[0]) is None
    store.add_upload(ids[-1], K1, "screenshot", "image/png", b"again", now=200.0)
    assert store.upload(ids[-1])[1] == b"again"


def test_a_command_not_delivered_in_time_expires_and_is_never_sent(store):
    late, fresh = store.add_commands([K1, K1], "restart", {}, admin="ops", now=100.0)
    (sent,) = store.add_commands([K2], "screenshot", {}, admin="ops", now=100.0)
    assert [c["id"] for c in store.take_commands(K2, now=101.0)] == [sent["id"]]
    store._run([("UPDATE commands SET created_at = ? WHERE id = ?", (200.0, fresh["id"]))])
    # an hour after the first: it was never delivered, so it is expired, not sent
    taken = store.take_commands(K1, now=3800.0, expire_before=3800.0 - 3600)
    assert [c["id"] for c in taken] == [fresh["id"]]
    expired = store.command(late["id"])
    assert (expired["status"], expired["finished_at"]) == ("expired", 3800.0)
    assert expired["detail"] == "not delivered within 1 h"
    again = store.take_commands(K1, now=3801.0, expire_before=201.0)
    assert [c["id"] for c in again] == [fresh["id"]]  # sent before its bound: sent again
    # a command the kiosk was sent is not expired: it was delivered, its answer is awaited
    assert store.expire_commands(10_000.0, now=10_000.0) == 0
    assert store.command(sent["id"])["status"] == "sent"
    # a kiosk's late report of an expired command changes nothing
    assert store.finish_commands(K1, [{"id": late["id"], "status": "done"}]) == 0
    assert store.command(late["id"])["status"] == "expired"


def test_expiring_every_kiosk_at_once_and_counting(store):
    made = store.add_commands([K1, K2], "sync_now", {}, admin="ops", now=100.0)
    assert store.expire_commands(100.0, now=700.0) == 0  # not before the bound
    assert store.expire_commands(100.5, now=700.0) == 2
    assert {store.command(c["id"])["detail"] for c in made} == {"not delivered within 10 min"}
    assert store.take_commands(K1, now=701.0) == [] and store.take_commands(K2) == []
