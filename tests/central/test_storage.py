"""The store interface, run on SQLite and on PostgreSQL alike (``db_url`` is parametrised)."""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

import pytest
from central_helpers import K1, K2, make_tx

from central.errors import ConfigError, StoreError, VersionTaken
from central.storage import SCHEMA_VERSION, open_store, parse_db
from central.wire import check_transaction


def txs(*items):
    return [check_transaction(t) for t in items]


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.close()


def test_ingest_tells_accepted_duplicate_and_conflict(store):
    a, b = make_tx(), make_tx()
    assert [i.status for i in store.ingest(K1, txs(a, b))] == ["accepted", "accepted"]
    other = {**a, "fields": {"phone": "13900000000"}}
    out = store.ingest(K1, txs(b, other, a))
    assert [i.status for i in out] == ["duplicate", "conflict", "duplicate"]
    assert out[1].wire["status"] == "rejected" and out[1].wire["reason"].startswith("conflict")
    assert out[0].wire == {"status": "duplicate"}
    assert store.transaction(a["id"])["fields"] == a["fields"]  # left as it was
    assert store.transactions_count() == 2


@pytest.mark.parametrize("field, value", [
    ("service_id", "other-service"), ("menu_version", 99), ("created_at", "2026-01-01T00:00:00Z"),
    ("identity", None), ("fields", {})])
def test_any_changed_member_is_a_conflict(store, field, value):
    tx = make_tx()
    store.ingest(K1, txs(tx))
    assert store.ingest(K1, txs({**tx, field: value}))[0].status == "conflict"


def test_repeats_inside_one_batch_compare_with_the_first_copy(store):
    tx = make_tx()
    shouted = {**tx, "id": tx["id"].upper()}
    changed = {**tx, "menu_version": 7}
    assert [i.status for i in store.ingest(K1, txs(tx, shouted, changed))] == [
        "accepted", "duplicate", "conflict"]
    assert store.transaction(tx["id"])["menu_version"] == tx["menu_version"]
    assert store.add_transactions(K1, txs(tx, make_tx())) == [False, True]


def test_stored_transaction_round_trips(store):
    tx = make_tx(identity=None, fields={"note": "住房", "n": [1, 2]})
    store.ingest(K2, txs(tx), now=1000.5)
    got = store.transaction(tx["id"].upper())
    assert {k: got[k] for k in tx} == tx
    assert got["kiosk_id"] == K2 and got["received_at"] == 1000.5
    assert got["delivered_at"] is None and got["purged_at"] is None
    assert store.transactions_count(K2) == 1 and store.transactions_count(K1) == 0


def test_heartbeats_keep_latest_state_and_bounded_history(db_url):
    with_history = open_store(db_url, heartbeat_history=5)
    try:
        for i in range(12):
            with_history.add_heartbeat(K1, {"n": i}, now=100.0 + i)
        with_history.add_heartbeat(K2, {"n": 100})
        assert [b["n"] for _, b in with_history.heartbeats(K1)] == [11, 10, 9, 8, 7]
        assert with_history.latest_heartbeat(K1) == {"n": 11}
        assert with_history.latest_heartbeat("nobody") is None
        assert with_history.latest_heartbeats() == {K1: (111.0, {"n": 11}),
                                                    K2: with_history.latest_heartbeats()[K2]}
        assert with_history.latest_heartbeats()[K2][1] == {"n": 100}
        recent = with_history.recent_heartbeats([K1, K2, "nobody"], per_kiosk=2)
        assert [b["n"] for _, b in recent[K1]] == [11, 10] and recent["nobody"] == []
        stats = {s["kiosk_id"]: s for s in with_history.kiosk_stats()}
        assert stats[K1]["last_heartbeat_at"] == 111.0 and stats[K1]["transactions"] == 0
    finally:
        with_history.close()


def test_menus_keep_every_version_and_serve_the_newest(store):
    first = store.add_menu(version=1, target_kind="all", target="", key_id="k", etag='"1"',
                           body=b"one", admin="alice", now=1.0)
    store.add_menu(version=2, target_kind="all", target="", key_id="k", etag='"2"',
                   body=b"two", admin="bob", now=2.0)
    assert [r["version"] for r in store.menu_records()] == [2, 1]
    assert [(r["version"], body) for r, body in store.newest_menus()] == [(2, b"two")]
    assert store.menu_body(first["seq"]) == b"one" and store.menu_body(999) is None


