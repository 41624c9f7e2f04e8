"""The production store: PostgreSQL 15 or newer through psycopg 3 and a connection pool.

Several central processes may use one database at once: ingest is one ``INSERT ... ON
CONFLICT DO NOTHING`` per batch, the outbox is claimed with ``FOR UPDATE SKIP LOCKED`` and a
lease, the schema is made under an advisory lock (two processes starting together do not race),
heartbeats go in shared batches (``batching.BatchWriter``); personal data: ``identity``, ``fields``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from ..errors import StoreBusy, StoreError, VersionTaken
from ..wire import IncomingTransaction
from .base import (
    ACCEPTED,
    HEARTBEAT_HISTORY,
    MENU_COLUMNS,
    SCHEMA_VERSION,
    Ingested,
    PostgresStatements,
    classify,
    menu_record,
    merge_kiosk_stats,
    redact,
    transaction_record,
    tx_rows,
)
from .batching import AsyncHeartbeats, BatchWriter
from .commands import PostgresCommands
from .drafts import PostgresDrafts
from .heartbeats import PostgresHeartbeats
from .releases import POSTGRES_TABLES, ReleaseTables

log = logging.getLogger(__name__)

POOL_SIZE, POOL_WAIT_S = 8, 2.0  # a process's connections; the wait for one, then 503
_SCHEMA_LOCK = 0x6B696F736B  # pg_advisory_xact_lock key while creating/upgrading the schema
_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_meta (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS transactions (
    id text PRIMARY KEY,
    kiosk_id text NOT NULL,
    service_id text NOT NULL,
    menu_version integer NOT NULL,
    created_at text NOT NULL,
    identity jsonb,
    fields jsonb,
    digest text NOT NULL,
    received_at double precision NOT NULL,
    delivered_at double precision,
    next_attempt_at double precision NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0,
    purged_at double precision
);
CREATE INDEX IF NOT EXISTS transactions_kiosk ON transactions (kiosk_id, received_at);
CREATE INDEX IF NOT EXISTS transactions_outbox ON transactions (next_attempt_at)
    WHERE delivered_at IS NULL;
CREATE INDEX IF NOT EXISTS transactions_delivered ON transactions (delivered_at)
    WHERE delivered_at IS NOT NULL AND purged_at IS NULL;
CREATE TABLE IF NOT EXISTS heartbeats (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kiosk_id text NOT NULL,
    received_at double precision NOT NULL,
    body jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS heartbeats_kiosk ON heartbeats (kiosk_id, seq);
CREATE TABLE IF NOT EXISTS kiosk_state (
    kiosk_id text PRIMARY KEY,
    received_at double precision NOT NULL,
    body jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS menus (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version integer NOT NULL,
    target_kind text NOT NULL,
    target text NOT NULL,
    key_id text NOT NULL,
    etag text NOT NULL,
    body bytea NOT NULL,
    admin text NOT NULL,
    published_at double precision NOT NULL,
    UNIQUE (target_kind, target, version)
)
"""
_TX_COLUMNS = ("id, kiosk_id, service_id, menu_version, created_at, identity, fields, "
               "received_at, delivered_at, purged_at")
_MENUS = ", ".join(MENU_COLUMNS)
_INSERT = """
INSERT INTO transactions (id, kiosk_id, service_id, menu_version, created_at, identity,
                          fields, digest, received_at)
SELECT u.id, %(kiosk)s, u.service_id, u.menu_version, u.created_at, u.identity::jsonb,
       u.fields::jsonb, u.digest, %(received)s
FROM unnest(%(ids)s::text[], %(services)s::text[], %(versions)s::integer[],
            %(created)s::text[], %(identities)s::text[], %(fields)s::text[],
            %(digests)s::text[]) WITH ORDINALITY
     AS u(id, service_id, menu_version, created_at, identity, fields, digest, n)
ORDER BY u.id, u.n  -- one order for every process: no deadlock between two batches
ON CONFLICT (id) DO NOTHING
RETURNING id
"""


