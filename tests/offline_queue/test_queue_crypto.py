"""Personal data at rest: sealed columns, the key file, the v1 migration and the purge."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from offline_queue import OfflineQueue, QueueDecryptError, QueueError, schema
from offline_queue.crypto import FieldCipher

T0 = 1795512600.0  # 2026-11-24T09:30:00Z, where the conftest clock starts
HOUR = 3600.0

NAME, ID_NUMBER, PHONE = "王秀英", "330106195503120016", "13912345678"
IDENTITY = {"method": "ga467", "id_number": ID_NUMBER, "name": NAME}
FIELDS = {"phone": PHONE, "address": "浙江省杭州市西湖区文三路 90 号"}
SECRETS = (NAME, ID_NUMBER, PHONE, "文三路")
# Said something about the person too, and were in clear before schema version 4 (issue #12):
# the service, and the time of the visit (T0 as created_at).
CLEAR_BEFORE_V4 = ("hpf-withdraw", "2026-11-24T09:30:00Z")

# The version-1 schema as released (schema.MIGRATIONS[0]), written out so that this test
# keeps building a real version-1 file whatever later code does.
V1_DDL = """
CREATE TABLE transactions (
    id TEXT PRIMARY KEY,
    service_id TEXT NOT NULL,
    menu_version INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_ts REAL NOT NULL,
    identity TEXT,
    fields TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'rejected')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at REAL,
    sent_at TEXT,
    reason TEXT
);
CREATE INDEX transactions_due ON transactions (state, next_attempt_at, created_ts);
PRAGMA user_version = 1;
"""


def files_of(db_path: Path) -> bytes:
    """Everything SQLite keeps on disk for the database: the file, its -wal and -shm."""
    return b"".join(p.read_bytes() for p in sorted(db_path.parent.glob(f"{db_path.name}*")))


def assert_no_secrets(data: bytes, secrets: tuple[str, ...] = SECRETS) -> None:
    for secret in secrets:
        assert secret.encode() not in data, secret
        assert secret.encode("utf-16-le") not in data, secret


def sealed(queue: OfflineQueue, tx_id: str) -> tuple[bytes | None, bytes | None]:
    return queue._db.execute(
        "SELECT identity, fields FROM transactions WHERE id = ?", (tx_id,)
    ).fetchone()


def write_key(path: Path, key: bytes) -> None:
    path.write_bytes(key)
    path.chmod(0o600)


# --- sealed columns -------------------------------------------------------------------------


def test_the_files_hold_no_personal_data_before_and_after_a_checkpoint(
    queue: OfflineQueue, db_path: Path
) -> None:
    tx_id = queue.enqueue("hpf-withdraw", FIELDS, IDENTITY)
    assert Path(f"{db_path}-wal").stat().st_size > 0  # the row is in the -wal so far
    data = files_of(db_path)
    assert tx_id.encode() in data  # the search works: the id, which says nothing, is in clear
    assert_no_secrets(data, (*SECRETS, *CLEAR_BEFORE_V4))

    queue._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert_no_secrets(files_of(db_path), (*SECRETS, *CLEAR_BEFORE_V4))
    assert queue.get(tx_id).identity == IDENTITY
    queue.close()
    assert_no_secrets(files_of(db_path), (*SECRETS, *CLEAR_BEFORE_V4))


def test_reads_return_decrypted_values(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("hpf-withdraw", FIELDS, IDENTITY, menu_version=3)
    (tx,) = queue.due_batch()
    assert tx == queue.get(tx_id)
    assert (tx.identity, tx.fields, tx.purged_at) == (IDENTITY, FIELDS, None)
    assert sealed(queue, queue.enqueue("s", {}))[0] is None  # no identity: nothing to seal


def test_nonces_differ_for_equal_values(queue: OfflineQueue) -> None:
    first, second = (sealed(queue, queue.enqueue("s", FIELDS, IDENTITY)) for _ in range(2))
    for a, b in zip(first, second, strict=True):
        assert a.startswith(b"v1") and b.startswith(b"v1")
        assert a[2:14] != b[2:14]  # the 96-bit nonce
        assert a[14:] != b[14:]
    plaintext = json.dumps(FIELDS, ensure_ascii=False).encode()
    assert len(first[1]) == len(b"v1") + 12 + len(plaintext) + 16  # format, nonce, tag


def test_a_different_key_rejects_those_rows_and_keeps_the_rest_going(
    db_path: Path, clock, caplog: pytest.LogCaptureFixture
) -> None:
    with OfflineQueue(db_path, clock=clock) as q:
        old = [q.enqueue("s", {"n": n}, IDENTITY) for n in range(3)]
        right_key = q.key_file.read_bytes()
    write_key(db_path.with_name("queue.key"), os.urandom(32))  # e.g. restored the wrong one

    clock.advance(1)
    with caplog.at_level(logging.ERROR), OfflineQueue(db_path, clock=clock) as q:
        with pytest.raises(QueueDecryptError, match=old[0]) as raised:
            q.get(old[0])
        assert isinstance(raised.value, QueueError) and raised.value.tx_id == old[0]
        new = [q.enqueue("s", {"n": n}) for n in range(2)]

        assert [tx.id for tx in q.due_batch(limit=2)] == new  # the 3 old ones never block it
        assert q.counts() == {"pending": 2, "sent": 0, "rejected": 3}
        rejected = q.latest("rejected")
        assert {tx.id for tx in rejected} == set(old)
        assert all(tx.reason.startswith("cannot decrypt") for tx in rejected)
    for tx_id in old:
        assert tx_id in caplog.text
    assert_no_secrets(caplog.text.encode())

    write_key(db_path.with_name("queue.key"), right_key)  # the data was kept for technicians
    with OfflineQueue(db_path, clock=clock) as q:
        tx = q.get(old[0])
        assert (tx.state, tx.identity) == ("rejected", IDENTITY)
        assert tx.reason.startswith("cannot decrypt")
        with pytest.raises(QueueDecryptError):
            q.get(new[0])


def test_tampered_or_moved_ciphertext_is_detected(queue: OfflineQueue) -> None:
    flipped, moved, swapped, intact = (queue.enqueue("s", {"n": n}, IDENTITY) for n in range(4))
    db = queue._db
    identity, fields = sealed(queue, flipped)
    db.execute("UPDATE transactions SET fields = ? WHERE id = ?",
               (fields[:-1] + bytes([fields[-1] ^ 1]), flipped))
    db.execute("UPDATE transactions SET fields = ? WHERE id = ?", (fields, moved))
    identity, fields = sealed(queue, swapped)
    db.execute("UPDATE transactions SET identity = ?, fields = ? WHERE id = ?",
               (fields, identity, swapped))

    for tx_id in (flipped, moved, swapped):
        with pytest.raises(QueueDecryptError, match=tx_id):
            queue.get(tx_id)
    assert [tx.id for tx in queue.due_batch()] == [intact]
    assert queue.counts() == {"pending": 1, "sent": 0, "rejected": 3}


def test_cipher_refuses_what_it_did_not_seal() -> None:
    cipher = FieldCipher(os.urandom(32))
    value = cipher.seal("tx", "fields", b"{}")
    assert cipher.open("tx", "fields", value) == b"{}"
    for tx_id, column, bad in [
        ("tx", "identity", value),
        ("other", "fields", value),
        ("tx", "fields", b"v2" + value[2:]),
        ("tx", "fields", value[:20]),
        ("tx", "fields", '{"phone": "13912345678"}'),  # a version-1 plaintext value
    ]:
        with pytest.raises(QueueDecryptError):
            cipher.open(tx_id, column, bad)


# --- the key file ---------------------------------------------------------------------------


def test_key_file_is_private_and_reused(db_path: Path) -> None:
    old_umask = os.umask(0)  # the file must not depend on a careful umask
    try:
        with OfflineQueue(db_path) as q:
            tx_id = q.enqueue("s", FIELDS, IDENTITY)
            key_file = q.key_file
    finally:
        os.umask(old_umask)
    assert key_file == db_path.with_name("queue.key")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = key_file.read_bytes()
    assert len(key) == 32
    assert not key_file.with_name("queue.key.new").exists()

    with OfflineQueue(db_path) as q:
        assert q.get(tx_id).identity == IDENTITY
    assert key_file.read_bytes() == key


def test_key_file_can_live_elsewhere(db_path: Path, tmp_path: Path) -> None:
    key_file = tmp_path / "keys" / "kiosk.key"
    with OfflineQueue(db_path, key_file=key_file) as q:
        tx_id = q.enqueue("s", FIELDS, IDENTITY)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not db_path.with_name("queue.key").exists()
    with OfflineQueue(db_path, key_file=str(key_file)) as q:
        assert q.get(tx_id).fields == FIELDS


def test_a_half_made_key_from_a_power_cut_is_never_used(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.with_name("queue.key.new").write_bytes(b"\x00" * 7)
    with OfflineQueue(db_path) as q:
        assert len(q.key_file.read_bytes()) == 32
    assert not db_path.with_name("queue.key.new").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_unreadable_key_file_is_an_error(db_path: Path) -> None:
    with OfflineQueue(db_path) as q:
        q.enqueue("s", {})
    key_file = db_path.with_name("queue.key")
    key_file.chmod(0)
    try:
        with pytest.raises(QueueError, match="cannot read the queue key file"):
            OfflineQueue(db_path)
    finally:
        key_file.chmod(0o600)


def test_loose_key_permissions_are_tightened_with_a_warning(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with OfflineQueue(db_path) as q:
        tx_id = q.enqueue("s", FIELDS)
    key_file = db_path.with_name("queue.key")
    key_file.chmod(0o644)

    with caplog.at_level(logging.WARNING), OfflineQueue(db_path) as q:
        assert q.get(tx_id).fields == FIELDS
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert "tightened" in caplog.text and str(key_file) in caplog.text


@pytest.mark.parametrize("content", [b"", b"short", os.urandom(33)])
def test_a_damaged_key_file_is_an_error_and_never_replaced(
    db_path: Path, content: bytes
) -> None:
    with OfflineQueue(db_path) as q:
        q.enqueue("s", FIELDS, IDENTITY)
    write_key(db_path.with_name("queue.key"), content)

    with pytest.raises(QueueError, match="damaged"):
        OfflineQueue(db_path)
    assert db_path.with_name("queue.key").read_bytes() == content


def test_a_missing_key_is_an_error_while_rows_need_it(db_path: Path) -> None:
    with OfflineQueue(db_path) as q:
        q.enqueue("s", FIELDS, IDENTITY)
    db_path.with_name("queue.key").unlink()

    with pytest.raises(QueueError, match="missing"):
        OfflineQueue(db_path)
    assert not db_path.with_name("queue.key").exists()  # no new key over the lost one


def test_a_missing_key_is_made_again_when_nothing_needs_it(db_path: Path) -> None:
    with OfflineQueue(db_path) as q:
        q.counts()
    db_path.with_name("queue.key").unlink()
    with OfflineQueue(db_path) as q:
        q.enqueue("s", FIELDS)
    assert db_path.with_name("queue.key").stat().st_size == 32


# --- migration from version 1 ---------------------------------------------------------------

V1_ROWS = [
    # id, created_ts, identity, fields, state, sent_at, reason
    ("a1", T0, IDENTITY, FIELDS, "pending", None, None),
    ("a2", T0, None, {"card": "A1", "name": NAME}, "pending", None, None),
    ("a3", T0 - 2 * HOUR, IDENTITY, {"phone": PHONE}, "sent", "2026-11-24T08:00:00Z", None),
    ("a4", T0 - HOUR, IDENTITY, {"note": "文三路"}, "rejected", None, "bad id"),
]
GONE = ("李四", "110101198001010015")  # only in a row deleted before the migration


def make_v1_queue(path: Path) -> None:
    """A version-1 queue as a kiosk leaves it at a power cut: part of it still in the -wal,
    and an old row deleted without secure_delete, so its bytes linger in free space."""

    def row(tx_id, created_ts, identity, fields, state, sent_at, reason):
        return (tx_id, "hpf-withdraw", 1, "2026-11-24T09:30:00Z", created_ts,
                None if identity is None else json.dumps(identity, ensure_ascii=False),
                json.dumps(fields, ensure_ascii=False), state, sent_at, reason)

    insert = ("INSERT INTO transactions (id, service_id, menu_version, created_at, created_ts,"
              " identity, fields, state, sent_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    scratch = path.parent / "scratch" / path.name
    scratch.parent.mkdir(parents=True)
    conn = sqlite3.connect(scratch, isolation_level=None)
    conn.execute("PRAGMA journal_mode = wal")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("PRAGMA secure_delete = OFF")  # SQLite's default, though Debian's build has ON
    conn.executescript(V1_DDL)
    with conn:
        # Long fields spill to overflow pages: deleted, those become free pages, which only
        # VACUUM rewrites (secure_delete cannot zero what was freed before it was on).
        gone = {"name": GONE[0], "id_number": GONE[1]}
        scan = {"scan": f"{GONE[0]} {GONE[1]} {'x' * 4000}" * 12}
        conn.execute(insert, row("gone", T0, gone, scan, "pending", None, None))
        conn.executemany(insert, [row(*r) for r in V1_ROWS[:2]])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    with conn:
        conn.execute("DELETE FROM transactions WHERE id = 'gone'")
        conn.executemany(insert, [row(*r) for r in V1_ROWS[2:]])
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal"):  # copied while open: the -wal is not checkpointed
        shutil.copyfile(f"{scratch}{suffix}", f"{path}{suffix}")
    conn.close()
    shutil.rmtree(scratch.parent)


def test_v1_queue_is_migrated_and_no_plaintext_is_left(db_path: Path, clock) -> None:
    make_v1_queue(db_path)
    before = files_of(db_path)
    assert all(s.encode() in before for s in (*SECRETS, *GONE))  # the search can see them

    with OfflineQueue(db_path, clock=clock) as q:
        assert q._db.execute("PRAGMA user_version").fetchone()[0] == schema.schema_version()
        for tx_id, _, identity, fields, state, sent_at, reason in V1_ROWS:
            tx = q.get(tx_id)
            assert (tx.identity, tx.fields, tx.state, tx.sent_at, tx.reason) == (
                identity, fields, state, sent_at, reason,
            )
        assert [tx.id for tx in q.due_batch()] == ["a1", "a2"]  # order kept
        settled = q._db.execute("SELECT settled_hour FROM transactions WHERE id = 'a3'")
        assert settled.fetchone()[0] == T0 - 1.5 * HOUR  # 08:00:00, a whole hour already
        assert q.get("gone") is None
        assert_no_secrets(files_of(db_path), (*SECRETS, *GONE, *CLEAR_BEFORE_V4))
    assert_no_secrets(files_of(db_path), (*SECRETS, *GONE, *CLEAR_BEFORE_V4))
    assert stat.S_IMODE(db_path.with_name("queue.key").stat().st_mode) == 0o600


def test_a_failed_v1_migration_keeps_the_plaintext_queue(
    db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_v1_queue(db_path)

    def broken(db, cipher):
        raise sqlite3.OperationalError("disk I/O error")

    steps = list(schema.MIGRATIONS[1])
    steps[steps.index(schema._seal_v1_rows)] = broken
    monkeypatch.setattr(schema, "MIGRATIONS", [schema.MIGRATIONS[0], tuple(steps)])
    with pytest.raises(QueueError, match="version 1 to 2"):
        OfflineQueue(db_path)

    monkeypatch.undo()
    with OfflineQueue(db_path) as q:
        assert q.get("a1").identity == IDENTITY


# --- retention purge ------------------------------------------------------------------------


def test_purge_deletes_only_sent_rows_past_retention(
    queue: OfflineQueue, clock, db_path: Path
) -> None:
    old_sent, new_sent, rejected, pending = (
        queue.enqueue("hpf-withdraw", {"n": n, **FIELDS}, IDENTITY) for n in range(4)
    )
    queue.mark_sent([old_sent])
    queue.mark_rejected(rejected, "bad id")
    clock.advance(10 * HOUR)
    queue.mark_sent([new_sent])
    purged_values = sealed(queue, old_sent)
    kept_values = [v for tx_id in (new_sent, rejected, pending) for v in sealed(queue, tx_id)]
    # old_sent was sent 24 h 30 min and 1 s ago (its settle hour, 10:00, is 24 h and 1 s
    # ago); new_sent 14 h 30 min ago.
    clock.advance(14 * HOUR + 30 * 60 + 1)

    assert queue.purge_personal() == 1
    assert queue.get(old_sent) is None  # deleted, not blanked
    assert queue._db.execute("SELECT COUNT(*) FROM transactions WHERE id = ?",
                             (old_sent,)).fetchone()[0] == 0
    for tx_id in (new_sent, rejected, pending):
        assert queue.get(tx_id).identity == IDENTITY and queue.get(tx_id).purged_at is None
    assert queue.counts() == {"pending": 1, "sent": 1, "rejected": 1}
    assert queue.purge_personal() == 0

    data = files_of(db_path)  # secure_delete: the deleted bytes are zeroed, not just freed
    assert all(value not in data for value in purged_values)
    assert old_sent.encode() not in data
    assert all(value in data for value in kept_values)  # the search works

    assert queue.purge_personal(retention_s=14 * HOUR, now=T0 + 25 * HOUR + 2) == 1
    assert queue.get(new_sent) is None
    assert queue.get(rejected).fields == {"n": 2, **FIELDS}  # rejected: kept for technicians


def test_purge_deletes_rejected_rows_after_their_own_retention(
    queue: OfflineQueue, clock, db_path: Path
) -> None:
    rejected = queue.enqueue("hpf-withdraw", FIELDS, IDENTITY)
    reason = f"身份证号 {ID_NUMBER} 与姓名 {NAME} 不符"  # the central may name the resident
    queue.mark_rejected(rejected, reason)
    assert queue.get(rejected).reason == reason
    assert_no_secrets(files_of(db_path), (*SECRETS, *CLEAR_BEFORE_V4, "不符"))

    clock.advance(29 * 24 * HOUR)
    assert queue.purge_personal() == 0  # the default: 30 days
    clock.advance(24 * HOUR + HOUR)  # past 30 days after the settle hour (10:00)
    assert queue.purge_personal() == 1
    assert queue.get(rejected) is None and rejected.encode() not in files_of(db_path)

    kept = queue.enqueue("s", FIELDS)
    queue.mark_rejected(kept, "bad")
    assert queue.purge_personal(rejected_retention_s=2 * HOUR, now=clock.now + HOUR) == 0
    assert queue.purge_personal(rejected_retention_s=2 * HOUR, now=clock.now + 3 * HOUR) == 1


def test_purged_rows_leave_the_migrated_v1_file_too(db_path: Path, clock) -> None:
    make_v1_queue(db_path)
    clock.advance(24 * HOUR)
    with OfflineQueue(db_path, clock=clock) as q:
        value = sealed(q, "a3")[1]
        assert q.purge_personal() == 1  # a3, sent 2026-11-24T08:00:00Z
        assert q.get("a3") is None
        assert q.get("a4").fields == {"note": "文三路"}
    assert value not in files_of(db_path)


def test_purge_uses_its_index(queue: OfflineQueue) -> None:
    plan = " ".join(
        str(row) for row in queue._db.execute(
            "EXPLAIN QUERY PLAN DELETE FROM transactions"
            " WHERE state = 'sent' AND settled_hour <= ?", (0.0,),
        )
    )
    assert "transactions_settled" in plan


@pytest.mark.parametrize("retention_s", [-1, float("nan"), "1", True, None])
def test_purge_rejects_a_bad_retention(queue: OfflineQueue, retention_s: object) -> None:
    with pytest.raises(ValueError):
        queue.purge_personal(retention_s=retention_s)
    with pytest.raises(ValueError):
        queue.purge_personal(rejected_retention_s=retention_s)


def test_secure_delete_is_on(queue: OfflineQueue) -> None:
    assert queue._db.execute("PRAGMA secure_delete").fetchone()[0] == 1
