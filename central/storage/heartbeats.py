"""Heartbeats in both stores: each kiosk's latest state, and a history bounded to
``heartbeat_history`` per kiosk (the fleet page reads the state; the kiosk page the history).

SQLite writes each heartbeat in its own short transaction; PostgreSQL writes them in shared
batches (``batching.BatchWriter``) of two statements over arrays, without waiting for the
WAL flush (central/README.md says why that is safe for heartbeats and not for uploads).
One mixin per backend adds these methods to its store.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

from .batching import HB_ROWS


class SqliteHeartbeats:
    """Heartbeats for ``SqliteStore`` (its ``_db``, ``_write`` and ``heartbeat_history``)."""

    def add_heartbeat(self, kiosk_id: str, body: dict[str, Any],
                      now: float | None = None) -> None:
        """Keep ``body`` as the kiosk's latest state and in its history, which is trimmed
        to ``heartbeat_history``."""
        received = time.time() if now is None else now
        text = json.dumps(body, ensure_ascii=False)
        with self._write() as db:
            db.execute("INSERT INTO heartbeats (kiosk_id, received_at, body) VALUES (?, ?, ?)",
                       (kiosk_id, received, text))
            db.execute("INSERT INTO kiosk_state VALUES (?, ?, ?) ON CONFLICT (kiosk_id) DO "
                       "UPDATE SET received_at = excluded.received_at, body = excluded.body",
                       (kiosk_id, received, text))
            db.execute("DELETE FROM heartbeats WHERE kiosk_id = ? AND seq <= (SELECT seq "
                       "FROM heartbeats WHERE kiosk_id = ? ORDER BY seq DESC LIMIT 1 OFFSET ?)",
                       (kiosk_id, kiosk_id, self.heartbeat_history))

    def latest_heartbeat(self, kiosk_id: str) -> dict[str, Any] | None:
        """The body of the kiosk's latest heartbeat, or None."""
        with self._db() as db:
            row = db.execute("SELECT body FROM kiosk_state WHERE kiosk_id = ?",
                             (kiosk_id,)).fetchone()
        return None if row is None else json.loads(row[0])

    def latest_heartbeats(self) -> dict[str, tuple[float, dict[str, Any]]]:
        """Every kiosk's latest ``(received_at, body)``, in one query (the fleet page)."""
        with self._db() as db:
            rows = db.execute("SELECT kiosk_id, received_at, body FROM kiosk_state").fetchall()
        return {k: (at, json.loads(body)) for k, at, body in rows}

    def heartbeats(self, kiosk_id: str, limit: int = 100) -> list[tuple[float, dict[str, Any]]]:
        """``(received_at, body)`` of the kiosk's heartbeats, newest first."""
        with self._db() as db:
            return _heartbeats(db, kiosk_id, limit)

    def recent_heartbeats(self, kiosk_ids: Iterable[str], per_kiosk: int = 2
                          ) -> dict[str, list[tuple[float, dict[str, Any]]]]:
        """``(received_at, body)`` of each kiosk's last heartbeats, newest first."""
        with self._db() as db:
            return {kiosk_id: _heartbeats(db, kiosk_id, per_kiosk) for kiosk_id in kiosk_ids}


class PostgresHeartbeats:
    """Heartbeats for ``PostgresStore`` (its ``_tx``, ``_heartbeat_writer`` and
    ``heartbeat_history``)."""

    def add_heartbeat(self, kiosk_id: str, body: dict[str, Any],
                      now: float | None = None) -> None:
        """Latest state and bounded history; returns once committed, in a shared batch."""
        received = time.time() if now is None else now
        self._heartbeat_writer.submit((kiosk_id, received, json.dumps(body, ensure_ascii=False)))

    def _write_heartbeats(self, batch: list[tuple[str, float, str]]) -> None:
        latest = sorted({row[0]: row for row in batch}.values())  # one lock order for all
        with self._tx() as cur:  # a statement for the whole batch, not one a heartbeat
            cur.execute("SET LOCAL synchronous_commit TO OFF")  # no fsync wait: see README
            cur.execute(f"INSERT INTO heartbeats (kiosk_id, received_at, body) {HB_ROWS}",
                        [list(c) for c in zip(*batch, strict=True)])
            cur.execute(f"INSERT INTO kiosk_state {HB_ROWS} ON CONFLICT (kiosk_id) DO UPDATE SET "
                        "received_at = excluded.received_at, body = excluded.body",
                        [list(c) for c in zip(*latest, strict=True)])
            cur.execute("DELETE FROM heartbeats AS h WHERE h.kiosk_id = ANY(%s) AND h.seq <= "
                        "(SELECT seq FROM heartbeats WHERE kiosk_id = h.kiosk_id ORDER BY seq "
                        "DESC LIMIT 1 OFFSET %s)", ([r[0] for r in latest], self.heartbeat_history))

    def latest_heartbeat(self, kiosk_id: str) -> dict[str, Any] | None:
        with self._tx() as cur:
            cur.execute("SELECT body FROM kiosk_state WHERE kiosk_id = %s", (kiosk_id,))
            row = cur.fetchone()
        return None if row is None else row[0]

    def latest_heartbeats(self) -> dict[str, tuple[float, dict[str, Any]]]:
        """Every kiosk's latest ``(received_at, body)``, in one query (the fleet page)."""
        with self._tx() as cur:
            cur.execute("SELECT kiosk_id, received_at, body FROM kiosk_state")
            return {k: (at, body) for k, at, body in cur.fetchall()}

    def heartbeats(self, kiosk_id: str, limit: int = 100) -> list[tuple[float, dict[str, Any]]]:
        """``(received_at, body)`` of the kiosk's heartbeats, newest first."""
        return self.recent_heartbeats([kiosk_id], limit)[kiosk_id]

    def recent_heartbeats(self, kiosk_ids: Iterable[str], per_kiosk: int = 2
                          ) -> dict[str, list[tuple[float, dict[str, Any]]]]:
        """``(received_at, body)`` of each kiosk's last heartbeats, newest first, in one
        query."""
        ids = list(kiosk_ids)
        out: dict[str, list[tuple[float, dict[str, Any]]]] = {k: [] for k in ids}
        with self._tx() as cur:
            cur.execute("SELECT k.id, h.received_at, h.body FROM unnest(%s::text[]) AS k(id) "
                        "CROSS JOIN LATERAL (SELECT seq, received_at, body FROM heartbeats "
                        "WHERE kiosk_id = k.id ORDER BY seq DESC LIMIT %s) AS h "
                        "ORDER BY k.id, h.seq DESC", (ids, per_kiosk))
            for kiosk_id, received_at, body in cur:
                out[kiosk_id].append((received_at, body))
        return out


def _heartbeats(db: sqlite3.Connection, kiosk_id: str,
                limit: int) -> list[tuple[float, dict[str, Any]]]:
    rows = db.execute("SELECT received_at, body FROM heartbeats WHERE kiosk_id = ? "
                      "ORDER BY seq DESC LIMIT ?", (kiosk_id, limit)).fetchall()
    return [(r[0], json.loads(r[1])) for r in rows]
