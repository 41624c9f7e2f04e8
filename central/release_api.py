"""The release endpoints (issue #15; documented in central/README.md).

Kiosks: ``GET /api/v1/kiosks/{id}/release`` (the signed release offered to the kiosk, or
204) and ``GET /api/v1/wheels/{sha256}`` (a held wheel; ``Range: bytes=A-B`` answers 206 so
a cut download resumes). Admins: ``PUT /api/v1/admin/wheels/{sha256}?offset=N`` (one
``CHUNK`` of an upload), ``GET`` of the same path (held or bytes so far), ``POST
/api/v1/admin/releases`` and ``GET`` (kept releases, rollouts and their progress), ``POST
/api/v1/admin/rollouts``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contract.times import rfc3339

from .kiosks import KIOSK_ID, Kiosk
from .releases import ReleaseRefused, offer, progress, publish_release
from .replies import HttpError, Reply
from .storage.releases import CHUNK
from .wire import BodyError, parse_json

if TYPE_CHECKING:
    from .server import CentralServer

log = logging.getLogger(__name__)

KIOSK_ALLOWED = {"release": ("GET",), "wheel": ("GET", "HEAD")}
ADMIN_ALLOWED = {"admin-wheel": ("GET", "PUT"), "admin-releases": ("GET", "POST"),
                 "admin-rollouts": ("POST",)}
MAX_RANGE = 4 * CHUNK  # bytes in one answer; a client asks again for the rest
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_RANGE = re.compile(r"^bytes=([0-9]{1,15})-([0-9]{0,15})$")


def kiosk_answer(central: CentralServer, kiosk: Kiosk, endpoint: str,
                 params: Mapping[str, str], range_header: str | None) -> Reply:
    if endpoint == "release":
        central.uploads.maybe_run()
        body = offer(central.store, kiosk)
        if body is None:
            return Reply(204, headers={"Cache-Control": "no-cache"})
        return Reply(200, raw=body, headers={"Cache-Control": "no-cache"})
    sha256 = _sha(params.get("sha256", ""))
    size = central.store.wheel_size(sha256)
    if size is None:
        raise HttpError(404, f"no wheel {sha256}")
    start, end = _range(range_header, size)
    data = central.store.wheel_range(sha256, start, end)
    headers = {"Accept-Ranges": "bytes", "ETag": f'"{sha256}"'}
    if range_header is None and end == size - 1:
        return Reply(200, raw=data, headers=headers, content_type="application/octet-stream")
    headers["Content-Range"] = f"bytes {start}-{end}/{size}"
    return Reply(206, raw=data, headers=headers, content_type="application/octet-stream")


def _range(header: str | None, size: int) -> tuple[int, int]:
    """``(start, end)`` inclusive of one byte range, at most ``MAX_RANGE`` long."""
    if header is None:
        return 0, min(size, MAX_RANGE) - 1
    m = _RANGE.match(header.strip())
    if not m:
        raise HttpError(416, "only one range, bytes=START-[END], is served",
                        {"Content-Range": f"bytes */{size}"})
    start = int(m.group(1))
    end = int(m.group(2)) if m.group(2) else size - 1
    if start >= size or end < start:
        raise HttpError(416, f"range outside 0-{size - 1}", {"Content-Range": f"bytes */{size}"})
    return start, min(end, size - 1, start + MAX_RANGE - 1)


def _sha(value: str) -> str:
    if not _SHA256.match(value):
        raise HttpError(404, "a wheel is named by its SHA-256 (64 lower-case hex digits)")
    return value


def admin_answer(central: CentralServer, admin: str, endpoint: str, method: str,
                 params: Mapping[str, str], query: Mapping[str, str], raw: bytes) -> Reply:
    try:
        central.uploads.maybe_run()
        if endpoint == "admin-wheel":
            return _wheel(central, _sha(params.get("sha256", "")), method, query, raw)
        if endpoint == "admin-releases" and method == "GET":
            return Reply(200, status(central), {"Cache-Control": "no-store"})
        doc = _json(raw)
        if endpoint == "admin-releases":
            manifest = publish_release(central.store, doc.get("release"), central.release_keys,
                                       admin)
            return Reply(201, {"version": manifest["version"],
                               "wheels": len(manifest["wheels"])})
        return _rollout(central, admin, doc)
    except ReleaseRefused as exc:
        raise HttpError(exc.status, str(exc)) from None


def _json(raw: bytes) -> dict[str, Any]:
    try:
        doc = parse_json(raw)
    except BodyError as exc:
        raise HttpError(400, str(exc)) from None
    if not isinstance(doc, dict):
        raise HttpError(400, "the body must be a JSON object")
    return doc


def _wheel(central: CentralServer, sha256: str, method: str, query: Mapping[str, str],
           raw: bytes) -> Reply:
    store = central.store
    if method == "GET":
        size = store.wheel_size(sha256)
        return Reply(200, {"sha256": sha256, "held": size is not None, "size": size,
                           "uploaded": size if size is not None else
                           store.uploaded_bytes(sha256)})
    offset = query.get("offset", "0")
    if not offset.isdigit() or int(offset) % CHUNK:
        raise HttpError(400, f"offset must be a multiple of {CHUNK}")
    if not raw or len(raw) > CHUNK:
        raise HttpError(400, f"a piece is 1 to {CHUNK} bytes")
    store.put_wheel_chunk(sha256, int(offset) // CHUNK, raw, now=central.clock())
    return Reply(204)


def _rollout(central: CentralServer, admin: str, doc: Mapping[str, Any]) -> Reply:
    version, percent = doc.get("version"), doc.get("percent", 100)
    if not isinstance(version, str) or central.store.release_body(version) is None:
        raise HttpError(404, f"no kept release {version!r}: publish the release first")
    if isinstance(percent, bool) or not isinstance(percent, int | float) \
            or not 0 < percent <= 100:
        raise HttpError(400, "percent: expected a number above 0 and at most 100")
    kind, target = "all", ""
    for key in ("group", "kiosk"):
        if key in doc:
            if not isinstance(doc[key], str) or not KIOSK_ID.match(doc[key]):
                raise HttpError(400, f"$.{key}: not a valid name")
            kind, target = key, doc[key]
    record = central.store.add_rollout(version=version, target_kind=kind, target=target,
                                       percent=float(percent), admin=admin)
    log.info("admin %s: release %s rolled out to %s %r at %s%%", admin, version, kind, target,
             percent)
    return Reply(201, {**record, "published_at": rfc3339(record["published_at"])})


def status(central: CentralServer) -> dict[str, Any]:
    """Kept releases, and each target's newest rollout with its progress."""
    store = central.store
    releases = [{**r, "published_at": rfc3339(r["published_at"])}
                for r in store.release_records()]
    return {"releases": releases,
            "rollouts": progress(store, central.kiosks, store.latest_heartbeats())}
