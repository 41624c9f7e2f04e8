"""Opening the queue's SQLite file durably, and moving a corrupt one aside."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import NoReturn

import sqlite_utils

from .errors import QueueError
from .schema import migrate

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_CORRUPTION_CODES = {sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB}


class _CorruptDatabase(Exception):
    """The file exists but is not a usable database; the caller moves it aside."""


def open_database(path: Path, now: float) -> tuple[sqlite_utils.Database, str | None]:
    """Open (creating if needed) the queue database at ``path``.

    Returns the database and, when the file found there was corrupt, the path it was moved
    to. A corrupt file is never deleted: it may hold transactions a technician can still save.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise QueueError(f"cannot create the queue folder {path.parent}: {exc}") from exc
    try:
        return _connect(path), None
    except _CorruptDatabase as exc:
        aside = _move_aside(path, now)
        log.warning(
            "queue database %s is corrupt (%s); moved it to %s and started an empty queue",
            path, exc, aside,
        )
    try:
        return _connect(path), str(aside)
    except _CorruptDatabase as exc:
        raise QueueError(f"fresh queue database {path} is unusable: {exc}") from exc


def _connect(path: Path) -> sqlite_utils.Database:
    created = not path.exists()
    if not created:
        _check(path)
    try:
        # check_same_thread=False: the queue is built on the GUI thread but its sync worker
        # uses it from a single-worker executor; OfflineQueue's lock serialises every use.
        conn = sqlite3.connect(path, check_same_thread=False)
    except sqlite3.Error as exc:
        raise QueueError(f"cannot open queue database {path}: {exc}") from exc
    try:
        db = sqlite_utils.Database(conn, execute_plugins=False)
        db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        db.enable_wal()
        if db.journal_mode != "wal":
            log.warning("queue database %s: WAL is not available here", path)
        # Under WAL, synchronous=NORMAL only fsyncs at checkpoints, so transactions committed
        # just before a power cut can roll back. FULL fsyncs the WAL on every commit, so an id
        # that enqueue() returned (and the resident saw) survives a power cut.
        db.execute("PRAGMA synchronous = FULL")
        migrate(db)
    except sqlite3.Error as exc:
        conn.close()
        _raise_open_error(path, exc)
    except BaseException:
        conn.close()
        raise
    if created:
        _fsync_dir(path.parent)
    return db


def _check(path: Path) -> None:
    """Run ``PRAGMA quick_check`` on an existing file without changing it.

    The connection is read-only: closing a read-write one would checkpoint the -wal into the
    file and delete it, destroying evidence if the file turns out to be corrupt.
    """
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise QueueError(f"cannot open queue database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        # quick_check reads every page (cheap at a queue's size); a file that is not a
        # database at all raises SQLITE_NOTADB instead.
        problems = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
    except sqlite3.Error as exc:
        _raise_open_error(path, exc)
    finally:
        conn.close()
    if problems != ["ok"]:
        raise _CorruptDatabase("quick_check: " + "; ".join(problems[:3]))


def _raise_open_error(path: Path, exc: sqlite3.Error) -> NoReturn:
    code = getattr(exc, "sqlite_errorcode", -1) & 0xFF
    if code in _CORRUPTION_CODES:
        raise _CorruptDatabase(str(exc)) from exc
    raise QueueError(f"cannot open queue database {path}: {exc}") from exc


def _move_aside(path: Path, now: float) -> Path:
    """Rename ``path`` and its -wal, -shm, -journal to ``<path>.corrupt-<UTC time>``."""
    stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%dT%H%M%SZ")
    aside = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while aside.exists():
        aside = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    # The -wal goes first: a fresh database next to the old WAL would replay its frames.
    try:
        for suffix in ("-wal", "-shm", "-journal", ""):
            source = Path(f"{path}{suffix}")
            if source.exists():
                os.replace(source, f"{aside}{suffix}")
    except OSError as exc:
        raise QueueError(f"cannot move corrupt queue database {path} aside: {exc}") from exc
    _fsync_dir(path.parent)
    return aside


def _fsync_dir(folder: Path) -> None:
    """Make a file's creation or rename in ``folder`` itself survive a power cut."""
    with contextlib.suppress(OSError):  # best effort: not every platform can open a folder
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
