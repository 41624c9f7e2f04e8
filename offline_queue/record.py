"""One row of the queue table (schema version 4) sealed and opened, column by column.

Only what the queue needs to work stays in clear: the id, the queue order (``seq``), the
state, the attempt count, the retry time of a pending row and, for a settled (sent or
rejected) row, the hour by which it settled. Everything else, which service, when, which menu,
who and what, and the central's reasons and errors, is sealed with ``FieldCipher``.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .crypto import FieldCipher
from .errors import QueueDecryptError
from .transaction import Transaction

HOUR_S = 3600.0
#: The sealed columns; each value is sealed with its transaction id and column name.
SEALED = ("meta", "identity", "fields", "sent_at", "reason", "last_error")
#: What a technician sees for a value that cannot be opened (wrong key, altered file).
UNREADABLE = "cannot decrypt (sealed with another key, or altered)"


def settled_hour(ts: float) -> float:
    """``ts`` rounded up to the whole hour: the purge's clock, never earlier than the truth,
    and too coarse to line a transaction up with a camera's recording."""
    return math.ceil(ts / HOUR_S) * HOUR_S


def seal(cipher: FieldCipher, tx_id: str, column: str, value: Any) -> bytes | None:
    """``value`` as JSON sealed for ``column``; None stays None."""
    if value is None:
        return None
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    return cipher.seal(tx_id, column, text.encode())


def unseal(cipher: FieldCipher, tx_id: str, column: str, sealed: bytes | None) -> Any:
    """The value ``seal`` sealed; QueueDecryptError when it cannot be opened."""
    if sealed is None:
        return None
    try:
        return json.loads(cipher.open(tx_id, column, sealed))
    except ValueError as exc:  # opened, so it is ours, but not JSON: never written so
        raise QueueDecryptError(tx_id, f"{column} is not valid JSON ({exc})") from None


def meta(service_id: str, menu_version: int, created_at: str, created_ts: float,
         purged_at: str | None = None, clock_unknown: bool = False) -> dict[str, Any]:
    """The sealed ``meta`` column's value: when, which service, which menu; ``clock`` is
    "unknown" when the kiosk's clock could not be trusted as it was queued."""
    value = {"service_id": service_id, "menu_version": menu_version,
             "created_at": created_at, "created_ts": created_ts}
    if clock_unknown:
        value["clock"] = "unknown"
    if purged_at is not None:  # a row an older version blanked instead of deleting
        value["purged_at"] = purged_at
    return value


def transaction(cipher: FieldCipher, row: dict[str, Any], *, lenient: bool = False
                ) -> Transaction:
    """The row decrypted. QueueDecryptError when its meta, identity or fields cannot be
    opened, unless ``lenient``: then those show as unreadable (diagnostics lists)."""
    tx_id = row["id"]
    values: dict[str, Any] = {}
    for column in SEALED:
        try:
            values[column] = unseal(cipher, tx_id, column, row[column])
        except QueueDecryptError:
            if not lenient and column in ("meta", "identity", "fields"):
                raise
            values[column] = None if column in ("identity", "fields", "meta") else UNREADABLE
    info = values["meta"] or {}
    return Transaction(
        id=tx_id,
        service_id=info.get("service_id", UNREADABLE),
        menu_version=info.get("menu_version", 0),
        created_at=info.get("created_at", UNREADABLE),
        identity=values["identity"],
        fields={} if values["fields"] is None else values["fields"],
        state=row["state"],
        attempts=row["attempts"],
        last_error=values["last_error"],
        next_attempt_at=row["next_attempt_at"],
        sent_at=values["sent_at"],
        reason=values["reason"],
        purged_at=info.get("purged_at"),
        clock_unknown=info.get("clock") == "unknown",
    )


def created_ts(cipher: FieldCipher, row: dict[str, Any]) -> float:
    """When the row's transaction was queued (epoch seconds), from its sealed meta."""
    return float(unseal(cipher, row["id"], "meta", row["meta"])["created_ts"])