class PostgresStore(PostgresStatements, ReleaseTables, PostgresCommands, PostgresDrafts,
                    PostgresHeartbeats, AsyncHeartbeats):
    """``Store`` on a PostgreSQL database. Open with ``PostgresStore.open(url)``."""

    def __init__(self, pool: ConnectionPool, url: str, *,
                 heartbeat_history: int = HEARTBEAT_HISTORY) -> None:
        self.url, self.heartbeat_history, self._pool = url, heartbeat_history, pool
        self._heartbeat_writer: BatchWriter[tuple[str, float, str]] = BatchWriter(
            self._write_heartbeats, name="central-heartbeats")

    @classmethod
    def open(cls, url: str, *, heartbeat_history: int = HEARTBEAT_HISTORY,
             pool_size: int = POOL_SIZE, pool_wait_s: float = POOL_WAIT_S,
             readonly: bool = False) -> PostgresStore:
        """Connect, then create or upgrade the schema (``readonly``: only check it). A request
        waits ``pool_wait_s`` at most for a connection, then ``StoreBusy``."""
        pool = ConnectionPool(url, min_size=1, max_size=max(1, pool_size), open=False,
                              name="kiosk-central", timeout=pool_wait_s)
        try:
            pool.open(wait=True, timeout=15.0)
            with pool.connection() as conn:
                if readonly:
                    _check_schema(conn, url)
                else:
                    _create_or_upgrade(conn, url)
        except (psycopg.Error, PoolTimeout) as exc:
            pool.close()
            raise StoreError(f"{redact(url)}: cannot use the database "
                             f"({str(exc).strip().splitlines()[0]})") from None
        except StoreError:
            pool.close()
            raise
        return cls(pool, url, heartbeat_history=heartbeat_history)

    def close(self) -> None:
        self._heartbeat_writer.close()
        self._pool.close()

    def __enter__(self) -> PostgresStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[psycopg.Cursor]:
        """A cursor in one database transaction: committed at the end, rolled back if the
        block raises. Database errors become ``StoreError``."""
        if self._pool.closed:
            raise StoreError(f"{redact(self.url)}: the store is closed")
        try:
            with self._pool.connection() as conn, conn.cursor() as cur:
                yield cur
        except PoolTimeout as exc:
            raise StoreBusy(f"{redact(self.url)}: no database connection ({exc})") from None
        except psycopg.OperationalError as exc:
            raise StoreError(f"{redact(self.url)}: {str(exc).strip()}") from None

    # -- transactions ----------------------------------------------------------------------

    def ingest(self, kiosk_id: str, items: Iterable[IncomingTransaction],
               now: float | None = None) -> list[Ingested]:
        """Store the batch in one statement; ids already stored are looked up in a second
        one to tell a duplicate from a conflict."""
        rows = tx_rows(kiosk_id, items, time.time() if now is None else now)
        if not rows:
            return []
        params = {"kiosk": kiosk_id, "received": rows[0].received_at,
                  "ids": [r.key for r in rows], "services": [r.service_id for r in rows],
                  "versions": [r.menu_version for r in rows],
                  "created": [r.created_at for r in rows],
                  "identities": [r.identity for r in rows], "fields": [r.fields for r in rows],
                  "digests": [r.digest for r in rows]}
        with self._tx() as cur:
            cur.execute(_INSERT, params)
            new = {r[0] for r in cur.fetchall()}
            others = sorted({r.key for r in rows} - new)
            stored: dict[str, str] = {}
            if others:
                cur.execute("SELECT id, digest FROM transactions WHERE id = ANY(%s)", (others,))
                stored = dict(cur.fetchall())
        return classify(rows, new, stored)

    def add_transactions(self, kiosk_id: str, items: Iterable[IncomingTransaction],
                         now: float | None = None) -> list[bool]:
        """``ingest`` as True where the transaction was new."""
        return [i.status == ACCEPTED for i in self.ingest(kiosk_id, items, now)]

    def transactions_count(self, kiosk_id: str | None = None) -> int:
        with self._tx() as cur:
            if kiosk_id is None:
                cur.execute("SELECT count(*) FROM transactions")
            else:
                cur.execute("SELECT count(*) FROM transactions WHERE kiosk_id = %s",
                            (kiosk_id,))
            return cur.fetchone()[0]

    def transaction(self, transaction_id: str) -> dict[str, Any] | None:
        """One stored transaction with its personal data (None once purged), or None."""
        with self._tx() as cur:
            cur.execute(f"SELECT {_TX_COLUMNS} FROM transactions WHERE id = %s",
                        (transaction_id.lower(),))
            row = cur.fetchone()
        return None if row is None else transaction_record(row)

    # -- outbox ----------------------------------------------------------------------------

    def claim_outbox(self, limit: int, lease_s: float,
                     now: float | None = None) -> list[dict[str, Any]]:
        """Up to ``limit`` due, undelivered transactions, oldest first, held for ``lease_s``;
        rows another process holds locked are skipped, not waited for."""
        now = time.time() if now is None else now
        with self._tx() as cur:
            cur.execute(
                f"WITH due AS (SELECT id FROM transactions WHERE delivered_at IS NULL AND "
                f"next_attempt_at <= %s ORDER BY next_attempt_at, received_at, id LIMIT %s "
                f"FOR UPDATE SKIP LOCKED) UPDATE transactions AS t SET next_attempt_at = %s, "
                f"attempts = t.attempts + 1 FROM due WHERE t.id = due.id "
                f"RETURNING {', '.join('t.' + c for c in _TX_COLUMNS.split(', '))}, t.attempts",
                (now, limit, now + lease_s))
            rows = cur.fetchall()
        rows.sort(key=lambda r: (r[7], r[0]))
        return [{**transaction_record(r), "attempts": r[-1]} for r in rows]

    def mark_delivered(self, ids: Sequence[str], now: float | None = None) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE transactions SET delivered_at = %s WHERE id = ANY(%s) "
                        "AND delivered_at IS NULL",
                        (time.time() if now is None else now, list(ids)))

    def retry_later(self, ids: Sequence[str], at: float) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE transactions SET next_attempt_at = %s WHERE id = ANY(%s) "
                        "AND delivered_at IS NULL", (at, list(ids)))

    def purge_delivered(self, before: float, now: float | None = None) -> int:
        """Remove the personal data of transactions delivered before ``before``; the id and
        content hash stay, so a resend is still recognised. Returns how many."""
        with self._tx() as cur:
            cur.execute("UPDATE transactions SET identity = NULL, fields = NULL, "
                        "purged_at = %s WHERE delivered_at IS NOT NULL AND delivered_at < %s "
                        "AND purged_at IS NULL", (time.time() if now is None else now, before))
            return cur.rowcount

    def outbox_stats(self) -> dict[str, int]:
        with self._tx() as cur:
            cur.execute("SELECT count(*) FILTER (WHERE delivered_at IS NULL), "
                        "count(*) FILTER (WHERE delivered_at IS NOT NULL), "
                        "count(*) FILTER (WHERE purged_at IS NOT NULL) FROM transactions")
            pending, delivered, purged = cur.fetchone()
        return {"outbox_pending": pending, "outbox_delivered": delivered, "purged": purged}

    # -- published menus -------------------------------------------------------------------

    def add_menu(self, *, version: int, target_kind: str, target: str, key_id: str, etag: str,
                 body: bytes, admin: str, now: float | None = None) -> dict[str, Any]:
        published_at = time.time() if now is None else now
        try:
            with self._tx() as cur:
                cur.execute("INSERT INTO menus (version, target_kind, target, key_id, etag, "
                            "body, admin, published_at) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                            "%s) RETURNING seq", (version, target_kind, target, key_id, etag,
                                                  body, admin, published_at))
                seq = cur.fetchone()[0]
        except psycopg.errors.UniqueViolation:
            raise VersionTaken(f"version {version} is already kept for {target_kind} "
                               f"{target!r}") from None
        return menu_record((seq, version, target_kind, target, key_id, etag, admin,
                            published_at))

    def menu_records(self) -> list[dict[str, Any]]:
        with self._tx() as cur:
            cur.execute(f"SELECT {_MENUS} FROM menus ORDER BY seq DESC")
            return [menu_record(r) for r in cur.fetchall()]

    def newest_menus(self) -> list[tuple[dict[str, Any], bytes]]:
        with self._tx() as cur:
            cur.execute(f"SELECT {_MENUS}, body FROM menus AS m WHERE version = (SELECT "
                        "max(version) FROM menus WHERE target_kind = m.target_kind AND "
                        "target = m.target) ORDER BY seq")
            return [(menu_record(r[:-1]), bytes(r[-1])) for r in cur.fetchall()]

    def menus_generation(self) -> int:
        """Grows with every publication: a process compares it to notice another's."""
        with self._tx() as cur:
            cur.execute("SELECT coalesce(max(seq), 0) FROM menus")
            return cur.fetchone()[0]

    def menu_body(self, seq: int) -> bytes | None:
        with self._tx() as cur:
            cur.execute("SELECT body FROM menus WHERE seq = %s", (seq,))
            row = cur.fetchone()
        return None if row is None else bytes(row[0])

    # -- reports ---------------------------------------------------------------------------

    def kiosk_stats(self) -> list[dict[str, Any]]:
        with self._tx() as cur:
            cur.execute("SELECT kiosk_id, count(*), max(received_at) FROM transactions "
                        "GROUP BY kiosk_id")
            tx = cur.fetchall()
            cur.execute("SELECT kiosk_id, received_at FROM kiosk_state")
            hb = cur.fetchall()
        return merge_kiosk_stats(tx, hb)


