"""Checking request bodies against central API version 1, free of HTTP.

A body that is not the shape of the API raises ``BodyError`` (the server answers 400); one
malformed transaction inside a well-formed batch becomes a ``Rejection`` instead, so the
rest of the batch is still stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from contract.times import is_rfc3339_z

from .errors import CentralError

MAX_BATCH = 100
DEVICE_STATES = frozenset({"online", "offline", "busy", "hwerror", "nodevice", "usererror"})
PAPER_STATES = frozenset({"full", "low", "out", "jammed", "unknown"})

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_MENU_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")
_UPPER_HEX = re.compile(r"^(?:[0-9A-F]{2})+$")


class BodyError(CentralError):
    """The body is not JSON, or not the shape the API describes (HTTP 400)."""


class BatchTooLarge(CentralError):
    """More than ``MAX_BATCH`` transactions in one upload (HTTP 413)."""


@dataclass(frozen=True)
class IncomingTransaction:
    """A transaction that passed every check. ``identity`` and ``fields`` are personal data
    and stay out of ``repr``, so logging one never writes them to a log."""

    id: str  # as the kiosk sent it; the results echo it
    service_id: str
    menu_version: int
    created_at: str
    identity: dict[str, Any] | None = field(repr=False)
    fields: dict[str, Any] = field(repr=False)

    @property
    def key(self) -> str:
        """The idempotency key: the UUID in its canonical lower-case form."""
        return self.id.lower()

    def digest(self) -> str:
        """SHA-256 of the content, to notice an id resent with different content."""
        content = [self.service_id, self.menu_version, self.created_at, self.identity,
                   self.fields]
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Rejection:
    """A transaction of the batch that is stored nowhere; the kiosk keeps it for technicians."""

    id: str
    reason: str


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BodyError("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise BodyError(f"the body is not JSON ({exc.msg} at character {exc.pos})") from None


def parse_batch(doc: Any) -> tuple[str, list[IncomingTransaction | Rejection]]:
    """``(kiosk_id, items)`` of an upload body, one item per transaction in order."""
    if not isinstance(doc, dict):
        raise BodyError("the body must be an object with kiosk_id and transactions")
    kiosk_id = doc.get("kiosk_id")
    if not isinstance(kiosk_id, str) or not kiosk_id:
        raise BodyError("$.kiosk_id must be a non-empty string")
    items = doc.get("transactions")
    if not isinstance(items, list):
        raise BodyError("$.transactions must be an array")
    if not items:
        raise BodyError("$.transactions must hold 1 to 100 transactions, got none")
    if len(items) > MAX_BATCH:
        raise BatchTooLarge(f"a batch holds at most {MAX_BATCH} transactions, got {len(items)}")
    checked: list[IncomingTransaction | Rejection] = []
    for i, item in enumerate(items):
        # Without an id the kiosk could not match a result to its transaction: the whole
        # batch is malformed, not one transaction of it.
        if not isinstance(item, dict):
            raise BodyError(f"$.transactions[{i}] must be an object")
        if not isinstance(item.get("id"), str) or not item["id"]:
            raise BodyError(f"$.transactions[{i}].id must be a non-empty string")
        checked.append(check_transaction(item))
    return kiosk_id, checked


def check_transaction(item: dict[str, Any]) -> IncomingTransaction | Rejection:
    """Check one transaction object whose ``id`` is a string; unknown keys are ignored."""
    tid = item["id"]
    reason = _transaction_problem(item)
    if reason is not None:
        return Rejection(tid, reason)
    return IncomingTransaction(tid, item["service_id"], item["menu_version"],
                               item["created_at"], item["identity"], item["fields"])


def _transaction_problem(item: dict[str, Any]) -> str | None:
    if not _UUID.match(item["id"]):
        return "id: not a UUID"
    service_id = item.get("service_id")
    if not isinstance(service_id, str) or not _MENU_ID.match(service_id):
        return "service_id: expected a menu service id (a-z, 0-9, '-', at most 48)"
    version = item.get("menu_version")
    if not _is_int(version) or version < 0:
        return "menu_version: expected a whole number >= 0"
    if not is_rfc3339_z(item.get("created_at")):
        return "created_at: expected RFC 3339 UTC with a Z suffix, e.g. 2026-11-24T09:30:00Z"
    if "identity" not in item:
        return "identity: missing (null when the service needs none)"
    problem = identity_problem(item["identity"])
    if problem is not None:
        return f"identity: {problem}"
    if not isinstance(item.get("fields"), dict):
        return "fields: expected an object"
    return None


def identity_problem(identity: Any) -> str | None:
    """What is wrong with an ``identity`` value, or None. Profiles other than ``ga467`` and
    ``pcsc-uid`` only need a ``method`` name; their keys are theirs to document."""
    if identity is None:
        return None
    if not isinstance(identity, dict):
        return "expected null or an object"
    method = identity.get("method")
    if not isinstance(method, str) or not method:
        return "method: expected a profile name"
    if method == "ga467":
        number, name = identity.get("id_number"), identity.get("name")
        if not isinstance(number, str) or not _ID_NUMBER.match(number):
            return "id_number: expected an 18-character resident ID number"
        if not isinstance(name, str) or not name.strip():
            return "name: expected a non-empty string"
    elif method == "pcsc-uid":
        uid = identity.get("card_uid")
        if not isinstance(uid, str) or not _UPPER_HEX.match(uid):
            return "card_uid: expected upper-case hex bytes"
    return None


def check_heartbeat(doc: Any) -> dict[str, Any]:
    """The heartbeat body if it is the API's shape; keys the API does not name are kept."""
    if not isinstance(doc, dict):
        raise BodyError("the heartbeat must be an object")
    if not isinstance(doc.get("kiosk_id"), str) or not doc["kiosk_id"]:
        raise BodyError("$.kiosk_id must be a non-empty string")
    if not is_rfc3339_z(doc.get("time")):
        raise BodyError("$.time must be RFC 3339 UTC with a Z suffix")
    if "app_version" in doc and not isinstance(doc["app_version"], str):
        raise BodyError("$.app_version must be a string")
    if "menu_version" in doc and not (_is_int(doc["menu_version"]) and doc["menu_version"] >= 0):
        raise BodyError("$.menu_version must be a whole number >= 0")
    for key in ("menu_rejected", "queue"):
        if doc.get(key) is not None and not isinstance(doc[key], dict):
            raise BodyError(f"$.{key} must be an object or null")
    devices = doc.get("devices")
    if devices is not None:
        if not isinstance(devices, dict):
            raise BodyError("$.devices must be an object")
        for name, device in devices.items():
            if not isinstance(device, dict) or device.get("state") not in DEVICE_STATES:
                raise BodyError(f"$.devices.{name}.state must be one of "
                                f"{', '.join(sorted(DEVICE_STATES))}")
            if "paper" in device and device["paper"] not in PAPER_STATES:
                raise BodyError(f"$.devices.{name}.paper must be one of "
                                f"{', '.join(sorted(PAPER_STATES))}")
    return doc


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)

