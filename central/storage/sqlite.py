"""The embedded store: one SQLite file, for demos, tests and a single small site.

One connection behind one lock, so the database has one writer in a process; ``BEGIN
IMMEDIATE`` serialises writers of several processes on one file. WAL lets ``kiosk-central
stats`` read while the server writes. ``synchronous=FULL``: a kiosk deletes a transaction once
it has read ``accepted``, so an answered batch must survive a power cut.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..errors import StoreError, VersionTaken
from ..wire import IncomingTransaction
from .base import (
    ACCEPTED,
    HEARTBEAT_HISTORY,
    MENU_COLUMNS,
    SCHEMA_VERSION,
    Ingested,
    SqliteStatements,
    classify,
    menu_record,
    merge_kiosk_stats,
    transaction_record,
    tx_rows,
)
from .commands import SqliteCommands
from .drafts import SqliteDrafts
from .heartbeats import SqliteHeartbeats
from .releases import SQLITE_TABLES, ReleaseTables

_TABLES = """
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY,            -- the kiosk's UUID, lower case: the idempotency key
    kiosk_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    menu_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    identity TEXT,                  -- JSON or NULL, personal data
    fields TEXT NOT NULL,           -- JSON ('null' once purged), personal data
    digest TEXT NOT NULL,           -- SHA-256 of the content: resends with other content
    received_at REAL NOT NULL,
    delivered_at REAL,              -- outbox: NULL until the platform's receiver took it
    next_attempt_at REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    purged_at REAL                  -- personal data removed at
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heartbeats (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kiosk_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kiosk_state (
    kiosk_id TEXT PRIMARY KEY,      -- the latest heartbeat of every kiosk
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS menus (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    version INTEGER NOT NULL,
    target_kind TEXT NOT NULL,      -- 'all', 'group' or 'kiosk'
    target TEXT NOT NULL,           -- '' for all, else the group name or the kiosk id
    key_id TEXT NOT NULL,
    etag TEXT NOT NULL,
    body BLOB NOT NULL,             -- the signed bundle exactly as kiosks receive it
    admin TEXT NOT NULL,
    published_at REAL NOT NULL,
    UNIQUE (target_kind, target, version)
);
"""
_OUTBOX_COLUMNS = (("delivered_at", "REAL"), ("next_attempt_at", "REAL NOT NULL DEFAULT 0"),
                   ("attempts", "INTEGER NOT NULL DEFAULT 0"), ("purged_at", "REAL"))
_INDEXES = """
CREATE INDEX IF NOT EXISTS transactions_kiosk ON transactions (kiosk_id, received_at);
CREATE INDEX IF NOT EXISTS transactions_outbox ON transactions (next_attempt_at)
    WHERE delivered_at IS NULL;
CREATE INDEX IF NOT EXISTS transactions_delivered ON transactions (delivered_at)
    WHERE delivered_at IS NOT NULL AND purged_at IS NULL;
CREATE INDEX IF NOT EXISTS heartbeats_kiosk ON heartbeats (kiosk_id, seq);
"""
_TX_COLUMNS = ("id, kiosk_id, service_id, menu_version, created_at, identity, fields, "
               "received_at, delivered_at, purged_at")
_MENUS = ", ".join(MENU_COLUMNS)


class SqliteStore(SqliteStatements, ReleaseTables, SqliteCommands, SqliteDrafts,
                  SqliteHeartbeats):
    """``Store`` on one SQLite file. Open with ``SqliteStore.open(path)``; ``close()`` or a
    ``with`` block releases it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *,
                 heartbeat_history: int = HEARTBEAT_HISTORY) -> None:
        self.path = path
        self.heartbeat_history = heartbeat_history
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path, *,
             heartbeat_history: int = HEARTBEAT_HISTORY) -> SqliteStore:
        """Open (or create) the file; an older schema is upgraded in place, keeping data."""
        path = Path(path)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=30.0)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the database ({exc})") from None
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("BEGIN IMMEDIATE")
            _create_or_upgrade(conn, path)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"{path}: not a usable database ({exc})") from None
        except StoreError:
            conn.close()
            raise
        return cls(conn, path, heartbeat_history=heartbeat_history)

    @classmethod
    def open_readonly(cls, path: str | Path) -> SqliteStore:
        """Open an existing database for reading only (``kiosk-central stats``)."""
        path = Path(path)
        if not path.is_file():
            raise StoreError(f"{path}: no such database")
        try:
            conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True,
                                   check_same_thread=False)
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: not a usable database ({exc})") from None
        if version != SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{path}: not a kiosk-central database of schema "
                             f"{SCHEMA_VERSION} (found {version}; a serve upgrades it)")
        return cls(conn, path)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self.path}: the store is closed")
            yield self._conn

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One SQLite transaction: committed when the block ends, rolled back if it raises."""
        with self._db() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                raise

    # -- transactions ----------------------------------------------------------------------

    def ingest(self, kiosk_id: str, items: Iterable[IncomingTransaction],
               now: float | None = None) -> list[Ingested]:
        """Store each transaction unless its id is stored; the whole batch is one SQLite
        transaction (one commit, one fsync, all or nothing)."""
        rows = tx_rows(kiosk_id, items, time.time() if now is None else now)
        new: set[str] = set()
        stored: dict[str, str] = {}
        with self._write() as db:
            for r in rows:
                cur = db.execute(
                    "INSERT INTO transactions (id, kiosk_id, service_id, menu_version, "
                    "created_at, identity, fields, digest, received_at) VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                    (r.key, r.kiosk_id, r.service_id, r.menu_version, r.created_at,
                     r.identity, r.fields, r.digest, r.received_at))
                if cur.rowcount == 1:
                    new.add(r.key)
                elif r.key not in new:
                    stored[r.key] = db.execute("SELECT digest FROM transactions WHERE id = ?",
                                               (r.key,)).fetchone()[0]
        return classify(rows, new, stored)

    def add_transactions(self, kiosk_id: str, items: Iterable[IncomingTransaction],
                         now: float | None = None) -> list[bool]:
        """``ingest`` as True where the transaction was new."""
        return [i.status == ACCEPTED for i in self.ingest(kiosk_id, items, now)]

    def transactions_count(self, kiosk_id: str | None = None) -> int:
        with self._db() as db:
            if kiosk_id is None:
                return db.execute("SELECT count(*) FROM transactions").fetchone()[0]
            return db.execute("SELECT count(*) FROM transactions WHERE kiosk_id = ?",
                              (kiosk_id,)).fetchone()[0]

    def transaction(self, transaction_id: str) -> dict[str, Any] | None:
        """One stored transaction with its personal data (None once purged), or None."""
        with self._db() as db:
            row = db.execute(f"SELECT {_TX_COLUMNS} FROM transactions WHERE id = ?",
                             (transaction_id.lower(),)).fetchone()
        return None if row is None else transaction_record(row)

    # -- outbox ----------------------------------------------------------------------------

    def claim_outbox(self, limit: int, lease_s: float,
                     now: float | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` undelivered transactions that are due, oldest first, each held
        for ``lease_s`` (no other claim gets them meanwhile; after it they are due again)."""
        now = time.time() if now is None else now
        with self._write() as db:
            rows = db.execute(f"SELECT {_TX_COLUMNS}, attempts FROM transactions "
                              "WHERE delivered_at IS NULL AND next_attempt_at <= ? "
                              "ORDER BY next_attempt_at, received_at, id LIMIT ?",
                              (now, limit)).fetchall()
            db.executemany("UPDATE transactions SET next_attempt_at = ?, "
                           "attempts = attempts + 1 WHERE id = ?",
                           [(now + lease_s, r[0]) for r in rows])
        return [{**transaction_record(r), "attempts": r[-1] + 1} for r in rows]

    def mark_delivered(self, ids: Sequence[str], now: float | None = None) -> None:
        now = time.time() if now is None else now
        with self._write() as db:
            db.executemany("UPDATE transactions SET delivered_at = ? WHERE id = ? "
                           "AND delivered_at IS NULL", [(now, i) for i in ids])

    def retry_later(self, ids: Sequence[str], at: float) -> None:
        with self._write() as db:
            db.executemany("UPDATE transactions SET next_attempt_at = ? WHERE id = ? "
                           "AND delivered_at IS NULL", [(at, i) for i in ids])

    def purge_delivered(self, before: float, now: float | None = None) -> int:
        """Remove the personal data of transactions delivered before ``before``; the id and
        the content hash stay, so a resend is still recognised. Returns how many."""
        now = time.time() if now is None else now
        with self._write() as db:
            cur = db.execute("UPDATE transactions SET identity = NULL, fields = 'null', "
                             "purged_at = ? WHERE delivered_at IS NOT NULL AND "
                             "delivered_at < ? AND purged_at IS NULL", (now, before))
            return cur.rowcount

    def outbox_stats(self) -> dict[str, int]:
        with self._db() as db:
            pending, delivered, purged = db.execute(
                "SELECT count(*) FILTER (WHERE delivered_at IS NULL), "
                "count(*) FILTER (WHERE delivered_at IS NOT NULL), "
                "count(*) FILTER (WHERE purged_at IS NOT NULL) FROM transactions").fetchone()
        return {"outbox_pending": pending, "outbox_delivered": delivered, "purged": purged}

    # -- published menus -------------------------------------------------------------------

    def add_menu(self, *, version: int, target_kind: str, target: str, key_id: str, etag: str,
                 body: bytes, admin: str, now: float | None = None) -> dict[str, Any]:
        """Keep one published bundle; every version stays. Returns its record (no body)."""
        published_at = time.time() if now is None else now
        try:
            with self._write() as db:
                cur = db.execute("INSERT INTO menus (version, target_kind, target, key_id, "
                                 "etag, body, admin, published_at) VALUES (?, ?, ?, ?, ?, ?, "
                                 "?, ?)", (version, target_kind, target, key_id, etag, body,
                                           admin, published_at))
                seq = cur.lastrowid
        except sqlite3.IntegrityError:
            raise VersionTaken(f"version {version} is already kept for {target_kind} "
                               f"{target!r}") from None
        return menu_record((seq, version, target_kind, target, key_id, etag, admin,
                            published_at))

    def menu_records(self) -> list[dict[str, Any]]:
        """Every published bundle's record, newest publication first (no bodies)."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_MENUS} FROM menus ORDER BY seq DESC").fetchall()
        return [menu_record(r) for r in rows]

    def newest_menus(self) -> list[tuple[dict[str, Any], bytes]]:
        """``(record, body)`` of the greatest version published for each target."""
        with self._db() as db:
            rows = db.execute(
                f"SELECT {_MENUS}, body FROM menus AS m WHERE version = (SELECT "
                "max(version) FROM menus WHERE target_kind = m.target_kind AND "
                "target = m.target) ORDER BY seq").fetchall()
        return [(menu_record(r[:-1]), bytes(r[-1])) for r in rows]

    def menus_generation(self) -> int:
        """Grows with every publication: a process compares it to notice another's."""
        with self._db() as db:
            return db.execute("SELECT coalesce(max(seq), 0) FROM menus").fetchone()[0]

    def menu_body(self, seq: int) -> bytes | None:
        with self._db() as db:
            row = db.execute("SELECT body FROM menus WHERE seq = ?", (seq,)).fetchone()
        return None if row is None else bytes(row[0])

    # -- reports ---------------------------------------------------------------------------

    def kiosk_stats(self) -> list[dict[str, Any]]:
        """Per kiosk: transactions stored, the last received, the last heartbeat time."""
        with self._db() as db:
            tx = db.execute("SELECT kiosk_id, count(*), max(received_at) FROM transactions "
                            "GROUP BY kiosk_id").fetchall()
            hb = db.execute("SELECT kiosk_id, received_at FROM kiosk_state").fetchall()
        return merge_kiosk_stats(tx, hb)


def _create_or_upgrade(conn: sqlite3.Connection, path: Path) -> None:
    """Create the schema, or bring an older one to ``SCHEMA_VERSION`` keeping every row."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: written by a newer kiosk-central (schema {version},"
                         f" this one knows {SCHEMA_VERSION})")
    for statement in ";".join((_TABLES, SQLITE_TABLES, SqliteDrafts.TABLES)).split(";"):
        if statement.strip():
            conn.execute(statement)
    have = {r[1] for r in conn.execute("PRAGMA table_info(transactions)")}
    for name, decl in _OUTBOX_COLUMNS:
        if name not in have:
            conn.execute(f"ALTER TABLE transactions ADD COLUMN {name} {decl}")
    for statement in (_INDEXES + SqliteCommands.TABLES).split(";"):
        if statement.strip():
            conn.execute(statement)
    if 0 < version < 3:  # the latest heartbeat of each kiosk becomes its state
        conn.execute("INSERT OR IGNORE INTO kiosk_state SELECT kiosk_id, received_at, body "
                     "FROM heartbeats AS h WHERE seq = (SELECT max(seq) FROM heartbeats "
                     "WHERE kiosk_id = h.kiosk_id)")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

