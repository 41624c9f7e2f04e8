"""Opening the queue file: corrupt files moved aside, and writes that cannot reach the disk."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import pytest

from offline_queue import OfflineQueue, QueueError, QueueWriteError

GARBAGE = b"this is not an SQLite database \x00\xff" * 200


def test_a_healthy_file_is_not_recovered(queue: OfflineQueue) -> None:
    assert queue.recovered_from is None


def test_garbage_file_is_moved_aside_and_a_fresh_queue_works(
    db_path: Path, clock, caplog: pytest.LogCaptureFixture
) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(GARBAGE)

    with caplog.at_level(logging.WARNING), OfflineQueue(db_path, clock=clock) as q:
        assert q.recovered_from == f"{db_path}.corrupt-20261124T093000Z"
        tx_id = q.enqueue("s", {"n": 1})
        assert q.counts()["pending"] == 1

    assert Path(q.recovered_from).read_bytes() == GARBAGE  # kept, never deleted
    assert q.recovered_from in caplog.text
    with OfflineQueue(db_path, clock=clock) as q:
        assert q.recovered_from is None
        assert q.get(tx_id) is not None


def test_wal_and_shm_move_aside_with_the_database(db_path: Path, clock) -> None:
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(GARBAGE)
    Path(f"{db_path}-wal").write_bytes(b"old wal")
    Path(f"{db_path}-shm").write_bytes(b"old shm")

    with OfflineQueue(db_path, clock=clock) as q:
        aside = q.recovered_from

    assert Path(f"{aside}-wal").read_bytes() == b"old wal"
    # The -shm is only an index SQLite rebuilds from the -wal: moved, but its bytes may change.
    assert Path(f"{aside}-shm").exists()
    assert not Path(f"{db_path}-shm").exists() or Path(f"{db_path}-shm").read_bytes() != b"old shm"


def test_damaged_pages_fail_quick_check_and_are_moved_aside(db_path: Path, clock) -> None:
    with OfflineQueue(db_path, clock=clock) as q:
        for n in range(300):
            q.enqueue("s", {"n": n, "padding": "填充" * 50})
    size = db_path.stat().st_size
    assert size > 16 * 4096
    with db_path.open("r+b") as f:  # keep the header page, smash pages further in
        f.seek(8 * 4096)
        f.write(b"\xa5" * (4 * 4096))

    with OfflineQueue(db_path, clock=clock) as q:
        assert q.recovered_from is not None
        # What can be read is salvaged (test_queue_salvage.py); the rest is accounted for.
        (notice,) = q.notices()
        assert notice["unreadable"] > 0
        assert q.counts() == {"pending": 300 - notice["unreadable"], "sent": 0, "rejected": 0}
    assert Path(q.recovered_from).stat().st_size == size


def test_repeated_corruption_never_overwrites_an_earlier_copy(db_path: Path, clock) -> None:
    db_path.parent.mkdir(parents=True)
    asides = []
    for n in range(3):  # the clock does not move: same timestamp every time
        db_path.write_bytes(GARBAGE + bytes([n]))
        Path(f"{db_path}-wal").unlink(missing_ok=True)
        with OfflineQueue(db_path, clock=clock) as q:
            asides.append(q.recovered_from)

    assert len(set(asides)) == 3
    assert [Path(a).read_bytes()[-1] for a in asides] == [0, 1, 2]


def test_a_path_that_cannot_be_opened_is_an_error_not_corruption(tmp_path: Path) -> None:
    path = tmp_path / "queue.db"
    path.mkdir()  # a folder where the file should be

    with pytest.raises(QueueError):
        OfflineQueue(path)
    assert path.is_dir()
    assert list(tmp_path.iterdir()) == [path]


def test_disk_full_makes_enqueue_raise_and_stores_nothing(queue: OfflineQueue) -> None:
    before = queue.enqueue("s", {"n": 0})
    conn = queue._db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the "disk" is now full

    with pytest.raises(QueueWriteError, match="full"):
        for n in range(200):  # the first row may still fit on a page with room
            queue.enqueue("s", {"n": n, "padding": "x" * 2000})
    stored = queue.counts()["pending"]
    assert stored == 1 + n

    conn.execute("PRAGMA max_page_count = 1073741823")  # space freed again
    after = queue.enqueue("s", {"n": "after"})
    assert queue.get(before) is not None and queue.get(after) is not None
    assert queue.counts()["pending"] == stored + 1


def test_read_only_database_makes_every_write_raise(queue: OfflineQueue) -> None:
    tx_id = queue.enqueue("s", {})
    queue._db.conn.execute("PRAGMA query_only = ON")

    with pytest.raises(QueueWriteError):
        queue.enqueue("s", {})
    with pytest.raises(QueueWriteError):
        queue.mark_sent([tx_id])
    with pytest.raises(QueueWriteError):
        queue.mark_failed([tx_id], "timeout", next_attempt_at=0)
    with pytest.raises(QueueWriteError):
        queue.mark_rejected(tx_id, "bad")
    assert queue.get(tx_id).state == "pending"
    assert queue.counts()["pending"] == 1


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_file_makes_enqueue_raise(db_path: Path) -> None:
    with OfflineQueue(db_path) as q:
        q.enqueue("s", {})
    db_path.chmod(0o444)
    try:
        with OfflineQueue(db_path) as q:
            assert q.counts()["pending"] == 1  # still readable for diagnostics
            with pytest.raises(QueueWriteError):
                q.enqueue("s", {})
    finally:
        db_path.chmod(0o644)


def test_a_failed_write_does_not_leave_a_transaction_open(queue: OfflineQueue) -> None:
    queue._db.conn.execute("PRAGMA query_only = ON")
    with pytest.raises(QueueWriteError):
        queue.enqueue("s", {})
    assert not queue._db.conn.in_transaction
    queue._db.conn.execute("PRAGMA query_only = OFF")
    queue.enqueue("s", {})
    assert sqlite3.connect(queue.path).execute("SELECT COUNT(*) FROM transactions").fetchone() == (
        1,
    )


def test_the_check_leaves_a_corrupt_files_wal_untouched(db_path: Path, tmp_path: Path) -> None:
    with OfflineQueue(db_path) as q:
        for n in range(300):
            q.enqueue("s", {"n": n, "padding": "填充" * 50})
    # Reopen, write more, and copy the files while open: what a power cut leaves behind.
    crashed = tmp_path / "crashed" / "queue.db"
    crashed.parent.mkdir()
    with OfflineQueue(db_path) as q:
        q._db.conn.execute("PRAGMA wal_autocheckpoint = 0")
        for n in range(20):
            q.enqueue("s", {"n": n})
        for suffix in ("", "-wal"):
            Path(f"{crashed}{suffix}").write_bytes(Path(f"{db_path}{suffix}").read_bytes())
    wal = Path(f"{crashed}-wal").read_bytes()
    assert wal
    with crashed.open("r+b") as f:  # smash old pages that the -wal does not cover
        f.seek(8 * 4096)
        f.write(b"\xa5" * (4 * 4096))

    with OfflineQueue(crashed) as q:
        aside = q.recovered_from
    assert aside is not None
    assert Path(f"{aside}-wal").read_bytes() == wal