def test_a_menu_version_is_kept_once_per_target(store):
    kept = {"target_kind": "group", "target": "g", "key_id": "k", "etag": '"3"', "body": b"3",
            "admin": "alice"}
    store.add_menu(version=3, **kept)
    with pytest.raises(VersionTaken):  # the unique key: two processes raced to publish it
        store.add_menu(version=3, **{**kept, "admin": "bob"})
    store.add_menu(version=3, **{**kept, "target": "h"})  # another target may have it
    assert [(r["target"], r["admin"]) for r in store.menu_records()] == [("h", "alice"),
                                                                         ("g", "alice")]


def test_outbox_claim_deliver_purge(store):
    a, b, c = make_tx(), make_tx(), make_tx()
    store.ingest(K1, txs(a, b), now=10.0)
    store.ingest(K1, txs(c), now=11.0)
    claimed = store.claim_outbox(2, lease_s=60, now=20.0)
    assert [r["id"] for r in claimed] == sorted([a["id"], b["id"]])  # oldest, then by id
    assert claimed[0]["identity"] == a["identity"] and claimed[0]["attempts"] == 1
    assert [r["id"] for r in store.claim_outbox(5, lease_s=60, now=20.0)] == [c["id"]]
    assert store.claim_outbox(5, lease_s=60, now=79.0) == []  # all leased
    store.mark_delivered([a["id"]], now=30.0)
    store.retry_later([b["id"]], at=40.0)
    assert [r["id"] for r in store.claim_outbox(5, lease_s=60, now=41.0)] == [b["id"]]
    assert store.outbox_stats()["outbox_pending"] == 2

    assert store.purge_delivered(before=30.0) == 0  # delivered at 30: not before it
    assert store.purge_delivered(before=31.0, now=31.0) == 1
    purged = store.transaction(a["id"])
    assert purged["identity"] is None and purged["fields"] is None
    assert purged["purged_at"] == 31.0 and purged["delivered_at"] == 30.0
    # the content hash stays: a resend is still recognised for what it is
    assert store.ingest(K1, txs(a))[0].status == "duplicate"
    assert store.ingest(K1, txs({**a, "fields": {}}))[0].status == "conflict"
    assert store.outbox_stats() == {"outbox_pending": 2, "outbox_delivered": 1, "purged": 1}


