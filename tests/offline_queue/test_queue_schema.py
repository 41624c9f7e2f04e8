"""Schema versions in PRAGMA user_version, applied by ordered migrations in one transaction."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from offline_queue import OfflineQueue, QueueError, QueueSchemaError, schema


def user_version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def test_new_database_has_the_current_schema(queue: OfflineQueue) -> None:
    assert user_version(queue.path) == schema.schema_version() == len(schema.MIGRATIONS)
    db = queue._db
    assert set(db["transactions"].columns_dict) == {
        "seq", "id", "state", "attempts", "next_attempt_at", "settled_hour",
        "meta", "identity", "fields", "sent_at", "reason", "last_error",
    }
    for column in ("meta", "identity", "fields", "sent_at", "reason", "last_error"):
        assert db["transactions"].columns_dict[column] is bytes  # BLOB: sealed by crypto.py
    assert db["transactions"].pks == ["seq"]
    indexes = {index.name: index.columns for index in db["transactions"].indexes}
    assert indexes["transactions_pending"] == ["state"]
    assert "transactions_due" not in indexes and "transactions_to_purge" not in indexes
    assert indexes["transactions_settled"] == ["state", "settled_hour"]


def test_due_batch_walks_the_pending_index_without_sorting(queue: OfflineQueue) -> None:
    plan = queue._db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM transactions WHERE state = 'pending'"
        " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
        " ORDER BY seq LIMIT ?", (0, 100)).fetchall()
    details = " ".join(row[-1] for row in plan)
    assert "transactions_pending" in details and "TEMP B-TREE" not in details


def test_state_is_checked_by_the_database(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("s", {})
    with pytest.raises(sqlite3.IntegrityError):
        queue._db.execute("UPDATE transactions SET state = 'lost' WHERE id = ?", (tx_id,))
    assert queue.get(tx_id).state == "pending"


def test_newer_schema_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with sqlite3.connect(db_path) as conn:
        conn.execute("PRAGMA user_version = 99")

    with pytest.raises(QueueSchemaError, match="newer") as raised:
        OfflineQueue(db_path)
    assert isinstance(raised.value, QueueError)
    assert user_version(db_path) == 99  # left exactly as found, not moved aside
    assert list(db_path.parent.glob("*.corrupt-*")) == []


def test_later_migrations_apply_to_an_existing_queue(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OfflineQueue(db_path) as q:
        tx_id = q.enqueue("s", {"n": 1})
    monkeypatch.setattr(
        schema, "MIGRATIONS",
        [*schema.MIGRATIONS, ("ALTER TABLE transactions ADD COLUMN receipt TEXT",)],
    )

    with OfflineQueue(db_path) as q:
        assert "receipt" in q._db["transactions"].columns_dict
        assert q.get(tx_id).fields == {"n": 1}
    assert user_version(db_path) == len(schema.MIGRATIONS)


def test_a_failed_migration_changes_nothing(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with OfflineQueue(db_path) as q:
        q.enqueue("s", {})
    current = len(schema.MIGRATIONS)
    broken = ("ALTER TABLE transactions ADD COLUMN receipt TEXT", "THIS IS NOT SQL")
    monkeypatch.setattr(schema, "MIGRATIONS", [*schema.MIGRATIONS, broken])

    with pytest.raises(QueueSchemaError, match=f"version {current} to {current + 1}"):
        OfflineQueue(db_path)

    monkeypatch.undo()
    with OfflineQueue(db_path) as q:
        assert "receipt" not in q._db["transactions"].columns_dict
        assert q.counts()["pending"] == 1
    assert user_version(db_path) == current


def test_a_failed_first_migration_leaves_no_table(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "MIGRATIONS", [(*schema.MIGRATIONS[0], "NOT SQL")])
    with pytest.raises(QueueSchemaError):
        OfflineQueue(db_path)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT name FROM sqlite_master").fetchall() == []
    assert user_version(db_path) == 0
