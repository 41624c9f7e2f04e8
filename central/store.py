"""The central store: received transactions, kiosk heartbeats and published menus in one
SQLite file.

One connection behind one lock, so the database has one writer; WAL lets ``kiosk-central
stats`` read while the server writes. ``synchronous=FULL``: a kiosk deletes a transaction
once it has read ``accepted``, so an answered batch must survive a power cut.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import StoreError
from .wire import IncomingTransaction

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2 added the menus table; a version 1 file is upgraded on open
HEARTBEAT_HISTORY = 1000  # heartbeats kept per kiosk: about 16 hours at one a minute

_SCHEMA = """
CREATE TABLE IF NOT EXISTS transactions (
    id TEXT PRIMARY KEY,            -- the kiosk's UUID, lower case: the idempotency key
    kiosk_id TEXT NOT NULL,
    service_id TEXT NOT NULL,
    menu_version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    identity TEXT,                  -- JSON or NULL; personal data
    fields TEXT NOT NULL,           -- JSON; personal data
    digest TEXT NOT NULL,
    received_at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS transactions_kiosk ON transactions (kiosk_id, received_at);
CREATE TABLE IF NOT EXISTS heartbeats (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kiosk_id TEXT NOT NULL,
    received_at REAL NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS heartbeats_kiosk ON heartbeats (kiosk_id, seq);
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
_MENU_COLUMNS = "seq, version, target_kind, target, key_id, etag, admin, published_at"


class CentralStore:
    """Transactions stored once by id, and the recent heartbeats of every kiosk.

    Open with ``CentralStore.open(path)``; ``close()`` or a ``with`` block releases it.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path, *,
                 heartbeat_history: int = HEARTBEAT_HISTORY) -> None:
        self.path = path
        self.heartbeat_history = heartbeat_history
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.Lock()

    @classmethod
    def open(cls, path: str | Path, *,
             heartbeat_history: int = HEARTBEAT_HISTORY) -> CentralStore:
        path = Path(path)
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False,
                                   timeout=10.0)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the database ({exc})") from None
        try:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreError(f"{path}: written by a newer kiosk-central (schema {version},"
                                 f" this one knows {SCHEMA_VERSION})")
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"{path}: not a usable database ({exc})") from None
        except StoreError:
            conn.close()
            raise
        return cls(conn, path, heartbeat_history=heartbeat_history)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> CentralStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @classmethod
    def open_readonly(cls, path: str | Path) -> CentralStore:
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
        if not 1 <= version <= SCHEMA_VERSION:
            conn.close()
            raise StoreError(f"{path}: not a kiosk-central database of schema "
                             f"{SCHEMA_VERSION} (found {version})")
        return cls(conn, path)

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

    def add_transactions(self, kiosk_id: str, items: Iterable[IncomingTransaction],
                         now: float | None = None) -> list[bool]:
        """Store each transaction unless its id is already stored; True where it was new.

        The whole batch is one SQLite transaction: one commit, one fsync, all or nothing.
        """
        received = time.time() if now is None else now
        rows = [(t.key, kiosk_id, t.service_id, t.menu_version, t.created_at,
                 None if t.identity is None else json.dumps(t.identity, ensure_ascii=False),
                 json.dumps(t.fields, ensure_ascii=False), t.digest(), received) for t in items]
        new: list[bool] = []
        with self._write() as db:
            for row in rows:
                cur = db.execute("INSERT OR IGNORE INTO transactions VALUES "
                                 "(?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
                new.append(cur.rowcount == 1)
                if cur.rowcount != 1:
                    self._note_duplicate(db, row[0], row[7])
        return new

    @staticmethod
    def _note_duplicate(db: sqlite3.Connection, key: str, digest: str) -> None:
        stored = db.execute("SELECT digest FROM transactions WHERE id = ?", (key,)).fetchone()
        if stored is not None and stored[0] != digest:
            # The first copy stays; a kiosk that reuses ids has a bug worth a warning.
            log.warning("transaction %s was sent again with different content; "
                        "the first copy is kept", key)

    def transactions_count(self, kiosk_id: str | None = None) -> int:
        with self._db() as db:
            if kiosk_id is None:
                return db.execute("SELECT count(*) FROM transactions").fetchone()[0]
            return db.execute("SELECT count(*) FROM transactions WHERE kiosk_id = ?",
                              (kiosk_id,)).fetchone()[0]

    def transaction(self, transaction_id: str) -> dict[str, Any] | None:
        """One stored transaction with its personal data, or None."""
        with self._db() as db:
            row = db.execute("SELECT id, kiosk_id, service_id, menu_version, created_at, "
                             "identity, fields, received_at FROM transactions WHERE id = ?",
                             (transaction_id.lower(),)).fetchone()
        if row is None:
            return None
        return {"id": row[0], "kiosk_id": row[1], "service_id": row[2], "menu_version": row[3],
                "created_at": row[4], "identity": None if row[5] is None else json.loads(row[5]),
                "fields": json.loads(row[6]), "received_at": row[7]}

    # -- heartbeats ------------------------------------------------------------------------

    def add_heartbeat(self, kiosk_id: str, body: dict[str, Any],
                      now: float | None = None) -> None:
        """Keep ``body`` as the kiosk's latest heartbeat; drop the oldest beyond the history."""
        received = time.time() if now is None else now
        text = json.dumps(body, ensure_ascii=False)
        with self._write() as db:
            db.execute("INSERT INTO heartbeats (kiosk_id, received_at, body) VALUES (?, ?, ?)",
                       (kiosk_id, received, text))
            db.execute("DELETE FROM heartbeats WHERE kiosk_id = ? AND seq <= (SELECT seq "
                       "FROM heartbeats WHERE kiosk_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                       (kiosk_id, kiosk_id, self.heartbeat_history))

    def latest_heartbeat(self, kiosk_id: str) -> dict[str, Any] | None:
        """The body of the kiosk's latest heartbeat, or None."""
        history = self.heartbeats(kiosk_id, limit=1)
        return history[0][1] if history else None

    def heartbeats(self, kiosk_id: str, limit: int = 100) -> list[tuple[float, dict[str, Any]]]:
        """``(received_at, body)`` of the kiosk's heartbeats, newest first."""
        with self._db() as db:
            return _heartbeats(db, kiosk_id, limit)

    def recent_heartbeats(self, kiosk_ids: Iterable[str], per_kiosk: int = 2
                          ) -> dict[str, list[tuple[float, dict[str, Any]]]]:
        """``(received_at, body)`` of each kiosk's last heartbeats, newest first; one indexed
        query a kiosk under one lock (the fleet page)."""
        with self._db() as db:
            return {kiosk_id: _heartbeats(db, kiosk_id, per_kiosk) for kiosk_id in kiosk_ids}

    # -- published menus -------------------------------------------------------------------

    def add_menu(self, *, version: int, target_kind: str, target: str, key_id: str, etag: str,
                 body: bytes, admin: str, now: float | None = None) -> dict[str, Any]:
        """Keep one published bundle; every version stays. Returns its record (no body)."""
        published_at = time.time() if now is None else now
        with self._write() as db:
            cur = db.execute("INSERT INTO menus (version, target_kind, target, key_id, etag, "
                             "body, admin, published_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                             (version, target_kind, target, key_id, etag, body, admin,
                              published_at))
            seq = cur.lastrowid
        return _menu_record((seq, version, target_kind, target, key_id, etag, admin,
                             published_at))

    def menu_records(self) -> list[dict[str, Any]]:
        """Every published bundle's record, newest publication first (no bodies)."""
        with self._db() as db:
            rows = db.execute(f"SELECT {_MENU_COLUMNS} FROM menus ORDER BY seq DESC").fetchall()
        return [_menu_record(r) for r in rows]

    def newest_menus(self) -> list[tuple[dict[str, Any], bytes]]:
        """``(record, body)`` of the greatest version published for each target."""
        with self._db() as db:
            rows = db.execute(
                f"SELECT {_MENU_COLUMNS}, body FROM menus AS m WHERE version = (SELECT "
                "max(version) FROM menus WHERE target_kind = m.target_kind AND "
                "target = m.target) ORDER BY seq").fetchall()
        return [(_menu_record(r[:-1]), bytes(r[-1])) for r in rows]

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
            hb = db.execute("SELECT kiosk_id, max(received_at) FROM heartbeats "
                            "GROUP BY kiosk_id").fetchall()
        stats: dict[str, dict[str, Any]] = {}
        for kiosk_id, count, last in tx:
            stats[kiosk_id] = {"kiosk_id": kiosk_id, "transactions": count,
                               "last_transaction_at": last, "last_heartbeat_at": None}
        for kiosk_id, last in hb:
            entry = stats.setdefault(kiosk_id, {"kiosk_id": kiosk_id, "transactions": 0,
                                                "last_transaction_at": None})
            entry["last_heartbeat_at"] = last
        return [stats[k] for k in sorted(stats)]


def _menu_record(row: tuple) -> dict[str, Any]:
    """A ``menus`` row of ``_MENU_COLUMNS`` as a dict keyed by the column names."""
    return dict(zip(_MENU_COLUMNS.split(", "), row, strict=True))


def _heartbeats(db: sqlite3.Connection, kiosk_id: str,
                limit: int) -> list[tuple[float, dict[str, Any]]]:
    rows = db.execute("SELECT received_at, body FROM heartbeats WHERE kiosk_id = ? "
                      "ORDER BY seq DESC LIMIT ?", (kiosk_id, limit)).fetchall()
    return [(r[0], json.loads(r[1])) for r in rows]
