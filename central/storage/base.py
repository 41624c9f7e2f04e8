"""What every central store offers, and the pieces both backends share.

A store keeps received transactions (once each, by id), their outbox state (delivered to the
platform or not), the kiosks' heartbeats (the latest one per kiosk plus a bounded history) and
the admin-published menu bundles. ``central.storage.sqlite`` and ``central.storage.postgres``
implement ``Store`` with the same method names and the same answers.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import VersionTaken
from ..wire import IncomingTransaction

log = logging.getLogger(__name__)

# 2 added menus; 3 the outbox columns and kiosk_state; 4 releases, commands or drafts (three
# branches each called theirs 4); 5 all three: every table is created IF NOT EXISTS, so a
# database at any 4 gains the others' tables
SCHEMA_VERSION = 5
HEARTBEAT_HISTORY = 1000  # heartbeats kept per kiosk: about 16 hours at one a minute
MENU_COLUMNS = ("seq", "version", "target_kind", "target", "key_id", "etag", "admin",
                "published_at")

ACCEPTED, DUPLICATE, CONFLICT = "accepted", "duplicate", "conflict"


@dataclass(frozen=True)
class Ingested:
    """What became of one transaction of a batch: ``accepted`` (stored now), ``duplicate``
    (stored before with the same content) or ``conflict`` (stored before with other content;
    the stored one is left as it was)."""

    status: str

    @property
    def wire(self) -> dict[str, str]:
        """The result member of central-api.md section 1 and 4 (without the id)."""
        if self.status == CONFLICT:
            return {"status": "rejected",
                    "reason": "conflict: this id is already stored with other content"}
        return {"status": self.status}


@dataclass(frozen=True)
class TxRow:
    """One transaction as both backends write it."""

    key: str
    kiosk_id: str
    service_id: str
    menu_version: int
    created_at: str
    identity: str | None  # JSON text; personal data
    fields: str  # JSON text; personal data
    digest: str
    received_at: float


def tx_rows(kiosk_id: str, items: Iterable[IncomingTransaction], received: float
            ) -> list[TxRow]:
    return [TxRow(t.key, kiosk_id, t.service_id, t.menu_version, t.created_at,
                  None if t.identity is None else json.dumps(t.identity, ensure_ascii=False),
                  json.dumps(t.fields, ensure_ascii=False), t.digest(), received)
            for t in items]


def classify(rows: Sequence[TxRow], new_keys: set[str], stored: dict[str, str]
             ) -> list[Ingested]:
    """The outcome of each row in batch order. ``new_keys``: ids this batch inserted;
    ``stored``: id -> digest of the others. A repeat inside the batch compares with the
    first copy, which is what got stored."""
    first: dict[str, str] = {}
    out: list[Ingested] = []
    for row in rows:
        if row.key in new_keys and row.key not in first:
            first[row.key] = row.digest
            out.append(Ingested(ACCEPTED))
            continue
        kept = first.get(row.key, stored.get(row.key))
        if kept is not None and kept != row.digest:
            # The first copy stays; a kiosk that reuses ids has a bug worth a warning.
            log.warning("transaction %s was sent again with different content; "
                        "the first copy is kept", row.key)
            out.append(Ingested(CONFLICT))
        else:
            out.append(Ingested(DUPLICATE))
    return out


def redact(url: str) -> str:
    """A database URL with its password replaced, for messages and logs."""
    return re.sub(r"(://[^:/@]*:)[^@]*@", r"\1***@", url)


def transaction_record(row: Sequence[Any]) -> dict[str, Any]:
    """A transaction as ``Store.transaction`` and the outbox give it: the columns id,
    kiosk_id, service_id, menu_version, created_at, identity, fields, received_at, then
    delivered_at and purged_at. ``identity``/``fields`` are None once purged."""
    identity, fields = row[5], row[6]
    return {"id": row[0], "kiosk_id": row[1], "service_id": row[2], "menu_version": row[3],
            "created_at": row[4], "identity": _json(identity), "fields": _json(fields),
            "received_at": row[7], "delivered_at": row[8], "purged_at": row[9]}


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def menu_record(row: Sequence[Any]) -> dict[str, Any]:
    """A ``menus`` row of ``MENU_COLUMNS`` as a dict keyed by the column names."""
    return dict(zip(MENU_COLUMNS, row, strict=True))


def merge_kiosk_stats(tx: Iterable[Sequence[Any]], hb: Iterable[Sequence[Any]]
                      ) -> list[dict[str, Any]]:
    """``kiosk_stats`` from (kiosk_id, count, last received) and (kiosk_id, last beat)."""
    stats: dict[str, dict[str, Any]] = {}
    for kiosk_id, count, last in tx:
        stats[kiosk_id] = {"kiosk_id": kiosk_id, "transactions": count,
                           "last_transaction_at": last, "last_heartbeat_at": None}
    for kiosk_id, last in hb:
        entry = stats.setdefault(kiosk_id, {"kiosk_id": kiosk_id, "transactions": 0,
                                            "last_transaction_at": None})
        entry["last_heartbeat_at"] = last
    return [stats[k] for k in sorted(stats)]



class Statements:
    """Runs a list of SQL statements (``?`` placeholders) in one database transaction: the
    one helper the table mixins (releases, commands, drafts) write their SQL through.
    ``fetch`` says what comes back: ``none``; ``one`` or ``all`` (the first statement's
    rows; when ``one`` finds no row, the rest, which depend on it, are not run); ``count``
    (how many rows all of them returned). ``write=False`` reads without taking the writer's
    lock where the backend has one. A unique key already taken raises ``VersionTaken``."""

    def _run(self, statements: Sequence[tuple[str, tuple]], fetch: str = "none", *,
             write: bool = True) -> Any:
        raise NotImplementedError


class SqliteStatements(Statements):
    """``_run`` on ``SqliteStore`` (``_write``: one writer, ``BEGIN IMMEDIATE``)."""

    def _run(self, statements: Sequence[tuple[str, tuple]], fetch: str = "none", *,
             write: bool = True) -> Any:
        try:
            with self._write() if write else self._db() as db:  # type: ignore[attr-defined]
                return _run_each(db.execute, statements, fetch)
        except sqlite3.IntegrityError as exc:
            raise VersionTaken(f"already kept ({exc})") from None


class PostgresStatements(Statements):
    """``_run`` on ``PostgresStore`` (``_tx``: one database transaction per call)."""

    def _run(self, statements: Sequence[tuple[str, tuple]], fetch: str = "none", *,
             write: bool = True) -> Any:
        import psycopg  # only a PostgreSQL central needs it

        try:
            with self._tx() as cur:  # type: ignore[attr-defined]
                return _run_each(lambda sql, args: cur.execute(sql.replace("?", "%s"), args),
                                 statements, fetch)
        except psycopg.errors.UniqueViolation as exc:
            raise VersionTaken(f"already kept ({str(exc).splitlines()[0]})") from None


def _run_each(execute: Callable[[str, tuple], Any], statements: Sequence[tuple[str, tuple]],
              fetch: str) -> Any:
    first: Any = None
    count = 0
    for i, (sql, args) in enumerate(statements):
        cur = execute(sql, args)
        if fetch == "count":
            count += len(cur.fetchall())
        elif i == 0 and fetch != "none":  # read before the next statement runs
            first = cur.fetchall() if fetch == "all" else cur.fetchone()
            if first is None:
                break
    return count if fetch == "count" else first

class Store(Protocol):
    """The central's storage; every method is safe to call from several threads."""

    def close(self) -> None: ...

    # transactions
    def ingest(self, kiosk_id: str, items: Iterable[IncomingTransaction],
               now: float | None = None) -> list[Ingested]: ...

    def add_transactions(self, kiosk_id: str, items: Iterable[IncomingTransaction],
                         now: float | None = None) -> list[bool]: ...

    def transactions_count(self, kiosk_id: str | None = None) -> int: ...

    def transaction(self, transaction_id: str) -> dict[str, Any] | None: ...

    # outbox
    def claim_outbox(self, limit: int, lease_s: float,
                     now: float | None = None) -> list[dict[str, Any]]: ...

    def mark_delivered(self, ids: Sequence[str], now: float | None = None) -> None: ...

    def retry_later(self, ids: Sequence[str], at: float) -> None: ...

    def purge_delivered(self, before: float, now: float | None = None) -> int: ...

    def outbox_stats(self) -> dict[str, int]: ...

    # heartbeats
    def add_heartbeat(self, kiosk_id: str, body: dict[str, Any],
                      now: float | None = None) -> None: ...

    def latest_heartbeat(self, kiosk_id: str) -> dict[str, Any] | None: ...

    def latest_heartbeats(self) -> dict[str, tuple[float, dict[str, Any]]]: ...

    def heartbeats(self, kiosk_id: str, limit: int = 100
                   ) -> list[tuple[float, dict[str, Any]]]: ...

    def recent_heartbeats(self, kiosk_ids: Iterable[str], per_kiosk: int = 2
                          ) -> dict[str, list[tuple[float, dict[str, Any]]]]: ...

    # menus
    def add_menu(self, *, version: int, target_kind: str, target: str, key_id: str,
                 etag: str, body: bytes, admin: str,
                 now: float | None = None) -> dict[str, Any]: ...

    def menu_records(self) -> list[dict[str, Any]]: ...

    def newest_menus(self) -> list[tuple[dict[str, Any], bytes]]: ...

    def menu_body(self, seq: int) -> bytes | None: ...

    def menus_generation(self) -> int: ...

    # fleet commands (central.storage.commands)
    def add_commands(self, kiosk_ids: Iterable[str], type_: str, args: dict[str, Any], *,
                     admin: str, now: float | None = None) -> list[dict[str, Any]]: ...

    def take_commands(self, kiosk_id: str, now: float | None = None,
                      expire_before: float | None = None) -> list[dict[str, Any]]: ...

    def expire_commands(self, before: float, kiosk_id: str | None = None,
                        now: float | None = None) -> int: ...

    def finish_commands(self, kiosk_id: str, results: Iterable[dict[str, str]],
                        now: float | None = None) -> int: ...

    def commands(self, kiosk_id: str | None = None, limit: int = 100
                 ) -> list[dict[str, Any]]: ...

    def command(self, command_id: str) -> dict[str, Any] | None: ...

    def add_upload(self, command_id: str, kiosk_id: str, kind: str, content_type: str,
                   body: bytes, now: float | None = None) -> None: ...

    def uploads(self, kiosk_id: str | None = None, limit: int = 200
                ) -> list[dict[str, Any]]: ...

    def upload_info(self, command_id: str) -> dict[str, Any] | None: ...

    def upload(self, command_id: str) -> tuple[dict[str, Any], bytes] | None: ...

    # menu drafts (central.storage.drafts)
    def create_draft(self, *, menu_json: str, digest: str, base_version: int, admin: str,
                     summary: str, now: float | None = None) -> dict[str, Any]: ...

    def draft(self, draft_id: int) -> dict[str, Any] | None: ...

    def drafts(self) -> list[dict[str, Any]]: ...

    def save_draft(self, draft_id: int, *, revision: int, menu_json: str | None, digest: str,
                   state: str, admin: str, summary: str, approved: bool = False,
                   published_seq: int | None = None,
                   now: float | None = None) -> dict[str, Any] | None: ...

    def draft_changes(self, draft_id: int, limit: int = 100) -> list[dict[str, Any]]: ...

    # reports
    def kiosk_stats(self) -> list[dict[str, Any]]: ...
