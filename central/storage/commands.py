"""Fleet commands in both stores: what admins asked kiosks to do, and what the kiosks answered.

A command is one row per kiosk: ``pending`` until a heartbeat answer carries it (then
``sent``, and sent again with every heartbeat until the kiosk reports), then ``done``,
``refused`` or ``failed`` with the kiosk's detail (central-api.md section 3). One still
``pending`` past the central's bound (``kiosk-central serve --command-expiry``) is
``expired`` instead, and never sent: a restart asked for yesterday must not happen today.
A screenshot or a diagnostics bundle the kiosk uploads for a command is kept in
``command_uploads``; only the newest ``UPLOADS_KEPT`` of each kiosk and kind stay. The SQL
is the same on both backends but for the placeholders, so one mixin per backend adds these
methods.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from .base import Statements

COMMAND_TYPES = ("sync_now", "upload_diagnostics", "screenshot", "restart", "check_update")
UPLOAD_TYPES = ("screenshot", "upload_diagnostics")
OPEN, FINAL = ("pending", "sent"), ("done", "refused", "failed")  # FINAL: a kiosk's answers
EXPIRED = "expired"  # not delivered in time: the central's own end of a command
UPLOADS_KEPT = 3  # per kiosk and kind: the newest screenshots / bundles
OPEN_CACHE_S = 1.0  # how stale the set of kiosks with open commands may be (other processes)
COMMAND_COLUMNS = ("id", "kiosk_id", "type", "args", "admin", "created_at", "status",
                   "sent_at", "finished_at", "detail")
UPLOAD_COLUMNS = ("command_id", "kiosk_id", "kind", "content_type", "size", "received_at")
_COLS = ", ".join(COMMAND_COLUMNS)
_UCOLS = ", ".join(UPLOAD_COLUMNS)

SQLITE_TABLES = """
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,            -- a UUID: the kiosk runs each id once
    kiosk_id TEXT NOT NULL,
    type TEXT NOT NULL,
    args TEXT NOT NULL,             -- JSON object
    admin TEXT NOT NULL,
    created_at REAL NOT NULL,
    status TEXT NOT NULL,           -- pending, sent, done, refused, failed, expired
    sent_at REAL,
    finished_at REAL,
    detail TEXT
);
CREATE INDEX IF NOT EXISTS commands_open ON commands (kiosk_id, created_at)
    WHERE status IN ('pending', 'sent');