def test_two_stores_on_one_database_claim_disjoint_batches(db_url):
    first, second = open_store(db_url), open_store(db_url)
    try:
        first.ingest(K1, txs(*[make_tx() for _ in range(100)]), now=1.0)
        got: list[list[str]] = [[], []]

        def claim(store, into):
            while batch := store.claim_outbox(7, lease_s=600, now=2.0):
                into.extend(r["id"] for r in batch)

        threads = [threading.Thread(target=claim, args=(s, g))
                   for s, g in zip((first, second), got, strict=True)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert len(got[0]) + len(got[1]) == 100
        assert len(set(got[0]) | set(got[1])) == 100
    finally:
        first.close()
        second.close()


def test_two_stores_ingesting_the_same_ids_store_each_once(db_url):
    stores = [open_store(db_url), open_store(db_url)]
    batches = [[make_tx() for _ in range(50)] for _ in range(8)]
    outcomes: list[str] = []
    lock = threading.Lock()

    def send(store):
        for batch in batches:
            statuses = [i.status for i in store.ingest(K1, txs(*batch))]
            with lock:
                outcomes.extend(statuses)

    threads = [threading.Thread(target=send, args=(s,)) for s in stores]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcomes.count("accepted") == 400 and outcomes.count("duplicate") == 400
        assert stores[1].transactions_count() == 400
    finally:
        for s in stores:
            s.close()


def test_reopening_keeps_data_and_a_newer_schema_is_refused(db_url):
    tx = make_tx()
    with_data = open_store(db_url)
    with_data.ingest(K1, txs(tx))
    with_data.add_heartbeat(K1, {"n": 1})
    with_data.close()
    again = open_store(db_url)
    try:
        assert again.transaction(tx["id"])["fields"] == tx["fields"]
        assert again.latest_heartbeat(K1) == {"n": 1}
    finally:
        again.close()
    reader = open_store(db_url, readonly=True)
    assert reader.transactions_count() == 1
    reader.close()
    _set_schema_version(db_url, SCHEMA_VERSION + 1)
    with pytest.raises(StoreError, match="newer"):
        open_store(db_url)


def _set_schema_version(db_url, version: int) -> None:
    if isinstance(db_url, Path):
        with sqlite3.connect(db_url) as conn:
            conn.execute(f"PRAGMA user_version={version}")
        return
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("UPDATE schema_meta SET version = %s", (version,))


_SCHEMA_2 = """
CREATE TABLE transactions (id TEXT PRIMARY KEY, kiosk_id TEXT NOT NULL,
    service_id TEXT NOT NULL, menu_version INTEGER NOT NULL, created_at TEXT NOT NULL,
    identity TEXT, fields TEXT NOT NULL, digest TEXT NOT NULL, received_at REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE heartbeats (seq INTEGER PRIMARY KEY AUTOINCREMENT, kiosk_id TEXT NOT NULL,
    received_at REAL NOT NULL, body TEXT NOT NULL);
CREATE TABLE menus (seq INTEGER PRIMARY KEY AUTOINCREMENT, version INTEGER NOT NULL,
    target_kind TEXT NOT NULL, target TEXT NOT NULL, key_id TEXT NOT NULL, etag TEXT NOT NULL,
    body BLOB NOT NULL, admin TEXT NOT NULL, published_at REAL NOT NULL,
    UNIQUE (target_kind, target, version));
INSERT INTO transactions VALUES ('00000000-0000-4000-8000-000000000001', 'ZJ-HZ-0001',
    'hpf-withdraw', 1, '2026-11-24T09:30:00Z', NULL, '{"phone": "1"}', 'abc', 5.0);
INSERT INTO heartbeats (kiosk_id, received_at, body) VALUES ('ZJ-HZ-0001', 6.0, '{"n": 1}');
INSERT INTO heartbeats (kiosk_id, received_at, body) VALUES ('ZJ-HZ-0001', 7.0, '{"n": 2}');
PRAGMA user_version=2;
"""


def test_a_schema_2_sqlite_file_is_upgraded_without_losing_data(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(_SCHEMA_2)
    store = open_store(path)
    try:
        tx = store.transaction("00000000-0000-4000-8000-000000000001")
        assert tx["fields"] == {"phone": "1"} and tx["delivered_at"] is None
        assert store.latest_heartbeat(K1) == {"n": 2}
        assert store.outbox_stats()["outbox_pending"] == 1  # handed on like any other
    finally:
        store.close()


@pytest.mark.parametrize("value, kind, target", [
    ("postgresql://u:p@db.example:5432/central", "postgres",
     "postgresql://u:p@db.example:5432/central"),
    ("postgres://u@db/central", "postgres", "postgres://u@db/central"),
    ("sqlite:///var/lib/central/c.db", "sqlite", Path("/var/lib/central/c.db")),
    ("/var/lib/central/c.db", "sqlite", Path("/var/lib/central/c.db")),
    ("central.db", "sqlite", Path("central.db")),
])
def test_db_values(value, kind, target):
    assert parse_db(value) == (kind, target)


@pytest.mark.parametrize("value, message", [
    ("sqlite://relative.db", "absolute path"),
    ("mysql://u:secret@h/db", "unknown scheme 'mysql'"),
])
def test_bad_db_values_are_named_without_the_password(value, message):
    with pytest.raises(ConfigError, match=message) as err:
        parse_db(value)
    assert "secret" not in str(err.value)


def test_an_unreachable_postgres_is_a_store_error_without_the_password():
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there
    with pytest.raises(StoreError) as err:
        open_store(f"postgresql://u:hunter2@127.0.0.1:{port}/x?connect_timeout=2")
    assert "hunter2" not in str(err.value) and "***" in str(err.value)


def test_stats_takes_a_sqlite_url_and_names_a_bad_scheme(tmp_path, capsys):
    from central.cli import main

    path = tmp_path / "c.db"
    open_store(f"sqlite://{path}").close()
    assert path.is_file()
    assert main(["stats", "--db", f"sqlite://{path}", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outbox_pending"] == 0
    assert main(["stats", "--db", "mysql://u:pw@h/db"]) == 2
    err = capsys.readouterr().err
    assert "unknown scheme" in err and "pw" not in err and err.count("\n") == 1
