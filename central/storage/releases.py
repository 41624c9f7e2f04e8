"""Release storage shared by both stores (issue #15): wheels by content hash, signed
releases by version, rollouts by target.

A wheel is kept once, however many releases list it, as rows of ``CHUNK`` bytes keyed by
its SHA-256, so a range request reads only the chunks it needs and every central process
sharing the database serves the same bytes. An admin uploads a wheel chunk by chunk (an
interrupted upload resumes); the wheel counts as held once its chunks add up to the
manifest's size and hash (``complete_wheel``). ``wheel_uploads`` notes when an upload not
yet complete last received a piece, so an abandoned one can be removed
(``remove_abandoned_uploads``). The SQL is written with ``%s`` placeholders;
the SQLite store turns them into ``?``.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from typing import Any

from contract.release import UPLOAD_CHUNK

from ..errors import VersionTaken

CHUNK = UPLOAD_CHUNK
ROLLOUT_COLUMNS = ("seq", "version", "target_kind", "target", "percent", "admin",
                   "published_at")

SQLITE_TABLES = """
CREATE TABLE IF NOT EXISTS wheel_chunks (
    sha256 TEXT NOT NULL, idx INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (sha256, idx)
);
CREATE TABLE IF NOT EXISTS wheels (
    sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    version TEXT PRIMARY KEY, key_id TEXT NOT NULL, body BLOB NOT NULL,
    admin TEXT NOT NULL, published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rollouts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, version TEXT NOT NULL,
    target_kind TEXT NOT NULL, target TEXT NOT NULL, percent REAL NOT NULL,
    admin TEXT NOT NULL, published_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS wheel_uploads (
    sha256 TEXT PRIMARY KEY, last_at REAL NOT NULL
)
"""
POSTGRES_TABLES = """
CREATE TABLE IF NOT EXISTS wheel_chunks (
    sha256 text NOT NULL, idx integer NOT NULL, data bytea NOT NULL,
    PRIMARY KEY (sha256, idx)
);
CREATE TABLE IF NOT EXISTS wheels (
    sha256 text PRIMARY KEY, size bigint NOT NULL, added_at double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS releases (
    version text PRIMARY KEY, key_id text NOT NULL, body bytea NOT NULL,
    admin text NOT NULL, published_at double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS rollouts (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, version text NOT NULL,
    target_kind text NOT NULL, target text NOT NULL, percent double precision NOT NULL,
    admin text NOT NULL, published_at double precision NOT NULL
);
CREATE TABLE IF NOT EXISTS wheel_uploads (
    sha256 text PRIMARY KEY, last_at double precision NOT NULL
)
"""


class ReleaseTables:
    """The release methods of ``Store``. A store provides ``_rq(sql, params)`` (rows of a
    read) and ``_rw(sql, params)`` (one write in its own transaction, returning rows;
    ``VersionTaken`` on a unique key already taken)."""

    def _rq(self, sql: str, params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def _rw(self, sql: str, params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    # -- wheels ----------------------------------------------------------------------------

    def put_wheel_chunk(self, sha256: str, idx: int, data: bytes,
                        now: float | None = None) -> None:
        """Keep chunk ``idx`` of an upload (a repeat replaces it)."""
        self._touch_upload(sha256, time.time() if now is None else now)
        self._rw("INSERT INTO wheel_chunks (sha256, idx, data) VALUES (%s, %s, %s) "
                 "ON CONFLICT (sha256, idx) DO UPDATE SET data = excluded.data",
                 (sha256, idx, data))

    def _touch_upload(self, sha256: str, now: float) -> None:
        self._rw("INSERT INTO wheel_uploads (sha256, last_at) VALUES (%s, %s) "
                 "ON CONFLICT (sha256) DO UPDATE SET last_at = excluded.last_at",
                 (sha256, now))

    def remove_abandoned_uploads(self, older_than: float, now: float | None = None) -> int:
        """Remove the chunks of uploads not complete whose last piece came before
        ``older_than``; the number of uploads removed. Chunks of no known upload (kept by
        a central before these were noted) start their clock now."""
        now = time.time() if now is None else now
        for (sha256,) in self._rq(
                "SELECT DISTINCT sha256 FROM wheel_chunks WHERE sha256 NOT IN "
                "(SELECT sha256 FROM wheels) AND sha256 NOT IN (SELECT sha256 FROM "
                "wheel_uploads)"):
            self._rw("INSERT INTO wheel_uploads (sha256, last_at) VALUES (%s, %s) "
                     "ON CONFLICT (sha256) DO NOTHING", (sha256, now))
        old = self._rq("SELECT sha256 FROM wheel_uploads WHERE last_at < %s",
                       (older_than,))
        removed = 0
        for (sha256,) in old:
            if self.wheel_size(sha256) is None:
                self._rw("DELETE FROM wheel_chunks WHERE sha256 = %s AND sha256 NOT IN "
                         "(SELECT sha256 FROM wheels)", (sha256,))
                removed += 1
            self._rw("DELETE FROM wheel_uploads WHERE sha256 = %s AND last_at < %s",
                     (sha256, older_than))
        return removed

    def wheel_size(self, sha256: str) -> int | None:
        """The size of a held wheel, or None when it is not (completely) held."""
        rows = self._rq("SELECT size FROM wheels WHERE sha256 = %s", (sha256,))
        return None if not rows else int(rows[0][0])

    def uploaded_bytes(self, sha256: str) -> int:
        """Bytes of an upload received so far, counting whole leading chunks only."""
        rows = self._rq("SELECT idx, length(data) FROM wheel_chunks WHERE sha256 = %s "
                        "ORDER BY idx", (sha256,))
        total = 0
        for expected, (idx, length) in enumerate(rows):
            if idx != expected:
                break
            total += int(length)
            if length != CHUNK:
                break
        return total

    def complete_wheel(self, sha256: str, size: int, now: float | None = None) -> bool:
        """Mark an uploaded wheel held if its chunks make ``size`` bytes with this hash."""
        if self.wheel_size(sha256) == size:
            return True
        digest, total = hashlib.sha256(), 0
        for idx in range((size + CHUNK - 1) // CHUNK):
            rows = self._rq("SELECT data FROM wheel_chunks WHERE sha256 = %s AND idx = %s",
                            (sha256, idx))
            if not rows:
                return False
            data = bytes(rows[0][0])
            digest.update(data)
            total += len(data)
        if total != size or digest.hexdigest() != sha256:
            return False
        self._rw("INSERT INTO wheels (sha256, size, added_at) VALUES (%s, %s, %s) "
                 "ON CONFLICT (sha256) DO NOTHING", (sha256, size,
                                                     time.time() if now is None else now))
        self._rw("DELETE FROM wheel_uploads WHERE sha256 = %s", (sha256,))
        return True

    def wheel_range(self, sha256: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` inclusive of a held wheel."""
        rows = self._rq("SELECT idx, data FROM wheel_chunks WHERE sha256 = %s AND idx >= %s "
                        "AND idx <= %s ORDER BY idx", (sha256, start // CHUNK, end // CHUNK))
        data = b"".join(bytes(r[1]) for r in rows)
        offset = start - (start // CHUNK) * CHUNK
        return data[offset:offset + end - start + 1]

    # -- releases and rollouts -------------------------------------------------------------

    def add_release(self, *, version: str, key_id: str, body: bytes, admin: str,
                    now: float | None = None) -> None:
        """Keep a signed release; a version is kept once (``VersionTaken``)."""
        self._rw("INSERT INTO releases (version, key_id, body, admin, published_at) "
                 "VALUES (%s, %s, %s, %s, %s)",
                 (version, key_id, body, admin, time.time() if now is None else now))

    def release_body(self, version: str) -> bytes | None:
        rows = self._rq("SELECT body FROM releases WHERE version = %s", (version,))
        return None if not rows else bytes(rows[0][0])

    def release_records(self) -> list[dict[str, Any]]:
        rows = self._rq("SELECT version, key_id, admin, published_at FROM releases "
                        "ORDER BY published_at DESC")
        return [dict(zip(("version", "key_id", "admin", "published_at"), r, strict=True))
                for r in rows]

    def add_rollout(self, *, version: str, target_kind: str, target: str, percent: float,
                    admin: str, now: float | None = None) -> dict[str, Any]:
        """Offer ``version`` to a share of a target from now on; returns the record."""
        published_at = time.time() if now is None else now
        rows = self._rw("INSERT INTO rollouts (version, target_kind, target, percent, admin, "
                        "published_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING seq",
                        (version, target_kind, target, percent, admin, published_at))
        return dict(zip(ROLLOUT_COLUMNS, (rows[0][0], version, target_kind, target, percent,
                                          admin, published_at), strict=True))

    def rollouts(self) -> list[dict[str, Any]]:
        """Every rollout, newest first."""
        rows = self._rq(f"SELECT {', '.join(ROLLOUT_COLUMNS)} FROM rollouts ORDER BY seq DESC")
        return [dict(zip(ROLLOUT_COLUMNS, r, strict=True)) for r in rows]


class SqliteReleaseTables(ReleaseTables):
    """``_rq``/``_rw`` over the SQLite store's ``_db``/``_write``."""

    def _rq(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._db() as db:  # type: ignore[attr-defined]
            return db.execute(sql.replace("%s", "?"), params).fetchall()

    def _rw(self, sql: str, params: tuple = ()) -> list[tuple]:
        try:
            with self._write() as db:  # type: ignore[attr-defined]
                return db.execute(sql.replace("%s", "?"), params).fetchall()
        except sqlite3.IntegrityError as exc:
            raise VersionTaken(f"already kept ({exc})") from None


class PostgresReleaseTables(ReleaseTables):
    """``_rq``/``_rw`` over the PostgreSQL store's ``_tx``."""

    def _rq(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._tx() as cur:  # type: ignore[attr-defined]
            cur.execute(sql, params)
            return cur.fetchall()

    def _rw(self, sql: str, params: tuple = ()) -> list[tuple]:
        import psycopg

        try:
            with self._tx() as cur:  # type: ignore[attr-defined]
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        except psycopg.errors.UniqueViolation as exc:
            raise VersionTaken(f"already kept ({str(exc).splitlines()[0]})") from None
