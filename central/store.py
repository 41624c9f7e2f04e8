"""The central store, kept under its old name: ``CentralStore`` is the SQLite backend and
``open_store`` opens whichever backend a ``--db`` value names (see ``central.storage``)."""

from __future__ import annotations

from .storage import HEARTBEAT_HISTORY, SCHEMA_VERSION, Ingested, Store, open_store
from .storage.sqlite import SqliteStore as CentralStore

__all__ = ["HEARTBEAT_HISTORY", "SCHEMA_VERSION", "CentralStore", "Ingested", "Store",
           "open_store"]
