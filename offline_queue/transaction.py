"""One queued transaction as read back from the queue (its wire form is the uplink's:
``uplink.uploader.wire_transaction``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from contract.times import rfc3339 as rfc3339  # re-exported for queue.py and the uploader


@dataclass(frozen=True)
class Transaction:
    """A transaction in the queue. ``identity`` and ``fields`` are personal data: they are
    left out of ``repr`` so that logging a transaction never writes them to a log."""

    id: str
    service_id: str
    menu_version: int
    created_at: str
    identity: dict[str, Any] | None = field(repr=False)
    fields: dict[str, Any] = field(repr=False)
    state: str
    attempts: int
    last_error: str | None
    next_attempt_at: float | None
    sent_at: str | None
    reason: str | None
    #: When identity and fields were erased (``OfflineQueue.purge_personal``), or None.
    purged_at: str | None = None
    #: The kiosk's clock could not be trusted when it was queued (``created_at`` may be wrong).
    clock_unknown: bool = False

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Transaction:
        """A transaction from a database row whose identity and fields are already decrypted
        into a dict (or None for identity)."""
        return cls(
            id=row["id"],
            service_id=row["service_id"],
            menu_version=row["menu_version"],
            created_at=row["created_at"],
            identity=row["identity"],
            fields=row["fields"],
            state=row["state"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            next_attempt_at=row["next_attempt_at"],
            sent_at=row["sent_at"],
            reason=row["reason"],
            purged_at=row["purged_at"],
        )
