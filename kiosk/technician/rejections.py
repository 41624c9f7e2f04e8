"""Transactions the central platform rejected, as a technician may see them: masked. Qt-free."""

from __future__ import annotations

from contract.personal import mask_id_number, mask_name
from kiosk.logs import mask_text
from kiosk.visit.session import short_reference
from offline_queue import OfflineQueue, Transaction


def describe_rejected(tx: Transaction) -> dict:
    """One rejected transaction: never a full name or number (fields are left out)."""
    return {
        "id": tx.id,
        "reference": short_reference(tx.id),
        "service_id": tx.service_id,
        "created_at": tx.created_at,
        "reason": _masked_reason(tx),
        "identity": masked_identity(tx.identity),
    }


def _masked_reason(tx: Transaction) -> str:
    """The central's reason with ID and mobile numbers masked, and the resident's own name
    too (a reason like "张三丰 is not insured here" would otherwise show it whole)."""
    reason = mask_text(tx.reason or "")
    name = str((tx.identity or {}).get("name") or "").strip()
    if len(name) >= 2:
        reason = reason.replace(name, mask_name(name))
    return reason


def masked_identity(identity: dict | None) -> dict | None:
    if not identity:
        return None
    out: dict = {"method": str(identity.get("method", ""))}
    if identity.get("name"):
        out["name"] = mask_name(str(identity["name"]))
    if identity.get("id_number"):
        out["id_number"] = mask_id_number(str(identity["id_number"]))
    if identity.get("card_uid"):
        out["card_uid"] = str(identity["card_uid"]).upper()  # a card's serial, not a person's
    return out


def rejected_transactions(queue: OfflineQueue, limit: int = 50) -> list[dict]:
    """The newest ``limit`` rejected transactions, described by ``describe_rejected``."""
    return [describe_rejected(tx) for tx in queue.latest("rejected", limit)]


def personal_values(queue: OfflineQueue, limit: int = 1000) -> dict[str, str]:
    """Names and ID numbers the queue still holds (newest ``limit`` of each of its states),
    each mapped to its masked form: what a diagnostics bundle must never carry whole, even
    if one slipped into a log line or an audit detail by mistake."""
    found: dict[str, str] = {}
    for state in ("pending", "rejected", "sent"):
        for tx in queue.latest(state, limit):
            identity = tx.identity or {}
            name, number = str(identity.get("name") or ""), str(identity.get("id_number") or "")
            if len(name.strip()) >= 2:
                found[name.strip()] = mask_name(name)
            if len(number.strip()) >= 6:
                found[number.strip()] = mask_id_number(number)
    return found
