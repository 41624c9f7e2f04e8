"""Salvage of a corrupt queue database moved aside, and the notices about what was lost.

The moved file is copied (with its -wal) and the copy read row by row, each row on its own,
so a damaged page costs only the rows on it. Rows still to upload (pending) and rows a
technician must still see (rejected) go back into the fresh queue under their own ids; the
central de-duplicates by id, so a row that was in fact delivered is harmless. Rows already
sent are not needed. What could not be read is counted and kept as a notice, with the moved
file's name, until a technician clears it; a moved file with nothing unreadable is deleted
at once, since every row it held is now in the queue.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from contract.atomic import write_atomic

from . import record
from .crypto import FieldCipher
from .errors import QueueError
from .transaction import rfc3339

log = logging.getLogger(__name__)

_SIDE_FILES = ("-wal", "-shm", "-journal")


class NoticeFile:
    """The queue's notices, a small JSON list kept beside the database (mode 0600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> list[dict[str, Any]]:
        try:
            notices = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            return [{"problem": f"queue notice file {self.path.name} unreadable: {exc}"}]
        return notices if isinstance(notices, list) else []

    def add(self, notice: dict[str, Any]) -> None:
        notices = [n for n in self.read() if "problem" not in n]
        self._write([*notices, notice])

    def clear(self, folder: Path) -> int:
        notices = self.read()
        for notice in notices:
            name = notice.get("file")
            if isinstance(name, str) and name and Path(name).name == name:
                _delete(folder / name)
        self.path.unlink(missing_ok=True)
        if notices:
            log.warning("a technician cleared %d queue notices", len(notices))
        return len(notices)

    def _write(self, notices: list[dict[str, Any]]) -> None:
        try:
            write_atomic(self.path, json.dumps(notices).encode(), mode=0o600)
        except OSError as exc:
            raise QueueError(f"cannot write the queue notices {self.path}: {exc}") from exc


def recover(db: sqlite_utils.Database, cipher: FieldCipher, aside: Path, now: float,
            notices: NoticeFile) -> None:
    """Put what can be read of the corrupt database ``aside`` into ``db``."""
    rows, unreadable = read_rows(aside)
    restored = 0
    with db.atomic():
        for row in rows:
            if row.get("state") not in ("pending", "rejected"):
                continue  # sent: delivered already; anything else: not a row this queue wrote
            try:
                restored += db.execute(
                    "INSERT OR IGNORE INTO transactions (id, state, attempts, next_attempt_at,"
                    " settled_hour, meta, identity, fields, sent_at, reason, last_error)"
                    " VALUES (:id, :state, :attempts, :next_attempt_at, :settled_hour, :meta,"
                    " :identity, :fields, :sent_at, :reason, :last_error)",
                    _as_v4(row, cipher, now),
                ).rowcount
            except (sqlite3.Error, KeyError, TypeError, ValueError, AttributeError):
                # a row whose values the damage changed: as good as unreadable
                unreadable = None if unreadable is None else unreadable + 1
    log.warning("salvaged %d transactions from the corrupt queue %s; %s rows unreadable",
                restored, aside.name, "an unknown number of" if unreadable is None else unreadable)
    if unreadable == 0:
        _delete(aside)
        return
    notices.add({"kind": "queue-unreadable", "file": aside.name, "at": rfc3339(now),
                 "salvaged": restored, "unreadable": unreadable})


def read_rows(aside: Path) -> tuple[list[dict[str, Any]], int | None]:
    """The rows of ``aside``'s transactions table that can be read, and how many could not
    be (None when the file is not readable enough to count them)."""
    copy = aside.with_name(aside.name + ".salvage")
    try:
        for suffix in ("", "-wal"):
            if Path(f"{aside}{suffix}").exists():
                shutil.copyfile(f"{aside}{suffix}", f"{copy}{suffix}")
                Path(f"{copy}{suffix}").chmod(0o600)
        _fit_header(copy)
        conn = sqlite3.connect(copy)
        try:
            conn.row_factory = sqlite3.Row
            return _read(conn)
        finally:
            conn.close()
    except (OSError, sqlite3.Error) as exc:
        log.warning("corrupt queue %s cannot be read at all: %s", aside.name, exc)
        return [], None
    finally:
        _delete(copy)


def _fit_header(copy: Path) -> None:
    """Make the header's page count match a file cut short (a power cut, a full disk): SQLite
    trusts the header and refuses the whole file when pages it names are missing."""
    with contextlib.suppress(OSError), copy.open("r+b") as f:
        header = f.read(100)
        if len(header) < 100 or not header.startswith(b"SQLite format 3\x00"):
            return
        page_size = int.from_bytes(header[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = copy.stat().st_size // page_size
        if 0 < pages < int.from_bytes(header[28:32], "big"):
            f.seek(28)
            f.write(pages.to_bytes(4, "big"))


def _read(conn: sqlite3.Connection) -> tuple[list[dict[str, Any]], int | None]:
    rowids = _known_rowids(conn)
    if rowids is None:
        return [], None
    rows, unreadable = [], 0
    for rowid in sorted(rowids):
        try:
            found = conn.execute("SELECT * FROM transactions WHERE rowid = ?",
                                 (rowid,)).fetchone()
        except sqlite3.Error:
            found = None
        if found is None:
            unreadable += 1
        else:
            rows.append(dict(found))
    return rows, unreadable


def _known_rowids(conn: sqlite3.Connection) -> set[int] | None:
    """Every rowid the table or any of its indexes still names; None if none can be read.

    An index holds the rowids of its rows, so a row whose table page is damaged is still
    counted when an index page naming it is whole.
    """
    try:
        indexes = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'transactions'")]
    except sqlite3.Error:
        return None
    found: set[int] = set()
    readable = False
    for source in ["", *(f" INDEXED BY {name}" for name in indexes)]:
        with contextlib.suppress(sqlite3.Error):  # keep what came before the damage
            for (rowid,) in conn.execute(f"SELECT rowid FROM transactions{source}"):
                found.add(rowid)
            readable = True
    return found if readable or found else None


def _as_v4(row: dict[str, Any], cipher: FieldCipher, now: float) -> dict[str, Any]:
    """A row of any schema version as a version-4 row (sealed values copied as they are:
    the same id and column name open them)."""
    tx_id, state = row["id"], row["state"]
    if "meta" in row:
        return {name: row.get(name) for name in (
            "id", "state", "attempts", "next_attempt_at", "settled_hour", "meta",
            "identity", "fields", "sent_at", "reason", "last_error")}
    identity, fields = row.get("identity"), row.get("fields")
    if isinstance(fields, str):  # version 1: in clear
        identity = None if identity is None else cipher.seal(tx_id, "identity", identity.encode())
        fields = cipher.seal(tx_id, "fields", fields.encode())
    info = record.meta(row["service_id"], row["menu_version"], row["created_at"],
                       row["created_ts"], row.get("purged_at"))
    return {
        "id": tx_id, "state": state, "attempts": row.get("attempts") or 0,
        "next_attempt_at": row.get("next_attempt_at"),
        "settled_hour": None if state == "pending" else record.settled_hour(now),
        "meta": record.seal(cipher, tx_id, "meta", info),
        "identity": identity, "fields": fields,
        "sent_at": record.seal(cipher, tx_id, "sent_at", row.get("sent_at")),
        "reason": record.seal(cipher, tx_id, "reason", row.get("reason")),
        "last_error": record.seal(cipher, tx_id, "last_error", row.get("last_error")),
    }


def _delete(path: Path) -> None:
    for suffix in ("", *_SIDE_FILES):
        with contextlib.suppress(OSError):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