CREATE INDEX IF NOT EXISTS commands_kiosk ON commands (kiosk_id, created_at);
CREATE TABLE IF NOT EXISTS command_uploads (
    command_id TEXT PRIMARY KEY,
    kiosk_id TEXT NOT NULL,
    kind TEXT NOT NULL,             -- screenshot or upload_diagnostics
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    received_at REAL NOT NULL,
    body BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS command_uploads_kiosk ON command_uploads (kiosk_id, kind, received_at);
"""

POSTGRES_TABLES = """
CREATE TABLE IF NOT EXISTS commands (
    id text PRIMARY KEY,
    kiosk_id text NOT NULL,
    type text NOT NULL,
    args text NOT NULL,
    admin text NOT NULL,
    created_at double precision NOT NULL,
    status text NOT NULL,
    sent_at double precision,
    finished_at double precision,
    detail text
);
CREATE INDEX IF NOT EXISTS commands_open ON commands (kiosk_id, created_at)
    WHERE status IN ('pending', 'sent');
CREATE INDEX IF NOT EXISTS commands_kiosk ON commands (kiosk_id, created_at);
CREATE TABLE IF NOT EXISTS command_uploads (
    command_id text PRIMARY KEY,
    kiosk_id text NOT NULL,
    kind text NOT NULL,
    content_type text NOT NULL,
    size integer NOT NULL,
    received_at double precision NOT NULL,
    body bytea NOT NULL
);
CREATE INDEX IF NOT EXISTS command_uploads_kiosk ON command_uploads (kiosk_id, kind, received_at)
"""


def command_record(row: Sequence[Any]) -> dict[str, Any]:
    """A commands row of ``COMMAND_COLUMNS`` as a dict, ``args`` decoded."""
    out = dict(zip(COMMAND_COLUMNS, row, strict=True))
    out["args"] = json.loads(out["args"])
    return out


def upload_record(row: Sequence[Any]) -> dict[str, Any]:
    return dict(zip(UPLOAD_COLUMNS, row, strict=True))


class _CommandSql(Statements):
    """The statements, with ``?`` placeholders, run by the store's ``_run``."""

    _open_cache: tuple[float, set[str]] | None = None

    def add_commands(self, kiosk_ids: Iterable[str], type_: str, args: dict[str, Any], *,
                     admin: str, now: float | None = None) -> list[dict[str, Any]]:
        """One new ``pending`` command of ``type_`` for each kiosk; their records."""
        at = time.time() if now is None else now
        text = json.dumps(args, ensure_ascii=False, sort_keys=True)
        rows = [(str(uuid.uuid4()), k, type_, text, admin, at) for k in kiosk_ids]
        self._run([(f"INSERT INTO commands ({_COLS}) VALUES (?, ?, ?, ?, ?, ?, "
                    "'pending', NULL, NULL, NULL)", r) for r in rows])
        self._open_cache = None  # this process's next heartbeat sees them at once
        return [command_record((*r, "pending", None, None, None)) for r in rows]

    def take_commands(self, kiosk_id: str, now: float | None = None,
                      expire_before: float | None = None) -> list[dict[str, Any]]:
        """The kiosk's open commands, oldest first, marked ``sent`` (again) now. Asked on
        every heartbeat: most kiosks have none, which one cached read per second of the
        whole fleet's answers (``OPEN_CACHE_S``); a write only when there is one to send.
        A ``pending`` one created before ``expire_before`` is marked expired, not sent."""
        if kiosk_id not in self._open_kiosks():
            return []
        rows = self._run([(f"SELECT {_COLS} FROM commands WHERE kiosk_id = ? AND status "
                           "IN ('pending', 'sent') ORDER BY created_at, id", (kiosk_id,))],
                         fetch="all", write=False)
        at = time.time() if now is None else now
        if expire_before is not None and any(r[6] == "pending" and r[5] < expire_before
                                             for r in rows):
            self.expire_commands(expire_before, kiosk_id=kiosk_id, now=at)
            rows = [r for r in rows if not (r[6] == "pending" and r[5] < expire_before)]
        if rows:
            self._run([("UPDATE commands SET status = 'sent', sent_at = ? WHERE id = ? "
                        "AND status IN ('pending', 'sent')", (at, r[0])) for r in rows])
        return [command_record(r) for r in rows]

    def may_have_commands(self, kiosk_id: str) -> bool:
        """False only when ``take_commands`` would surely find none for ``kiosk_id`` without
        asking the database (the cached set is fresh and lacks it); never blocks."""
        cached = self._open_cache
        return (cached is None or time.monotonic() - cached[0] > OPEN_CACHE_S
                or kiosk_id in cached[1])

    def expire_commands(self, before: float, kiosk_id: str | None = None,
                        now: float | None = None) -> int:
        """Mark ``expired`` the ``pending`` commands (of one kiosk or all) created before
        ``before``: they were not delivered in time and will not be. How many."""
        at = time.time() if now is None else now
        where, args = ("AND kiosk_id = ? ", (kiosk_id,)) if kiosk_id else ("", ())
        detail = f"not delivered within {_span(at - before)}"
        return self._run([(f"UPDATE commands SET status = '{EXPIRED}', detail = ?, "
                           f"finished_at = ? WHERE status = 'pending' {where}AND "
                           "created_at < ? RETURNING id", (detail, at, *args, before))],
                         fetch="count")

    def _open_kiosks(self) -> set[str]:
        cached = getattr(self, "_open_cache", None)
        now = time.monotonic()
        if cached is None or now - cached[0] > OPEN_CACHE_S:
            rows = self._run([("SELECT DISTINCT kiosk_id FROM commands WHERE status IN "
                               "('pending', 'sent')", ())], fetch="all", write=False)
            cached = (now, {r[0] for r in rows})
            self._open_cache = cached
        return cached[1]

    def finish_commands(self, kiosk_id: str, results: Iterable[dict[str, str]],
                        now: float | None = None) -> int:
        """Record the kiosk's ``command_results``; a result for a command of another kiosk,
        an unknown one or one already finished changes nothing. How many were recorded."""
        at = time.time() if now is None else now
        statements = [("UPDATE commands SET status = ?, detail = ?, finished_at = ? WHERE "
                       "id = ? AND kiosk_id = ? AND status IN ('pending', 'sent') "
                       "RETURNING id", (r["status"], r.get("detail", "")[:1000], at, r["id"],
                                        kiosk_id))
                      for r in results]
        if not statements:
            return 0
        return self._run(statements, fetch="count")

    def commands(self, kiosk_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        """Commands newest first, of one kiosk or all."""
        where, args = ("WHERE kiosk_id = ? ", (kiosk_id,)) if kiosk_id else ("", ())
        rows = self._run([(f"SELECT {_COLS} FROM commands {where}ORDER BY created_at "
                           "DESC, id LIMIT ?", (*args, limit))], fetch="all", write=False)
        return [command_record(r) for r in rows]

    def command(self, command_id: str) -> dict[str, Any] | None:
        row = self._run([(f"SELECT {_COLS} FROM commands WHERE id = ?", (command_id,))],
                        fetch="one", write=False)
        return None if row is None else command_record(row)

    def add_upload(self, command_id: str, kiosk_id: str, kind: str, content_type: str,
                   body: bytes, now: float | None = None) -> None:
        """Keep what the kiosk uploaded for a command (a second upload replaces the first);
        older uploads of this kiosk and kind beyond ``UPLOADS_KEPT`` are dropped."""
        at = time.time() if now is None else now
        self._run([
            ("DELETE FROM command_uploads WHERE command_id = ?", (command_id,)),
            (f"INSERT INTO command_uploads ({_UCOLS}, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
             (command_id, kiosk_id, kind, content_type, len(body), at, body)),
            ("DELETE FROM command_uploads WHERE kiosk_id = ? AND kind = ? AND command_id NOT "
             "IN (SELECT command_id FROM command_uploads WHERE kiosk_id = ? AND kind = ? "
             "ORDER BY received_at DESC, command_id LIMIT ?)",
             (kiosk_id, kind, kiosk_id, kind, UPLOADS_KEPT)),
        ])

    def uploads(self, kiosk_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """What is kept (without the bytes), newest first."""
        where, args = ("WHERE kiosk_id = ? ", (kiosk_id,)) if kiosk_id else ("", ())
        rows = self._run([(f"SELECT {_UCOLS} FROM command_uploads {where}ORDER BY "
                           "received_at DESC, command_id LIMIT ?", (*args, limit))],
                         fetch="all", write=False)
        return [upload_record(r) for r in rows]

    def upload_info(self, command_id: str) -> dict[str, Any] | None:
        """What was uploaded for a command (without the bytes), or None."""
        row = self._run([(f"SELECT {_UCOLS} FROM command_uploads WHERE command_id = ?",
                          (command_id,))], fetch="one", write=False)
        return None if row is None else upload_record(row)

    def upload(self, command_id: str) -> tuple[dict[str, Any], bytes] | None:
        row = self._run([(f"SELECT {_UCOLS}, body FROM command_uploads WHERE "
                          "command_id = ?", (command_id,))], fetch="one", write=False)
        return None if row is None else (upload_record(row[:-1]), bytes(row[-1]))


def _span(seconds: float) -> str:
    """``3600`` as ``1 h``, ``600`` as ``10 min``, ``45`` as ``45 s``."""
    whole = round(seconds)
    if whole and whole % 3600 == 0:
        return f"{whole // 3600} h"
    if whole and whole % 60 == 0:
        return f"{whole // 60} min"
    return f"{whole} s"


class SqliteCommands(_CommandSql):
    """Commands on ``SqliteStore`` (one writer, ``BEGIN IMMEDIATE``)."""

    TABLES = SQLITE_TABLES


class PostgresCommands(_CommandSql):
    """Commands on ``PostgresStore`` (one database transaction per call)."""

    TABLES = POSTGRES_TABLES
