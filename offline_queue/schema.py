"""The queue database schema, as an ordered list of migrations tracked in ``user_version``."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from datetime import datetime

import sqlite_utils

from .crypto import FieldCipher
from .errors import QueueSchemaError

log = logging.getLogger(__name__)

STATES = ("pending", "sent", "rejected")

ENCRYPTED_SINCE = 2  # the schema version from which identity and fields are sealed
ALL_SEALED_SINCE = 4  # the schema version from which every row holds a sealed meta


def _seal_v1_rows(db: sqlite_utils.Database, cipher: FieldCipher) -> None:
    """Copy the rows of the version-1 table, with identity and fields sealed, into the new one.

    Rows go over in rowid order, which keeps due_batch's order for equal created_ts.
    """
    rows = list(db.query("SELECT * FROM transactions_v1 ORDER BY rowid"))
    for row in rows:
        tx_id = row["id"]
        if row["identity"] is not None:
            row["identity"] = cipher.seal(tx_id, "identity", row["identity"].encode())
        row["fields"] = cipher.seal(tx_id, "fields", row["fields"].encode())
        sent_at = row["sent_at"]
        row["sent_ts"] = None if sent_at is None else datetime.fromisoformat(sent_at).timestamp()
        columns, names = ", ".join(row), ", ".join(f":{column}" for column in row)
        db.execute(f"INSERT INTO transactions ({columns}) VALUES ({names})", row)


def _seal_v3_rows(db: sqlite_utils.Database, cipher: FieldCipher) -> None:
    """Copy the version-3 rows into the version-4 table with service, times, menu version,
    sent time, reason and error sealed; identity and fields are sealed already and go over
    as they are (same id, same column name, so the same associated data).

    Rows go over in queue order (created_ts, rowid), which becomes ``seq``. A rejected row's
    rejection time was never stored: its retention counts from this upgrade.
    """
    from . import record  # record imports transaction, which is independent of the schema

    upgraded = record.settled_hour(time.time())
    for row in db.query("SELECT * FROM transactions_v3 ORDER BY created_ts, rowid"):
        tx_id, state = row["id"], row["state"]
        settled = None
        if state == "sent":
            settled = record.settled_hour(row["sent_ts"] or upgraded)
        elif state == "rejected":
            settled = upgraded
        info = record.meta(row["service_id"], row["menu_version"], row["created_at"],
                           row["created_ts"], row["purged_at"])
        db.execute(
            "INSERT INTO transactions (id, state, attempts, next_attempt_at, settled_hour,"
            " meta, identity, fields, sent_at, reason, last_error)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (tx_id, state, row["attempts"], row["next_attempt_at"], settled,
             record.seal(cipher, tx_id, "meta", info), row["identity"], row["fields"],
             record.seal(cipher, tx_id, "sent_at", row["sent_at"]),
             record.seal(cipher, tx_id, "reason", row["reason"]),
             record.seal(cipher, tx_id, "last_error", row["last_error"])),
        )


Step = str | Callable[[sqlite_utils.Database, FieldCipher], None]

# MIGRATIONS[i] takes the database from user_version i to i + 1. Append only: a released
# migration is never edited, because kiosks in the field have already run it. The SQL is
# written out rather than built with sqlite-utils' create_table so that it cannot change
# when the library does. A step is an SQL statement or a function of the database and the
# cipher, for the rare migration that must rewrite values.
MIGRATIONS: list[tuple[Step, ...]] = [
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
    # 2: identity and fields sealed (crypto.FieldCipher) in BLOB columns, NULL once purged;
    # sent_ts (epoch seconds) and purged_at for the retention purge. SQLite cannot change a
    # column's type, so the table is rebuilt.
    (
        "ALTER TABLE transactions RENAME TO transactions_v1",
        """
        CREATE TABLE transactions (
            id TEXT PRIMARY KEY,
            service_id TEXT NOT NULL,
            menu_version INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            created_ts REAL NOT NULL,
            identity BLOB,
            fields BLOB CHECK (fields IS NOT NULL OR purged_at IS NOT NULL),
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'rejected')),
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            next_attempt_at REAL,
            sent_at TEXT,
            sent_ts REAL,
            reason TEXT,
            purged_at TEXT
        )
        """,
        _seal_v1_rows,
        "DROP TABLE transactions_v1",
        "CREATE INDEX transactions_due ON transactions (state, next_attempt_at, created_ts)",
        # For purge_personal; rows already purged, most of them in time, are left out.
        "CREATE INDEX transactions_to_purge ON transactions (state, sent_ts)"
        " WHERE purged_at IS NULL",
    ),
    # 2 -> 3: due_batch walks pending rows in created order and filters next_attempt_at on
    # the way; the (state, next_attempt_at, ...) index made it sort every pending row for each
    # batch (12 ms a batch with 100,000 pending, benchmarks/queue_drain.py).
    (
        "DROP INDEX transactions_due",
        "CREATE INDEX transactions_pending ON transactions (state, created_ts)",
    ),
    # 3 -> 4 (issue #12): everything that says something about a person is sealed, the
    # service and the times included, in ``meta``; the central's reason and the last upload
    # error are sealed too. The clear columns are what the queue needs to work: ``seq`` is
    # the queue order (an INTEGER PRIMARY KEY, so VACUUM keeps it), ``settled_hour`` the
    # sent or rejected time rounded up to the hour, for the retention purge. Rows are
    # deleted once past retention, so purged_at is gone (an older blanked row keeps it in
    # meta until its deletion).
    (
        "ALTER TABLE transactions RENAME TO transactions_v3",
        "DROP INDEX transactions_pending",
        "DROP INDEX transactions_to_purge",
        """
        CREATE TABLE transactions (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sent', 'rejected')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL,
            settled_hour REAL CHECK ((state = 'pending') = (settled_hour IS NULL)),
            meta BLOB NOT NULL,
            identity BLOB,
            fields BLOB,
            sent_at BLOB,
            reason BLOB,
            last_error BLOB
        )
        """,
        _seal_v3_rows,
        "DROP TABLE transactions_v3",
        "CREATE INDEX transactions_pending ON transactions (state)",
        "CREATE INDEX transactions_settled ON transactions (state, settled_hour)",
    ),
]


def schema_version() -> int:
    """The version this code creates and understands."""
    return len(MIGRATIONS)


def current_version(db: sqlite_utils.Database) -> int:
    """The schema version of ``db``; QueueSchemaError if it is newer than this code knows."""
    current = db.execute("PRAGMA user_version").fetchone()[0]
    target = schema_version()
    if current > target:
        raise QueueSchemaError(
            f"queue database has schema version {current}, newer than this software "
            f"understands ({target}); refusing to open it (was the kiosk software downgraded?)"
        )
    return current


def holds_sealed_values(db: sqlite_utils.Database) -> bool:
    """Whether ``db`` holds values that only its key file can open."""
    version = current_version(db)
    if version < ENCRYPTED_SINCE:
        return False
    if version >= ALL_SEALED_SINCE:
        return bool(db.execute("SELECT EXISTS (SELECT 1 FROM transactions)").fetchone()[0])
    return bool(
        db.execute(
            "SELECT EXISTS (SELECT 1 FROM transactions"
            " WHERE identity IS NOT NULL OR fields IS NOT NULL)"
        ).fetchone()[0]
    )


def migrate(db: sqlite_utils.Database, cipher: FieldCipher) -> None:
    """Bring ``db`` up to ``schema_version()`` in one transaction, or raise QueueSchemaError.

    All pending migrations and the new ``user_version`` commit together, so a power cut in the
    middle leaves the database at its old version, never half-migrated. A database that
    existed before is then rewritten without the old rows' bytes (``_scrub``).
    """
    target = schema_version()
    current = current_version(db)
    if current == target:
        return
    try:
        with db.atomic():
            for version in range(current, target):
                for step in MIGRATIONS[version]:
                    if isinstance(step, str):
                        db.execute(step)
                    else:
                        step(db, cipher)
            # user_version lives in the database header, so it commits with the migrations.
            db.execute(f"PRAGMA user_version = {int(target)}")
    except (sqlite3.Error, ValueError) as exc:  # ValueError: a stored value a step cannot read
        raise QueueSchemaError(
            f"migrating queue database from version {current} to {target} failed: {exc}"
        ) from exc
    log.info("queue database migrated from schema version %d to %d", current, target)
    if current > 0:
        _scrub(db)


def _scrub(db: sqlite_utils.Database) -> None:
    """Leave no copy of rows a migration rewrote (clear values) in the files.

    secure_delete zeroes what this connection frees, but pages freed before it was turned on
    keep their old bytes: VACUUM rewrites the file without them. The checkpoint then empties
    the -wal, which still holds the old page images.
    """
    try:
        db.execute("VACUUM")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:  # the migration itself is committed and sound
        log.warning("queue database not compacted after migrating (%s): free pages may still "
                    "hold old rows with values in clear", exc)
