"""Menu drafts in both stores: admins' work on a menu before it is signed and published.

A draft is one row holding the whole menu document as JSON, a ``revision`` that every save
moves on (optimistic concurrency: a save names the revision it started from and is refused
when another save came first), its state (``editing``, ``approved``, ``published``) and who
did what when; ``draft_changes`` keeps every save's author, time and summary. The SQL is the
same on both backends but for the placeholders, so one mixin per backend adds these methods
to ``SqliteStore`` and ``PostgresStore``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .base import Statements

DRAFT_COLUMNS = ("id", "base_version", "state", "revision", "digest", "created_by",
                 "created_at", "updated_by", "updated_at", "approved_by", "approved_at",
                 "published_seq")
_COLS = ", ".join(DRAFT_COLUMNS)

SQLITE_TABLES = """
CREATE TABLE IF NOT EXISTS drafts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    base_version INTEGER NOT NULL,  -- the published version it was made from (0: none)
    state TEXT NOT NULL,            -- 'editing', 'approved' or 'published'
    revision INTEGER NOT NULL,      -- moves on with every save
    digest TEXT NOT NULL,           -- SHA-256 of the canonical bytes once approved
    created_by TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at REAL NOT NULL,
    approved_by TEXT,
    approved_at REAL,
    published_seq INTEGER,          -- menus.seq once published
    menu TEXT NOT NULL              -- the menu document, JSON
);
CREATE TABLE IF NOT EXISTS draft_changes (
    draft_id INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    admin TEXT NOT NULL,
    at REAL NOT NULL,
    summary TEXT NOT NULL,
    PRIMARY KEY (draft_id, revision)
);
"""

POSTGRES_TABLES = """
CREATE TABLE IF NOT EXISTS drafts (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    base_version integer NOT NULL,
    state text NOT NULL,
    revision integer NOT NULL,
    digest text NOT NULL,
    created_by text NOT NULL,
    created_at double precision NOT NULL,
    updated_by text NOT NULL,
    updated_at double precision NOT NULL,
    approved_by text,
    approved_at double precision,
    published_seq bigint,
    menu text NOT NULL
);
CREATE TABLE IF NOT EXISTS draft_changes (
    draft_id bigint NOT NULL,
    revision integer NOT NULL,
    admin text NOT NULL,
    at double precision NOT NULL,
    summary text NOT NULL,
    PRIMARY KEY (draft_id, revision)
)
"""


def draft_record(row: Sequence[Any]) -> dict[str, Any]:
    """A drafts row of ``DRAFT_COLUMNS`` (then optionally ``menu``) as a dict."""
    out = dict(zip(DRAFT_COLUMNS, row[: len(DRAFT_COLUMNS)], strict=True))
    if len(row) > len(DRAFT_COLUMNS):
        out["menu"] = row[len(DRAFT_COLUMNS)]
    return out


class _DraftSql(Statements):
    """The statements, with ``?`` placeholders, run by the store's ``_run`` (which stops
    after the first when it matched no row)."""

    def create_draft(self, *, menu_json: str, digest: str, base_version: int, admin: str,
                     summary: str, now: float | None = None) -> dict[str, Any]:
        at = time.time() if now is None else now
        row = self._run([(
            f"INSERT INTO drafts (base_version, state, revision, digest, created_by, "
            f"created_at, updated_by, updated_at, menu) VALUES (?, 'editing', 1, ?, ?, ?, ?, "
            f"?, ?) RETURNING {_COLS}",
            (base_version, digest, admin, at, admin, at, menu_json))], fetch="one")
        record = draft_record(row)
        self._run([("INSERT INTO draft_changes VALUES (?, 1, ?, ?, ?)",
                    (record["id"], admin, at, summary))])
        return record

    def draft(self, draft_id: int) -> dict[str, Any] | None:
        """The draft with its menu (JSON text), or None."""
        row = self._run([(f"SELECT {_COLS}, menu FROM drafts WHERE id = ?", (draft_id,))],
                        fetch="one")
        return None if row is None else draft_record(row)

    def drafts(self) -> list[dict[str, Any]]:
        """Every draft's record (no menu), newest first."""
        rows = self._run([(f"SELECT {_COLS} FROM drafts ORDER BY id DESC", ())], fetch="all")
        return [draft_record(r) for r in rows]

    def save_draft(self, draft_id: int, *, revision: int, menu_json: str | None, digest: str,
                   state: str, admin: str, summary: str, approved: bool = False,
                   published_seq: int | None = None,
                   now: float | None = None) -> dict[str, Any] | None:
        """Replace the draft if it is still at ``revision``; its record at ``revision + 1``,
        or None when another save came first (nothing is written then)."""
        at = time.time() if now is None else now
        menu_sql = "menu = ?, " if menu_json is not None else ""
        menu_arg = (menu_json,) if menu_json is not None else ()
        approval = ("approved_by = ?, approved_at = ?, " if approved
                    else "approved_by = NULL, approved_at = NULL, " if state == "editing"
                    else "")
        approval_args = (admin, at) if approved else ()
        row = self._run([
            (f"UPDATE drafts SET {menu_sql}revision = revision + 1, digest = ?, state = ?, "
             f"updated_by = ?, updated_at = ?, {approval}"
             "published_seq = coalesce(?, published_seq) WHERE id = ? AND revision = ? "
             f"RETURNING {_COLS}",
             (*menu_arg, digest, state, admin, at, *approval_args, published_seq, draft_id,
              revision)),
            ("INSERT INTO draft_changes SELECT id, revision, ?, ?, ? FROM drafts "
             "WHERE id = ? AND revision = ?", (admin, at, summary, draft_id, revision + 1)),
        ], fetch="one")
        return None if row is None else draft_record(row)

    def draft_changes(self, draft_id: int, limit: int = 100) -> list[dict[str, Any]]:
        """Who saved what and when, newest first."""
        rows = self._run([("SELECT revision, admin, at, summary FROM draft_changes WHERE "
                           "draft_id = ? ORDER BY revision DESC LIMIT ?", (draft_id, limit))],
                         fetch="all")
        return [{"revision": r[0], "admin": r[1], "at": r[2], "summary": r[3]} for r in rows]


class SqliteDrafts(_DraftSql):
    """Drafts on ``SqliteStore`` (one writer, ``BEGIN IMMEDIATE``)."""

    TABLES = SQLITE_TABLES


class PostgresDrafts(_DraftSql):
    """Drafts on ``PostgresStore`` (one database transaction per call)."""

    TABLES = POSTGRES_TABLES
