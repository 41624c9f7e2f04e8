"""Issue #12 at rest: file modes, the systemd credential key, the v2 migration, salvage."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import stat
import subprocess
from pathlib import Path

import pytest

from offline_queue import OfflineQueue, schema
from offline_queue.crypto import FieldCipher

T0 = 1795512600.0
NAME, ID_NUMBER, PHONE = "王秀英", "330106195503120016", "13912345678"
IDENTITY = {"method": "ga467", "id_number": ID_NUMBER, "name": NAME}
FIELDS = {"phone": PHONE}
CLEAR = (NAME, ID_NUMBER, PHONE, "hpf-withdraw", "2026-11-24T09:30:00Z", "bad id")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def files_of(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file())


def assert_clear_of(data: bytes, secrets=CLEAR) -> None:
    for secret in secrets:
        assert secret.encode() not in data, secret


# --- modes ----------------------------------------------------------------------------------


def test_folder_and_files_are_private(db_path: Path, clock) -> None:
    os.umask(0o022)  # the usual umask: what it would give is 0755 / 0644
    with OfflineQueue(db_path, clock=clock) as q:
        q.enqueue("s", FIELDS, IDENTITY)
        names = sorted(p.name for p in db_path.parent.iterdir())
        assert names == ["queue.db", "queue.db-shm", "queue.db-wal", "queue.key",
                         "queue.reserve"]
        assert mode(db_path.parent) == 0o700
        for name in names:
            assert mode(db_path.parent / name) == 0o600, name


def test_a_loose_folder_and_files_are_tightened(
    db_path: Path, clock, caplog: pytest.LogCaptureFixture
) -> None:
    with OfflineQueue(db_path, clock=clock) as q:
        q.enqueue("s", FIELDS)
    db_path.parent.chmod(0o755)
    db_path.chmod(0o644)
    db_path.with_name("queue.key").chmod(0o644)
    with caplog.at_level(logging.WARNING), OfflineQueue(db_path, clock=clock) as q:
        assert q.counts()["pending"] == 1
    assert mode(db_path.parent) == 0o700
    assert mode(db_path) == mode(db_path.with_name("queue.key")) == 0o600
    assert "tightened it to 700" in caplog.text and "tightened it to 600" in caplog.text


# --- the key from the systemd credential -----------------------------------------------------


def test_credential_key_wins_over_the_key_file(
    db_path: Path, tmp_path: Path, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    creds = tmp_path / "creds"
    creds.mkdir()
    key = os.urandom(32)
    (creds / "queue-key").write_bytes(key)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    with OfflineQueue(db_path, clock=clock) as q:
        tx_id = q.enqueue("s", FIELDS, IDENTITY)
        sealed = q._db.execute("SELECT fields FROM transactions").fetchone()[0]
    assert not db_path.with_name("queue.key").exists()  # no key file made beside the data
    assert json.loads(FieldCipher(key).open(tx_id, "fields", sealed)) == FIELDS

    (creds / "queue-key").write_bytes(b"short")
    with pytest.raises(Exception, match="not 32"):
        OfflineQueue(db_path, clock=clock)


@pytest.mark.skipif(shutil.which("systemd-creds") is None,
                    reason="systemd-creds is not installed (Debian package systemd)")
def test_credential_made_with_real_systemd_creds(
    db_path: Path, tmp_path: Path, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = tmp_path / "queue.key.plain"
    plain.write_bytes(os.urandom(32))
    cred = tmp_path / "queue-key.cred"
    run = [["systemd-creds", "encrypt", "--with-key=host", "--name=queue-key", plain, cred]]
    subprocess.run(*run, check=True, capture_output=True)
    assert plain.read_bytes() not in cred.read_bytes()
    # What LoadCredentialEncrypted=queue-key:<cred> does: the decrypted file in a private folder.
    creds = tmp_path / "credentials"
    creds.mkdir(mode=0o700)
    subprocess.run(["systemd-creds", "decrypt", "--name=queue-key", cred, creds / "queue-key"],
                   check=True, capture_output=True)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))

    with OfflineQueue(db_path, clock=clock) as q:
        tx_id = q.enqueue("hpf-withdraw", FIELDS, IDENTITY)
    assert_clear_of(files_of(db_path.parent))
    with OfflineQueue(db_path, clock=clock) as q:
        assert q.get(tx_id).identity == IDENTITY
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path / "none"))
    db_path.with_name("queue.key").write_bytes(plain.read_bytes())  # the same key as a file
    with OfflineQueue(db_path, clock=clock) as q:
        assert q.get(tx_id).fields == FIELDS


# --- migration of a version-2 database --------------------------------------------------------


def make_v2_queue(path: Path, key: bytes) -> None:
    """A version-2 queue as that version wrote it: identity and fields sealed, the rest clear."""
    cipher = FieldCipher(key)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA secure_delete = OFF")
    for version in range(2):
        for step in schema.MIGRATIONS[version]:
            if isinstance(step, str):
                conn.execute(step)
    conn.execute("PRAGMA user_version = 2")
    rows = [("b1", "pending", None, None), ("b2", "sent", "2026-11-24T08:00:00Z", None),
            ("b3", "rejected", None, "bad id")]
    for n, (tx_id, state, sent_at, reason) in enumerate(rows):
        conn.execute(
            "INSERT INTO transactions (id, service_id, menu_version, created_at, created_ts,"
            " identity, fields, state, sent_at, sent_ts, reason, last_error)"
            " VALUES (?, 'hpf-withdraw', 7, '2026-11-24T09:30:00Z', ?, ?, ?, ?, ?, ?, ?, ?)",
            (tx_id, T0 + n,
             cipher.seal(tx_id, "identity", json.dumps(IDENTITY).encode()),
             cipher.seal(tx_id, "fields", json.dumps(FIELDS).encode()), state, sent_at,
             None if sent_at is None else T0 - 1.5 * 3600, reason, "timed out"))
    conn.close()


def test_v2_queue_is_migrated_without_losing_a_row(db_path: Path, clock) -> None:
    db_path.parent.mkdir(mode=0o700)
    key = os.urandom(32)
    db_path.with_name("queue.key").write_bytes(key)
    make_v2_queue(db_path, key)
    assert b"hpf-withdraw" in files_of(db_path.parent)  # the search can see it

    with OfflineQueue(db_path, clock=clock) as q:
        assert q.counts() == {"pending": 1, "sent": 1, "rejected": 1}
        for tx_id, state in (("b1", "pending"), ("b2", "sent"), ("b3", "rejected")):
            tx = q.get(tx_id)
            assert (tx.service_id, tx.menu_version, tx.created_at, tx.state) == (
                "hpf-withdraw", 7, "2026-11-24T09:30:00Z", state)
            assert (tx.identity, tx.fields, tx.last_error) == (IDENTITY, FIELDS, "timed out")
        assert q.get("b2").sent_at == "2026-11-24T08:00:00Z"
        assert q.get("b3").reason == "bad id"
        assert [tx.id for tx in q.due_batch()] == ["b1"]
        assert q.oldest_pending_age_s(T0 + 10) == 10
    assert_clear_of(files_of(db_path.parent))


# --- salvage of a corrupt queue ---------------------------------------------------------------


def fill(db_path: Path, clock, n: int) -> list[str]:
    with OfflineQueue(db_path, clock=clock) as q:
        ids = [q.enqueue("hpf-withdraw", {"n": k, "pad": "填充" * 50}, IDENTITY)
               for k in range(n)]
        q.mark_rejected(ids[0], "bad id")
        q.mark_sent([ids[1]])
        q._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return ids


def test_truncated_queue_is_salvaged_with_its_ids(db_path: Path, clock) -> None:
    ids = fill(db_path, clock, 300)
    size = db_path.stat().st_size
    with db_path.open("r+b") as f:
        f.truncate(size - 6 * 4096)  # the tail pages lost, e.g. at a power cut

    with OfflineQueue(db_path, clock=clock) as q:
        assert q.recovered_from is not None
        aside = Path(q.recovered_from)
        (notice,) = q.notices()
        assert notice["file"] == Path(q.recovered_from).name and notice["unreadable"] > 0
        pending = q.due_batch(limit=1000)
        assert len(pending) == notice["salvaged"] - 1  # the rejected one is kept, not pending
        assert {tx.id for tx in pending} <= set(ids[2:])
        assert all(tx.identity == IDENTITY and tx.service_id == "hpf-withdraw" for tx in pending)
        assert q.get(ids[0]).reason == "bad id" and q.get(ids[1]) is None  # sent: not needed
        assert len(pending) + 2 + notice["unreadable"] == 300
        assert mode(q.path.with_name("queue.db.notices")) == 0o600

    with OfflineQueue(db_path, clock=clock) as q:  # the notice stays until cleared
        assert q.notices() == [notice]
        assert q.clear_notices() == 1
        assert q.notices() == []
    assert not aside.exists()  # the moved file, with personal data, is gone
    assert sorted(p.name for p in db_path.parent.iterdir()) == ["queue.db", "queue.key",
                                                                "queue.reserve"]


def test_a_fully_readable_corrupt_queue_is_salvaged_and_deleted(db_path: Path, clock) -> None:
    ids = fill(db_path, clock, 5)
    conn = sqlite3.connect(db_path)  # an index page smashed: quick_check fails, rows readable
    root = conn.execute("SELECT rootpage FROM sqlite_master"
                        " WHERE name = 'transactions_settled'").fetchone()
    conn.close()
    with db_path.open("r+b") as f:
        f.seek((root[0] - 1) * 4096)
        f.write(b"\xff" * 4096)

    with OfflineQueue(db_path, clock=clock) as q:
        assert q.recovered_from is not None
        assert q.notices() == []
        assert sorted(tx.id for tx in q.due_batch()) == sorted(ids[2:])
    assert not Path(q.recovered_from).exists()


def test_garbage_counts_as_unknown(db_path: Path, clock) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"not a database" * 500)
    with OfflineQueue(db_path, clock=clock) as q:
        (notice,) = q.notices()
        assert (notice["salvaged"], notice["unreadable"]) == (0, None)


def test_heartbeat_and_fleet_page_report_unreadable_rows(db_path: Path, clock) -> None:
    from central.fleet import _queue
    from uplink.heartbeat import build_heartbeat

    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"not a database" * 500)
    with OfflineQueue(db_path, clock=clock) as q:
        beat = build_heartbeat(kiosk_id="K", app_version="0.4.0", menu_version=1, counts=q.counts(),
                               oldest_pending_s=None, devices={}, queue_notices=q.notices())
    (notice,) = beat["queue"]["unreadable"]
    assert notice["file"].startswith("queue.db.corrupt-") and notice["unreadable"] is None
    assert _queue(beat["queue"])["unreadable"] == [{"file": notice["file"], "unreadable": None}]
