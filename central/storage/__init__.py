"""The central's storage: one interface (``Store``), a SQLite and a PostgreSQL backend.

``open_store(url)`` picks the backend from the ``--db`` value of central-operations.md:
``postgresql://...`` or ``postgres://...``, ``sqlite:///absolute/path.db``, or a plain path.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .base import HEARTBEAT_HISTORY, SCHEMA_VERSION, Ingested, Store, redact
from .sqlite import SqliteStore

__all__ = ["HEARTBEAT_HISTORY", "SCHEMA_VERSION", "Ingested", "SqliteStore", "Store",
           "describe", "open_store", "parse_db"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def parse_db(value: str | Path) -> tuple[str, str | Path]:
    """``("postgres", url)`` or ``("sqlite", path)`` for a ``--db`` value; an unknown
    scheme or a relative ``sqlite://`` path is a ``ConfigError`` naming the value."""
    if isinstance(value, Path):
        return "sqlite", value
    m = _SCHEME.match(value)
    if m is None:
        return "sqlite", Path(value)
    scheme = m.group(1).lower()
    if scheme in ("postgresql", "postgres"):
        return "postgres", value
    if scheme == "sqlite":
        path = value[len("sqlite://"):]
        if not path.startswith("/"):
            raise ConfigError(f"--db {value}: a sqlite URL names an absolute path, "
                              "sqlite:///absolute/path.db")
        return "sqlite", Path(path)
    raise ConfigError(f"--db {describe(value)}: unknown scheme {scheme!r} (expected "
                      "postgresql://, postgres://, sqlite:/// or a file path)")


def describe(value: str | Path) -> str:
    """The ``--db`` value without a password, for messages and logs."""
    return redact(str(value))


def open_store(value: str | Path, *, heartbeat_history: int = HEARTBEAT_HISTORY,
               readonly: bool = False, **pool: Any) -> Store:
    """Open the store ``value`` names, creating or upgrading its schema (``readonly``: an
    existing database, only read, as ``kiosk-central stats`` does). ``pool``:
    ``pool_size`` and ``pool_wait_s`` of a PostgreSQL store (SQLite has no pool)."""
    kind, target = parse_db(value)
    if kind == "postgres":
        from .postgres import PostgresStore  # psycopg only where PostgreSQL is used

        return PostgresStore.open(str(target), heartbeat_history=heartbeat_history,
                                  readonly=readonly, **pool)
    if readonly:
        return SqliteStore.open_readonly(target)
    return SqliteStore.open(target, heartbeat_history=heartbeat_history)
