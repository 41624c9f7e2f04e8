"""Fleet commands on the wire: admins queue them, heartbeats carry them, kiosks answer.

Kiosk side (central-api.md section 3): a heartbeat's ``command_results`` are recorded, and a
``200`` answer carries the kiosk's open commands; a ``screenshot`` or ``upload_diagnostics``
names in ``args.upload_path`` where the kiosk uploads its file
(``POST /api/v1/kiosks/{kiosk_id}/commands/{id}/upload``, documented in central/README.md).

Admin side (central/README.md): ``POST /api/v1/admin/commands`` queues one command for a
kiosk, a group or every kiosk; ``GET`` lists them; ``GET /api/v1/admin/commands/{id}/upload``
gives back what the kiosk uploaded (a PNG, a zip), to admins only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contract.times import rfc3339

from .admins import Admin
from .fleet_commands_view import SHOWN, commands_section
from .kiosks import KIOSK_ID, Kiosk
from .replies import HttpError, Reply
from .storage.commands import COMMAND_TYPES, FINAL, OPEN, UPLOAD_TYPES
from .wire import BodyError, parse_json

if TYPE_CHECKING:
    from .server import CentralServer

log = logging.getLogger(__name__)

UPLOAD_ENDPOINT = "kiosk-upload"
MAX_UPLOAD_BYTES = 32 * 1024 * 1024  # a diagnostics bundle of a few MB, a screenshot of 1
UPLOAD_TYPES_BY_KIND = {"screenshot": ("image/png",),
                        "upload_diagnostics": ("application/zip",)}
ALLOWED = {
    "admin-commands": ("GET", "POST"),
    "admin-command": ("GET",),
    "admin-upload": ("GET",),
    "fleet-upload": ("GET",),  # the same file for the fleet page (HTTP Basic, like it)
}
_COMMAND_ID = re.compile(r"^[0-9a-f-]{36}$")
_SEND_KEYS = frozenset({"type", "kiosk", "group", "all", "args"})
RESULT_STATUSES = frozenset(FINAL)


# -- the kiosk's side -------------------------------------------------------------------------

def upload_path(kiosk_id: str, command_id: str) -> str:
    return f"/api/v1/kiosks/{kiosk_id}/commands/{command_id}/upload"


def wire_commands(kiosk_id: str, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The heartbeat answer's ``commands``."""
    out = []
    for c in records:
        args = dict(c["args"])
        if c["type"] in UPLOAD_TYPES:
            args["upload_path"] = upload_path(kiosk_id, c["id"])
        out.append({"id": c["id"], "type": c["type"], "args": args})
    return out


def results_of(body: Mapping[str, Any]) -> list[dict[str, str]]:
    """The well-formed entries of a heartbeat's ``command_results`` (others are logged and
    left out: a kiosk's bad result must not cost the heartbeat)."""
    found = body.get("command_results")
    if not isinstance(found, list):
        return []
    results = []
    for item in found[:100]:
        if (isinstance(item, dict) and isinstance(item.get("id"), str)
                and item.get("status") in RESULT_STATUSES):
            detail = item.get("detail")
            results.append({"id": item["id"][:64], "status": item["status"],
                            "detail": detail if isinstance(detail, str) else ""})
        else:
            log.warning("kiosk %s: a command result of the wrong shape is ignored",
                        body.get("kiosk_id"))
    return results


def receive_upload(central: CentralServer, kiosk: Kiosk, command_id: str,
                   content_type: str | None, raw: bytes) -> Reply:
    """Keep the file a kiosk uploads for one of its upload commands."""
    command = central.store.command(command_id) if _COMMAND_ID.match(command_id) else None
    if command is None or command["kiosk_id"] != kiosk.id:
        raise HttpError(404, f"no command {command_id[:64]} for this kiosk")
    kind = command["type"]
    if kind not in UPLOAD_TYPES:
        raise HttpError(409, f"a {kind} command takes no upload")
    if command["status"] not in OPEN:
        raise HttpError(409, f"command {command_id} is already {command['status']}")
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in UPLOAD_TYPES_BY_KIND[kind]:
        raise HttpError(415, f"a {kind} upload is {UPLOAD_TYPES_BY_KIND[kind][0]}")
    if not raw:
        raise HttpError(400, "the upload is empty")
    central.store.add_upload(command_id, kiosk.id, kind, media_type, raw, now=central.clock())
    log.info("kiosk %s: %s upload of %d bytes for command %s", kiosk.id, kind, len(raw),
             command_id)
    return Reply(201, {"id": command_id, "bytes": len(raw)})


# -- the admin's side -------------------------------------------------------------------------

