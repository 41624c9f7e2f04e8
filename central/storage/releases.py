"""Release storage shared by both stores (issue #15): wheels by content hash, signed
releases by version, rollouts by target.

A wheel is kept once, however many releases list it, as rows of ``CHUNK`` bytes keyed by
its SHA-256, so a range request reads only the chunks it needs and every central process
sharing the database serves the same bytes. An admin uploads a wheel chunk by chunk (an
interrupted upload resumes); the wheel counts as held once its chunks add up to the
manifest's size and hash (``complete_wheel``). The SQL is written with ``?`` placeholders
and run by the store's ``_run`` (``central.storage.base.Statements``).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from contract.release import UPLOAD_CHUNK

from .base import Statements

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
)
"""


class ReleaseTables(Statements):
    """The release methods of ``Store``, run through the store's ``_run``."""

    # -- wheels ----------------------------------------------------------------------------

    def put_wheel_chunk(self, sha256: str, idx: int, data: bytes) -> None:
        """Keep chunk ``idx`` of an upload (a repeat replaces it)."""
        self._run([("INSERT INTO wheel_chunks (sha256, idx, data) VALUES (?, ?, ?) "
                    "ON CONFLICT (sha256, idx) DO UPDATE SET data = excluded.data",
                    (sha256, idx, data))])

    def wheel_size(self, sha256: str) -> int | None:
        """The size of a held wheel, or None when it is not (completely) held."""
        rows = self._run([("SELECT size FROM wheels WHERE sha256 = ?", (sha256,))],
                         fetch="all", write=False)
        return None if not rows else int(rows[0][0])

    def uploaded_bytes(self, sha256: str) -> int:
        """Bytes of an upload received so far, counting whole leading chunks only."""
        rows = self._run([("SELECT idx, length(data) FROM wheel_chunks WHERE sha256 = ? "
                           "ORDER BY idx", (sha256,))], fetch="all", write=False)
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
            rows = self._run([("SELECT data FROM wheel_chunks WHERE sha256 = ? AND idx = ?",
                               (sha256, idx))], fetch="all", write=False)
            if not rows:
                return False
            data = bytes(rows[0][0])
            digest.update(data)
            total += len(data)
        if total != size or digest.hexdigest() != sha256:
            return False
        self._run([("INSERT INTO wheels (sha256, size, added_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (sha256) DO NOTHING",
                    (sha256, size, time.time() if now is None else now))])
        return True

    def wheel_range(self, sha256: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` inclusive of a held wheel."""
        rows = self._run([("SELECT idx, data FROM wheel_chunks WHERE sha256 = ? AND idx >= ? "
                           "AND idx <= ? ORDER BY idx", (sha256, start // CHUNK, end // CHUNK))],
                         fetch="all", write=False)
        data = b"".join(bytes(r[1]) for r in rows)
        offset = start - (start // CHUNK) * CHUNK
        return data[offset:offset + end - start + 1]

    # -- releases and rollouts -------------------------------------------------------------

    def add_release(self, *, version: str, key_id: str, body: bytes, admin: str,
                    now: float | None = None) -> None:
        """Keep a signed release; a version is kept once (``VersionTaken``)."""
        self._run([("INSERT INTO releases (version, key_id, body, admin, published_at) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (version, key_id, body, admin, time.time() if now is None else now))])

    def release_body(self, version: str) -> bytes | None:
        rows = self._run([("SELECT body FROM releases WHERE version = ?", (version,))],
                         fetch="all", write=False)
        return None if not rows else bytes(rows[0][0])

    def release_records(self) -> list[dict[str, Any]]:
        rows = self._run([("SELECT version, key_id, admin, published_at FROM releases "
                           "ORDER BY published_at DESC", ())], fetch="all", write=False)
        return [dict(zip(("version", "key_id", "admin", "published_at"), r, strict=True))
                for r in rows]

    def add_rollout(self, *, version: str, target_kind: str, target: str, percent: float,
                    admin: str, now: float | None = None) -> dict[str, Any]:
        """Offer ``version`` to a share of a target from now on; returns the record."""
        published_at = time.time() if now is None else now
        row = self._run([("INSERT INTO rollouts (version, target_kind, target, percent, admin, "
                          "published_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
                          (version, target_kind, target, percent, admin, published_at))],
                        fetch="one")
        return dict(zip(ROLLOUT_COLUMNS, (row[0], version, target_kind, target, percent,
                                          admin, published_at), strict=True))

    def rollouts(self) -> list[dict[str, Any]]:
        """Every rollout, newest first."""
        rows = self._run([(f"SELECT {', '.join(ROLLOUT_COLUMNS)} FROM rollouts ORDER BY seq "
                           "DESC", ())], fetch="all", write=False)
        return [dict(zip(ROLLOUT_COLUMNS, r, strict=True)) for r in rows]
