"""The admin side of the reference central: publish menus, list them, watch the fleet.

Not part of the kiosk API (shared/spec/central-api.md); documented in central/README.md.
Every endpoint takes an admin token only. Reading (GET) takes ``Authorization: Bearer
<token>`` or HTTP Basic with the token as the password (what a browser sends for the fleet
page); every change of state takes a bearer token only, a JSON body only, and no ``Origin``
but the central's own, so that no cross-site request can publish.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contract.times import rfc3339

from . import command_api
from .admins import Admin
from .catalog import ALL, MenuTarget, PublishRefused
from .drafts import DraftRefused
from .fleet import fleet_report
from .fleet_page import render_fleet
from .kiosks import KIOSK_ID
from .replies import HttpError, Reply
from .wire import BodyError, parse_json

if TYPE_CHECKING:
    from .server import CentralServer

log = logging.getLogger(__name__)

PUBLISH_ENDPOINT = "admin-menus"
ALLOWED = {
    PUBLISH_ENDPOINT: ("GET", "POST"),
    "admin-menu": ("GET",),
    "admin-fleet": ("GET",),
    "fleet-page": ("GET",),
    **command_api.ALLOWED,
}
_MENU_PATH = re.compile(r"^/api/v1/admin/menus/([0-9]{1,18})$")
_PUBLISH_KEYS = frozenset({"bundle", "kiosk", "group"})
_REALM = 'realm="kiosk-central admin", charset="UTF-8"'


def route(path: str) -> tuple[str, str | None] | None:
    """``(endpoint, path parameter)`` for an admin path, or None."""
    if path == "/api/v1/admin/menus":
        return PUBLISH_ENDPOINT, None
    if path == "/api/v1/admin/fleet":
        return "admin-fleet", None
    if path in ("/admin/fleet", "/admin/fleet/"):
        return "fleet-page", None
    m = _MENU_PATH.match(path)
    if m:
        return "admin-menu", m.group(1)
    return None


def authenticate(central: CentralServer, endpoint: str, method: str,
                 headers: Mapping[str, str]) -> Admin:
    """The admin of this request, from its headers alone; kiosk tokens are refused here
    (403), whatever they are. A change of state also needs a bearer token, a JSON body and
    no foreign ``Origin``."""
    page = endpoint in ("fleet-page", "fleet-upload", "editor-page")  # what a browser opens
    challenge = f"Basic {_REALM}" if page else f"Bearer {_REALM}"
    if not len(central.admins):
        raise HttpError(403, "the admin API is off: start the central with --admins FILE")
    authorization = headers.get("authorization")
    reading = method in ("GET", "HEAD")
    admin = central.admins.authenticate(authorization, allow_basic=reading)
    if admin is not None:
        if not reading:
            _check_state_change(central, headers, "application/octet-stream"
                                if endpoint == "admin-wheel" else "application/json")
        return admin
    if not reading and central.admins.authenticate(authorization) is not None:
        raise HttpError(401, f"{method} takes an admin token as Authorization: Bearer, "
                        "never HTTP Basic", {"WWW-Authenticate": f"Bearer {_REALM}"})
    if central.kiosks.authenticate(authorization) is not None:
        raise HttpError(403, "a kiosk token cannot be used on admin endpoints")
    raise HttpError(401, "missing or unknown admin token", {"WWW-Authenticate": challenge})


def _check_state_change(central: CentralServer, headers: Mapping[str, str],
                        expected: str = "application/json") -> None:
    """403 for a request a browser sent from another site; 415 for a body not JSON."""
    origin = headers.get("origin")
    if origin is not None and origin.rstrip("/") not in central.own_origins():
        raise HttpError(403, f"cross-origin request from {origin[:100]} refused")
    if headers.get("sec-fetch-site") not in (None, "same-origin", "none"):
        raise HttpError(403, "cross-site request refused")
    media_type = (headers.get("content-type") or "").split(";")[0].strip().lower()
    if media_type != expected:
        raise HttpError(415, f"the body must be sent as Content-Type: {expected}")


def answer(central: CentralServer, admin: Admin, endpoint: str, method: str,
           param: str | None, raw: bytes, query: Mapping[str, str] | None = None) -> Reply:
    """The reply to an authenticated admin request."""
    if endpoint in command_api.ALLOWED:
        return command_api.answer(central, admin, endpoint, method, param, raw, query or {})
    if endpoint == PUBLISH_ENDPOINT and method == "POST":
        return _publish(central, admin, raw)
    if endpoint == PUBLISH_ENDPOINT:
        return Reply(200, _versions(central))
    if endpoint == "admin-menu":
        return _bundle(central, int(param or 0))
    report = fleet_report(central, now=central.clock(), query=query or {})
    if endpoint == "admin-fleet":
        return Reply(200, report, {"Cache-Control": "no-store"})
    html = render_fleet(report, refresh_s=central.fleet_refresh_s,
                        commands=command_api.fleet_section(central)).encode("utf-8")
    return Reply(200, raw=html, content_type="text/html; charset=utf-8",
                 headers={"Cache-Control": "no-store"})


def _publish(central: CentralServer, admin: Admin, raw: bytes) -> Reply:
    try:
        doc = parse_json(raw)
    except BodyError as exc:
        raise HttpError(400, str(exc)) from None
    target = _target(doc)
    try:
        draft = _approved_draft(central, doc["bundle"])
        done = central.catalog.publish(doc["bundle"], target, admin.name, central.store)
    except (PublishRefused, DraftRefused) as exc:
        log.info("admin %s: menu for %s refused: %s", admin.name, target, exc)
        raise HttpError(exc.status, str(exc), details=exc.details) from None
    if draft is not None:
        central.drafts.mark_published(draft, done.record["seq"], admin.name)
    return Reply(201, {
        **_record(done.record), "reaches": done.reaches,
        "shadowed": [{"kiosk_id": k, "gets": v, "published_for": source}
                     for k, (v, source) in sorted(done.shadowed.items())],
    }, {"ETag": done.menu.etag})


def _approved_draft(central: CentralServer, bundle: Any) -> dict[str, Any] | None:
    """The approved draft the bundle's menu is exactly; with ``--require-approval`` a menu
    that is none is refused (409)."""
    menu = bundle.get("menu") if isinstance(bundle, dict) else None
    return central.drafts.check_publication(menu) if isinstance(menu, dict) else None


def _target(doc: Any) -> MenuTarget:
    if not isinstance(doc, dict) or "bundle" not in doc:
        raise HttpError(400, "the body must be an object with a bundle, and kiosk or group "
                        "for a narrower target")
    unknown = sorted(set(doc) - _PUBLISH_KEYS)
    if unknown:
        raise HttpError(400, f"unknown key {unknown[0]!r} (expected bundle, kiosk, group)")
    if "kiosk" in doc and "group" in doc:
        raise HttpError(400, "name a kiosk or a group, not both")
    for kind in ("kiosk", "group"):
        if kind in doc:
            value = doc[kind]
            if not isinstance(value, str) or not KIOSK_ID.match(value):
                raise HttpError(400, f"$.{kind}: expected letters, digits, '.', '_' or '-', "
                                "at most 64")
            return MenuTarget(kind, value)
    return ALL


def _versions(central: CentralServer) -> dict[str, Any]:
    newest = {(t.kind, t.value): m.etag for t, m in central.catalog.newest().items()}
    menus = []
    for record in central.store.menu_records():
        item = _record(record)
        item["newest_for_target"] = newest.get(
            (record["target_kind"], record["target"])) == record["etag"]
        menus.append(item)
    fallback = central.menus.current()
    return {"menus": menus, "fallback": None if fallback is None else
            {"version": fallback.version, "etag": fallback.etag}}


def _bundle(central: CentralServer, seq: int) -> Reply:
    body = central.store.menu_body(seq)
    if body is None:
        raise HttpError(404, f"no published menu {seq}")
    return Reply(200, raw=body)


def _record(record: dict[str, Any]) -> dict[str, Any]:
    target = MenuTarget(record["target_kind"], record["target"])
    return {"id": record["seq"], "version": record["version"], "target": target.as_dict(),
            "key_id": record["key_id"], "etag": record["etag"], "admin": record["admin"],
            "published_at": rfc3339(record["published_at"])}