def _create_or_upgrade(conn: psycopg.Connection, url: str) -> None:
    """Create the schema, or bring an older one up to date, under an advisory lock."""
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
        version = _schema_version(cur)
        if version > SCHEMA_VERSION:
            raise StoreError(f"{redact(url)}: written by a newer kiosk-central (schema "
                             f"{version}, this one knows {SCHEMA_VERSION})")
        if version == SCHEMA_VERSION:
            return
        tables = (_SCHEMA, POSTGRES_TABLES, PostgresCommands.TABLES, PostgresDrafts.TABLES)
        for statement in filter(str.strip, ";".join(tables).split(";")):
            cur.execute(statement)
        cur.execute("DELETE FROM schema_meta")
        cur.execute("INSERT INTO schema_meta VALUES (%s)", (SCHEMA_VERSION,))
        log.info("database schema %s created or upgraded from %s", SCHEMA_VERSION, version)


def _check_schema(conn: psycopg.Connection, url: str) -> None:
    with conn.transaction(), conn.cursor() as cur:
        version = _schema_version(cur)
    if version != SCHEMA_VERSION:
        raise StoreError(f"{redact(url)}: not a kiosk-central database of schema "
                         f"{SCHEMA_VERSION} (found {version or 'none'})")


def _schema_version(cur: psycopg.Cursor) -> int:
    cur.execute("SELECT to_regclass('schema_meta') IS NOT NULL")
    if not cur.fetchone()[0]:
        return 0
    cur.execute("SELECT max(version) FROM schema_meta")
    return cur.fetchone()[0] or 0