def answer(central: CentralServer, admin: Admin, endpoint: str, method: str,
           param: str | None, raw: bytes, query: Mapping[str, str]) -> Reply:
    if endpoint == "admin-commands" and method == "POST":
        return _send(central, admin, raw)
    expire_late(central)
    if endpoint == "admin-commands":
        kiosk = query.get("kiosk") or None
        limit = _limit(query.get("limit"))
        return Reply(200, {"commands": [command_view(c) for c in
                                        central.store.commands(kiosk, limit)]},
                     {"Cache-Control": "no-store"})
    command = central.store.command(param or "")
    if command is None:
        raise HttpError(404, f"no command {str(param)[:64]}")
    if endpoint == "admin-command":
        return Reply(200, command_view(command, central.store.upload_info(command["id"])),
                     {"Cache-Control": "no-store"})
    found = central.store.upload(command["id"])
    if found is None:
        raise HttpError(404, f"nothing was uploaded for command {command['id']}")
    record, body = found
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if record["content_type"] != "image/png":  # a bundle is saved, never shown
        headers["Content-Disposition"] = (f'attachment; filename="{command["kiosk_id"]}-'
                                          f'{command["id"][:8]}.zip"')
    return Reply(200, raw=body, content_type=record["content_type"], headers=headers)


def fleet_section(central: CentralServer) -> str:
    """The fleet page's commands and latest screenshots (HTML)."""
    expire_late(central)
    return commands_section(central.store.commands(limit=SHOWN), central.store.uploads())


def expire_late(central: CentralServer) -> int:
    """Mark expired every command not delivered in time (before admins see the list: a
    kiosk that never comes back never takes its commands)."""
    now = central.clock()
    before = central.command_deadline(now)
    return 0 if before is None else central.store.expire_commands(before, now=now)


def command_view(c: dict[str, Any], upload: dict[str, Any] | None = None) -> dict[str, Any]:
    """A command as admins see it (times in RFC 3339)."""
    view = {"id": c["id"], "kiosk_id": c["kiosk_id"], "type": c["type"], "args": c["args"],
            "admin": c["admin"], "status": c["status"], "detail": c["detail"],
            "created_at": _time(c["created_at"]), "sent_at": _time(c["sent_at"]),
            "finished_at": _time(c["finished_at"])}
    if upload is not None:
        view["upload"] = {"content_type": upload["content_type"], "bytes": upload["size"],
                          "received_at": _time(upload["received_at"]),
                          "path": f"/api/v1/admin/commands/{c['id']}/upload"}
    return view


def _time(value: float | None) -> str | None:
    return None if value is None else rfc3339(value)


def _limit(value: str | None) -> int:
    try:
        return max(1, min(1000, int(value or 100)))
    except ValueError:
        raise HttpError(400, "limit: expected a whole number") from None


def _send(central: CentralServer, admin: Admin, raw: bytes) -> Reply:
    try:
        doc = parse_json(raw)
    except BodyError as exc:
        raise HttpError(400, str(exc)) from None
    kiosks = _targets(central, doc)
    kind, args = doc["type"], doc.get("args", {})
    made = central.store.add_commands([k.id for k in kiosks], kind, args, admin=admin.name,
                                      now=central.clock())
    log.info("admin %s: %s queued for %d kiosk(s)", admin.name, kind, len(made))
    return Reply(201, {"commands": [command_view(c) for c in made]})


def _targets(central: CentralServer, doc: Any) -> list[Kiosk]:
    if not isinstance(doc, dict):
        raise HttpError(400, "the body must be an object with type and kiosk, group or all")
    unknown = sorted(set(doc) - _SEND_KEYS)
    if unknown:
        raise HttpError(400, f"unknown key {unknown[0]!r} (expected type, kiosk, group, all, "
                        "args)")
    if doc.get("type") not in COMMAND_TYPES:
        raise HttpError(400, f"$.type: expected one of {', '.join(COMMAND_TYPES)}")
    if not isinstance(doc.get("args", {}), dict):
        raise HttpError(400, "$.args: expected an object")
    named = [k for k in ("kiosk", "group", "all") if k in doc]
    if len(named) != 1:
        raise HttpError(400, "name exactly one of kiosk, group or all")
    if named[0] == "all":
        if doc["all"] is not True:
            raise HttpError(400, "$.all: expected true")
        return central.kiosks.all()
    value = doc[named[0]]
    if not isinstance(value, str) or not KIOSK_ID.match(value):
        raise HttpError(400, f"$.{named[0]}: expected letters, digits, '.', '_' or '-'")
    if named[0] == "group":
        kiosks = central.kiosks.in_group(value)
        if not kiosks:
            raise HttpError(404, f"no kiosk is in group {value}")
        return kiosks
    kiosk = central.kiosks.get(value)
    if kiosk is None:
        raise HttpError(404, f"no kiosk {value}")
    return [kiosk]
