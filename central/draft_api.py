"""The admin API of menu drafts and the editor page (documented in central/README.md).

Reading takes an admin token as bearer or Basic password; every change takes a bearer
token, a JSON body and no foreign Origin (``admin_api.authenticate``), so a page on another
site cannot change a draft. A save names the revision it started from (``revision`` in the
body, or ``If-Match: "r<revision>"``); a stale one is answered 409 with the current draft.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .admins import Admin
from .draft_ops import EditError
from .drafts import DraftRefused
from .editor_page import render_editor, static_file
from .replies import HttpError, Reply
from .wire import BodyError, parse_json

if TYPE_CHECKING:
    from .server import CentralServer

ALLOWED = {
    "drafts": ("GET", "POST"),
    "draft": ("GET",),
    "draft-edits": ("POST",),
    "draft-approve": ("POST",),
    "draft-diff": ("GET",),
    "draft-menu": ("GET",),
    "draft-preview": ("GET", "POST"),
    "draft-preview-image": ("GET",),
    "editor-page": ("GET",),
}
#: Served without a token: the editor's script, style and icons hold nothing secret.
STATIC = "admin-static"
ROUTES = [
    ("/api/v1/admin/drafts", "drafts"),
    ("/api/v1/admin/drafts/{draft:int}", "draft"),
    ("/api/v1/admin/drafts/{draft:int}/edits", "draft-edits"),
    ("/api/v1/admin/drafts/{draft:int}/approve", "draft-approve"),
    ("/api/v1/admin/drafts/{draft:int}/diff", "draft-diff"),
    ("/api/v1/admin/drafts/{draft:int}/menu", "draft-menu"),
    ("/api/v1/admin/drafts/{draft:int}/preview", "draft-preview"),
    ("/api/v1/admin/drafts/{draft:int}/preview/{name}", "draft-preview-image"),
    ("/admin/menus/editor", "editor-page"),
]
_IF_MATCH = re.compile(r'^\s*(?:W/)?"r(\d{1,9})"\s*$')
_NO_STORE = {"Cache-Control": "no-store"}


def answer(central: CentralServer, admin: Admin, endpoint: str, method: str,
           params: Mapping[str, Any], raw: bytes, query: Mapping[str, str],
           if_match: str | None = None) -> Reply:
    """The reply to an authenticated request of a draft endpoint."""
    try:
        return _answer(central, admin, endpoint, method, params, raw, query, if_match)
    except DraftRefused as exc:
        raise HttpError(exc.status, str(exc), details=exc.details) from None
    except EditError as exc:
        raise HttpError(400, str(exc)) from None


def _answer(central: CentralServer, admin: Admin, endpoint: str, method: str,
            params: Mapping[str, Any], raw: bytes, query: Mapping[str, str],
            if_match: str | None) -> Reply:
    book = central.drafts
    draft_id = int(params.get("draft") or 0)
    if endpoint == "editor-page":
        html = render_editor(admin.name, book.require_approval).encode("utf-8")
        return Reply(200, raw=html, content_type="text/html; charset=utf-8",
                     headers={**_NO_STORE, "Content-Security-Policy": _CSP})
    if endpoint == "drafts" and method == "GET":
        return Reply(200, {"drafts": book.list(), "require_approval": book.require_approval},
                     _NO_STORE)
    if endpoint == "drafts":
        source = _body(raw).get("from")
        if source is not None and (not isinstance(source, int) or isinstance(source, bool)):
            raise HttpError(400, "$.from: the id of a published menu, or null")
        made = book.create(admin.name, source)
        return Reply(201, made, _etag(made))
    if endpoint == "draft":
        view = book.view(draft_id)
        return Reply(200, view, {**_NO_STORE, **_etag(view)})
    if endpoint == "draft-edits":
        body = _body(raw)
        saved = book.edit(draft_id, _revision(body, if_match), body.get("ops"), admin.name)
        return Reply(200, saved, _etag(saved))
    if endpoint == "draft-approve":
        done = book.approve(draft_id, _revision(_body(raw), if_match), admin.name)
        return Reply(200, done, _etag(done))
    if endpoint == "draft-diff":
        return Reply(200, book.diff(draft_id), _NO_STORE)
    if endpoint == "draft-menu":
        return Reply(200, raw=book.canonical(draft_id), headers=_NO_STORE)
    return _preview(central, admin, endpoint, method, draft_id, params, raw)


def _preview(central: CentralServer, admin: Admin, endpoint: str, method: str,
             draft_id: int, params: Mapping[str, Any], raw: bytes) -> Reply:
    previews = central.previews
    if endpoint == "draft-preview-image":
        png = previews.image(draft_id, str(params.get("name") or ""))
        if png is None:
            raise HttpError(404, "no such preview image")
        return Reply(200, raw=png, content_type="image/png", headers=_NO_STORE)
    if method == "POST":
        _body(raw)
        view = central.drafts.view(draft_id, changes=False)
        return Reply(202, previews.start(draft_id, view, central.drafts.diff(draft_id)))
    return Reply(200, previews.status(draft_id), _NO_STORE)


def serve_static(name: str) -> Reply:
    """The editor's script, style sheet or an icon; 404 for anything else."""
    found = static_file(name)
    if found is None:
        raise HttpError(404, f"no such resource: {name[:100]}")
    body, content_type = found
    return Reply(200, raw=body, content_type=content_type,
                 headers={"Cache-Control": "max-age=300"})


def _body(raw: bytes) -> dict[str, Any]:
    try:
        doc = parse_json(raw) if raw else {}
    except BodyError as exc:
        raise HttpError(400, str(exc)) from None
    if not isinstance(doc, dict):
        raise HttpError(400, "the body must be a JSON object")
    return doc


def _revision(body: dict[str, Any], if_match: str | None) -> Any:
    if if_match:
        m = _IF_MATCH.match(if_match)
        if m is None:
            raise HttpError(400, 'If-Match: expected "r<revision>"')
        return int(m.group(1))
    return body.get("revision")


def _etag(view: Mapping[str, Any]) -> dict[str, str]:
    return {"ETag": f'"r{view["revision"]}"'}


_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
