"""The queue database schema, as an ordered list of migrations tracked in ``user_version``."""

from __future__ import annotations

import logging
import sqlite3

import sqlite_utils

from .errors import QueueSchemaError

log = logging.getLogger(__name__)

STATES = ("pending", "sent", "rejected")

# MIGRATIONS[i] takes the database from user_version i to i + 1. Append only: a released
# migration is never edited, because kiosks in the field have already run it. The SQL is
# written out rather than built with sqlite-utils' create_table so that it cannot change
# when the library does.
MIGRATIONS: list[tuple[str, ...]] = [
    (
        """
        CREATE TABLE transactions (
            id TEXT PRIMARY KEY,
            service_id TEXT NOT NULL,
            menu_version INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            created_ts REAL NOT NULL,
            identity TEXT,
            fields TEXT NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'rejected')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at REAL,
            sent_at TEXT,
            reason TEXT
        )
        """,
        "CREATE INDEX transactions_due ON transactions (state, next_attempt_at, created_ts)",
    ),
]


def schema_version() -> int:
    """The version this code creates and understands."""
    return len(MIGRATIONS)


def migrate(db: sqlite_utils.Database) -> None:
    """Bring ``db`` up to ``schema_version()`` in one transaction, or raise QueueSchemaError.

    All pending migrations and the new ``user_version`` commit together, so a power cut in the
    middle leaves the database at its old version, never half-migrated.
    """
    target = schema_version()
    current = db.execute("PRAGMA user_version").fetchone()[0]
    if current > target:
        raise QueueSchemaError(
            f"queue database has schema version {current}, newer than this software "
            f"understands ({target}); refusing to open it (was the kiosk software downgraded?)"
        )
    if current == target:
        return
    try:
        with db.atomic():
            for version in range(current, target):
                for statement in MIGRATIONS[version]:
                    db.execute(statement)
            # user_version lives in the database header, so it commits with the migrations.
            db.execute(f"PRAGMA user_version = {int(target)}")
    except sqlite3.Error as exc:
        raise QueueSchemaError(
            f"migrating queue database from version {current} to {target} failed: {exc}"
        ) from exc
    log.info("queue database migrated from schema version %d to %d", current, target)
