"""The durable offline queue of transactions residents confirmed, waiting for upload."""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import sqlite_utils

from . import record, salvage
from .crypto import FieldCipher
from .errors import QueueDecryptError, QueueError, QueueWriteError
from .reserve import SpaceReserve
from .schema import STATES
from .storage import open_database
from .transaction import Transaction, rfc3339

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 1024  # last_error is for technicians; keep the row small
DEFAULT_RETENTION_S = 24 * 3600
DEFAULT_REJECTED_RETENTION_S = 30 * 24 * 3600
UNDECRYPTABLE = "cannot decrypt"  # the reason due_batch gives the transactions it rejects


class OfflineQueue:
    """Transactions stored in SQLite until the central platform has accepted them.

    ``OfflineQueue(path)`` opens the database at once (the kiosk interface spec fixes that);
    ``close()`` or a ``with`` block releases it. There is one connection and one lock: every
    read and write, from any thread, goes through the lock, so the database has one writer.

    Everything about a transaction that says something about a person (service, times,
    menu version, identity, fields, the central's reason, the last upload error) is stored
    sealed (crypto.py, record.py) with the key from the systemd credential ``queue-key``
    when ``$CREDENTIALS_DIRECTORY/queue-key`` exists, else from ``key_file``, by default
    ``queue.key`` next to the database, made on first open. Keep that key: without it the
    queue's transactions cannot be read.

    A corrupt database is moved aside and what can still be read of it is put back in the
    fresh queue (salvage.py); what could not be read stays in ``notices()`` until
    ``clear_notices()``.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        key_file: str | Path | None = None,
        clock: Callable[[], float] = time.time,
        make_room: Sequence[Callable[[], object]] = (),
        clock_known: Callable[[], bool] | None = None,
    ) -> None:
        self.path = Path(path)
        self.key_file = self.path.with_name("queue.key") if key_file is None else Path(key_file)
        self._clock = clock
        self._clock_known = clock_known  # False: transactions say "clock": "unknown"
        self._lock = threading.Lock()
        db, cipher, recovered_from = open_database(self.path, clock(), self.key_file)
        self._db: sqlite_utils.Database | None = db
        self._cipher: FieldCipher = cipher
        #: Where a corrupt database found at ``path`` was moved to, or None.
        self.recovered_from: str | None = recovered_from
        self._notices = salvage.NoticeFile(self.path.with_name(self.path.name + ".notices"))
        # What may give way when the disk fills (old logs, kept receipts), then the reserve.
        self.space = SpaceReserve(self.path.with_name(self.path.stem + ".reserve"), make_room)
        if recovered_from is not None:
            try:
                with self._lock:
                    salvage.recover(db, cipher, Path(recovered_from), clock(), self._notices)
            except BaseException:
                self.close()
                raise

    def __repr__(self) -> str:
        return f"OfflineQueue({str(self.path)!r})"

    def __enter__(self) -> OfflineQueue:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the database; further calls raise QueueError. Closing twice is harmless."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # --- writes -------------------------------------------------------------------------

    def enqueue(
        self,
        service_id: str,
        fields: dict,
        identity: dict | None = None,
        menu_version: int = 0,
    ) -> str:
        """Store a confirmed transaction durably and return its new id (a uuid4 string).

        When this returns, the transaction is committed and fsynced. Any failure to store it
        raises QueueWriteError (QueueDiskFullError when the disk is full even after
        the reserve was given up); bad arguments raise ValueError.
        """
        if not isinstance(service_id, str) or not service_id.strip():
            raise ValueError("service_id must be a non-empty string")
        if isinstance(menu_version, bool) or not isinstance(menu_version, int):
            raise ValueError("menu_version must be an int")
        if menu_version < 0:
            raise ValueError("menu_version must not be negative")
        fields_json = _to_json(fields, "fields")
        identity_json = None if identity is None else _to_json(identity, "identity")
        tx_id = str(uuid.uuid4())
        created_ts = self._clock()
        sealed_identity = (
            None if identity_json is None else self._seal(tx_id, "identity", identity_json)
        )
        unknown = self._clock_known is not None and not self._clock_known()
        info = record.meta(service_id, menu_version, rfc3339(created_ts), created_ts,
                           clock_unknown=unknown)
        row = {
            "id": tx_id,
            "meta": record.seal(self._cipher, tx_id, "meta", info),
            "identity": sealed_identity,
            "fields": self._seal(tx_id, "fields", fields_json),
        }
        self.space.write("enqueue", lambda: self._insert(row))
        log.info("queued transaction %s", tx_id)
        return tx_id

    def mark_sent(self, ids: Iterable[str]) -> int:
        """Mark pending transactions sent (server said accepted or duplicate); returns how
        many changed. Ids that are unknown or no longer pending are left alone."""
        ids = _id_list(ids)
        sent_ts = self._clock()
        with self._writing("mark_sent") as db:
            changed = sum(
                db.execute(
                    "UPDATE transactions SET state = 'sent', sent_at = ?, settled_hour = ?,"
                    " next_attempt_at = NULL WHERE id = ? AND state = 'pending'",
                    (record.seal(self._cipher, tx_id, "sent_at", rfc3339(sent_ts)),
                     record.settled_hour(sent_ts), tx_id),
                ).rowcount
                for tx_id in ids
            )
        log.info("marked %d of %d transactions sent", changed, len(ids))
        return changed

    def mark_rejected(self, tx_id: str, reason: str) -> bool:
        """Mark a pending transaction rejected by the server; it is kept, ``reason`` sealed
        (it can name the resident), for technicians until the rejected retention has passed,
        and never resent automatically. Returns False when it was not pending."""
        if not isinstance(reason, str):
            raise ValueError("reason must be a string")
        with self._writing("mark_rejected") as db:
            changed = db.execute(
                "UPDATE transactions SET state = 'rejected', reason = ?, settled_hour = ?,"
                " next_attempt_at = NULL WHERE id = ? AND state = 'pending'",
                (record.seal(self._cipher, tx_id, "reason", reason[:MAX_ERROR_CHARS]),
                 record.settled_hour(self._clock()), tx_id),
            ).rowcount
        if changed:
            log.warning("transaction %s rejected by the central platform", tx_id)
        return changed == 1

    def mark_failed(self, ids: Iterable[str], error: str, next_attempt_at: float) -> int:
        """Record a failed upload attempt: count it, keep ``error``, and hold the transactions
        back until ``next_attempt_at`` (epoch seconds). Returns how many changed."""
        ids = _id_list(ids)
        if not isinstance(error, str):
            raise ValueError("error must be a string")
        next_attempt_at = float(next_attempt_at)
        with self._writing("mark_failed") as db:
            changed = sum(
                db.execute(
                    "UPDATE transactions SET attempts = attempts + 1, last_error = ?,"
                    " next_attempt_at = ? WHERE id = ? AND state = 'pending'",
                    (record.seal(self._cipher, tx_id, "last_error", error[:MAX_ERROR_CHARS]),
                     next_attempt_at, tx_id),
                ).rowcount
                for tx_id in ids
            )
        log.info(
            "upload attempt failed for %d transactions; retry at %s",
            changed, rfc3339(next_attempt_at),
        )
        return changed

    def retry_now(self) -> int:
        """Make every pending transaction due at once (a technician's "sync now");
        returns how many were held back."""
        with self._writing("retry_now") as db:
            changed = db.execute(
                "UPDATE transactions SET next_attempt_at = NULL"
                " WHERE state = 'pending' AND next_attempt_at IS NOT NULL"
            ).rowcount
        return changed

    def purge_personal(
        self,
        retention_s: float = DEFAULT_RETENTION_S,
        now: float | None = None,
        *,
        rejected_retention_s: float = DEFAULT_REJECTED_RETENTION_S,
    ) -> int:
        """Delete transactions sent more than ``retention_s`` ago and rejected ones more than
        ``rejected_retention_s`` ago; returns how many were deleted.

        Pending transactions are never deleted (not delivered yet). The settle time is kept
        rounded up to the hour, so a row goes at most an hour late, never early.
        secure_delete zeroes the deleted rows' bytes in the file; the checkpoint then
        empties the -wal, which would still hold the pages' earlier images.
        """
        for name, value in (("retention_s", retention_s),
                            ("rejected_retention_s", rejected_retention_s)):
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
                raise ValueError(f"{name} must be a number of seconds, not negative")
        now = self._clock() if now is None else now
        with self._writing("purge_personal") as db:
            purged = db.execute(
                "DELETE FROM transactions WHERE state = 'sent' AND settled_hour <= ?",
                (now - retention_s,),
            ).rowcount + db.execute(
                "DELETE FROM transactions WHERE state = 'rejected' AND settled_hour <= ?",
                (now - rejected_retention_s,),
            ).rowcount
        if purged:
            with self._reading() as db:
                busy = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if busy:
                log.info("purge: another connection is reading, so the -wal keeps old pages")
            log.info("deleted %d transactions past their retention", purged)
        return purged

    def notices(self) -> list[dict[str, Any]]:
        """What a technician must know about the queue's files: each corrupt database moved
        aside with rows that could not be read (``file``, ``at``, ``salvaged``,
        ``unreadable``, None when not even its rows could be counted). Kept until
        ``clear_notices``."""
        return self._notices.read()

    def clear_notices(self) -> int:
        """A technician has dealt with the notices: forget them and delete the moved-aside
        files they name (they hold personal data). Returns how many were cleared."""
        return self._notices.clear(self.path.parent)

    # --- reads --------------------------------------------------------------------------

    def get(self, tx_id: str) -> Transaction | None:
        """The transaction, decrypted; None when there is none with that id.

        Raises QueueDecryptError when its personal data cannot be decrypted.
        """
        with self._reading() as db:
            rows = list(db.query("SELECT * FROM transactions WHERE id = ?", (tx_id,)))
        return record.transaction(self._cipher, rows[0]) if rows else None

    def counts(self) -> dict[str, int]:
        """How many transactions are in each state; every state in STATES is a key."""
        result = dict.fromkeys(STATES, 0)
        with self._reading() as db:
            for row in db.query("SELECT state, COUNT(*) AS n FROM transactions GROUP BY state"):
                result[row["state"]] = row["n"]
        return result

    def oldest_pending_age_s(self, now: float | None = None) -> float | None:
        """Seconds since the oldest pending transaction was queued, or None if none are."""
        now = self._clock() if now is None else now
        # The queue order is the created order, so the first pending rows hold the oldest
        # time; the times are sealed, so a few are opened until one can be.
        with self._reading() as db:
            rows = list(db.query("SELECT id, meta FROM transactions WHERE state = 'pending'"
                                 " ORDER BY seq LIMIT 20"))
        for row in rows:
            with contextlib.suppress(QueueDecryptError, KeyError, TypeError, ValueError):
                return max(0.0, now - record.created_ts(self._cipher, row))
        return None

    def latest(self, state: str, limit: int = 50) -> list[Transaction]:
        """Up to ``limit`` transactions in ``state``, newest first (diagnostics). One whose
        personal data cannot be decrypted comes back with identity None and fields {}."""
        if state not in STATES:
            raise ValueError(f"state must be one of {', '.join(STATES)}")
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("limit must be a positive int")
        with self._reading() as db:
            rows = list(db.query("SELECT * FROM transactions WHERE state = ?"
                                 " ORDER BY seq DESC LIMIT ?", (state, limit)))
        return [record.transaction(self._cipher, row, lenient=True) for row in rows]

    def due_batch(self, limit: int = 100, now: float | None = None) -> list[Transaction]:
        """Up to ``limit`` pending transactions due for upload now, oldest first.

        A transaction whose personal data cannot be decrypted can never be uploaded: it is
        marked rejected with a reason starting "cannot decrypt", so that it shows among the
        rejected for technicians (its sealed data kept, for the right key file) and does not
        hold up the others.
        """
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            raise ValueError("limit must be a positive int")
        now = self._clock() if now is None else now
        while True:  # each round rejects at least one row, so this ends
            with self._reading() as db:
                rows = list(
                    db.query(
                        "SELECT * FROM transactions WHERE state = 'pending'"
                        " AND (next_attempt_at IS NULL OR next_attempt_at <= ?)"
                        " ORDER BY seq LIMIT ?",
                        (now, limit),
                    )
                )
            batch, undecryptable = [], []
            for row in rows:
                try:
                    batch.append(record.transaction(self._cipher, row))
                except QueueDecryptError as exc:
                    undecryptable.append(exc)
            if not undecryptable:
                return batch
            self._reject_undecryptable(undecryptable)

    # --- plumbing -----------------------------------------------------------------------

    def _insert(self, row: dict[str, Any]) -> None:
        with self._writing("enqueue") as db:
            db.execute("INSERT INTO transactions (id, meta, identity, fields)"
                       " VALUES (:id, :meta, :identity, :fields)", row)

    def _seal(self, tx_id: str, column: str, text: str) -> bytes:
        return self._cipher.seal(tx_id, column, text.encode())

    def _reject_undecryptable(self, errors: list[QueueDecryptError]) -> None:
        with self._writing("due_batch") as db:
            for exc in errors:
                db.execute(
                    "UPDATE transactions SET state = 'rejected', reason = ?, settled_hour = ?,"
                    " next_attempt_at = NULL WHERE id = ? AND state = 'pending'",
                    (record.seal(self._cipher, exc.tx_id, "reason",
                                 f"{UNDECRYPTABLE}: {exc.problem}"),
                     record.settled_hour(self._clock()), exc.tx_id),
                )
        for exc in errors:
            log.error("%s; marked it rejected, it will not be uploaded", exc)

    @contextlib.contextmanager
    def _writing(self, operation: str) -> Iterator[sqlite_utils.Database]:
        """Hold the lock for one committed transaction; any failure is a QueueWriteError."""
        with self._lock:
            if self._db is None:
                raise QueueWriteError(f"{operation}: the queue is closed")
            try:
                with self._db.atomic():
                    yield self._db
            except sqlite3.Error as exc:
                raise QueueWriteError(f"{operation} failed: {exc}") from exc

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite_utils.Database]:
        with self._lock:
            if self._db is None:
                raise QueueError("the queue is closed")
            try:
                yield self._db
            except sqlite3.Error as exc:
                raise QueueError(f"reading the queue failed: {exc}") from exc


def _to_json(value: Any, name: str) -> str:
    # Error messages name the problem's type, never the value: it is personal data.
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict, not {type(value).__name__}")
    if not all(isinstance(key, str) for key in value):
        raise ValueError(f"the keys of {name} must be strings")
    try:
        return json.dumps(value, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} is not JSON-serialisable: {exc}") from None


def _id_list(ids: Iterable[str]) -> list[str]:
    if isinstance(ids, str):
        raise ValueError("ids must be a list of ids, not a single string")
    return list(ids)
