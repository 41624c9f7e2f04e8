"""The central as a Starlette application: routes, the order of checks, JSON errors.

Every request goes through the same steps (``_serve``): method, Content-Length (no chunked
bodies), authentication from the headers, the size limit from the declared length, and only
then the body, streamed against its limit and the request deadline. Every answer is JSON
except 204, 304 and the admins' fleet page (HTML).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import admin_api, command_api, draft_api, release_api
from ..errors import StoreBusy, StoreError
from ..faults import ResetFault, StatusFault
from ..replies import HttpError, Reply
from . import kiosk_api
from .body import ClientGone, check_length, declared_length, read_body
from .responses import error_response, json_response, reply_response, reset_connection
from .threads import blocking

if TYPE_CHECKING:
    from ..server import CentralServer

log = logging.getLogger("central.handler")

KIOSK_ENDPOINTS = {"transactions": ("POST",), "menu": ("GET",), "heartbeat": ("POST",),
                   **release_api.KIOSK_ALLOWED, command_api.UPLOAD_ENDPOINT: ("POST",)}
ADMIN_ENDPOINTS = {**admin_api.ALLOWED, **release_api.ADMIN_ALLOWED, **draft_api.ALLOWED}
ALLOWED = {**KIOSK_ENDPOINTS, **ADMIN_ENDPOINTS, draft_api.STATIC: ("GET",)}
ANY_METHOD = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"]


def build_app(central: CentralServer) -> SaturationGuard:
    """The ASGI application serving ``central``, behind the saturation guard."""

    def route(path: str, endpoint: str) -> Route:
        async def handle(request: Request) -> Response:
            return await _serve(central, endpoint, request)
        # Every method reaches the endpoint, which answers 405 with the Allow of the API.
        return Route(path, handle, methods=ANY_METHOD, name=endpoint)

    routes = [
        route("/api/v1/transactions", "transactions"),
        route("/api/v1/kiosks/{kiosk_id}/menu", "menu"),
        route("/api/v1/kiosks/{kiosk_id}/heartbeat", "heartbeat"),
        route("/api/v1/admin/menus", admin_api.PUBLISH_ENDPOINT),
        route("/api/v1/admin/menus/{seq:int}", "admin-menu"),
        route("/api/v1/admin/fleet", "admin-fleet"),
        route("/api/v1/kiosks/{kiosk_id}/release", "release"),
        route("/api/v1/wheels/{sha256}", "wheel"),
        route("/api/v1/admin/wheels/{sha256}", "admin-wheel"),
        route("/api/v1/admin/releases", "admin-releases"),
        route("/api/v1/admin/rollouts", "admin-rollouts"),
        route("/api/v1/kiosks/{kiosk_id}/commands/{command_id}/upload",
              command_api.UPLOAD_ENDPOINT),
        route("/api/v1/admin/commands", "admin-commands"),
        route("/api/v1/admin/commands/{command_id}", "admin-command"),
        route("/api/v1/admin/commands/{command_id}/upload", "admin-upload"),
        route("/admin/fleet", "fleet-page"),
        route("/admin/fleet/", "fleet-page"),
        route("/admin/fleet/uploads/{command_id}", "fleet-upload"),
        *(route(path, name) for path, name in draft_api.ROUTES),
        route("/admin/static/{name:path}", draft_api.STATIC),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_exception})
    app.router.redirect_slashes = False
    return SaturationGuard(KioskRoutes(central, app), central.max_inflight,
                           central.retry_after_s)


def kiosk_route(path: str) -> tuple[str, dict[str, str]] | None:
    """``(endpoint, path parameters)`` of a kiosk's upload, heartbeat or menu path, matched
    as the routes above match them; None for any other path."""
    if path == "/api/v1/transactions":
        return "transactions", {}
    if path.startswith("/api/v1/kiosks/"):
        parts = path[len("/api/v1/kiosks/"):].split("/")
        if len(parts) == 2 and parts[0] and parts[1] in ("heartbeat", "menu"):
            return parts[1], {"kiosk_id": parts[0]}
    return None


class KioskRoutes:
    """The kiosks' uploads, heartbeats and menus, nearly all the requests, answered straight
    (``_serve``, as their routes would) without Starlette's router and middleware layers,
    which cost a sixth of such a request's CPU (benchmarks/central_cpu.py); every other
    request goes on to ``app``."""

    def __init__(self, central: CentralServer, app: ASGIApp) -> None:
        self.central = central
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = kiosk_route(scope["path"]) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        endpoint, scope["path_params"] = found
        response = await _serve(self.central, endpoint, Request(scope, receive, send))
        await response(scope, receive, send)


async def _http_exception(request: Request, exc: Exception) -> Response:
    """Starlette's own answers (an unknown path) in JSON like every other error."""
    assert isinstance(exc, HTTPException)
    message = f"no such resource: {request.url.path}" if exc.status_code == 404 else exc.detail
    return json_response(exc.status_code, {"error": message}, headers=exc.headers)


async def _serve(central: CentralServer, endpoint: str, request: Request) -> Response:
    response = await _answer(central, endpoint, request)
    if central.is_worker:  # one of several workers: say which answered
        response.headers["X-Central-Worker"] = str(os.getpid())
    if log.isEnabledFor(logging.DEBUG):
        # The request line holds only the path (a kiosk id at most); headers are never logged.
        client = request.client.host if request.client else "-"
        log.debug('%s "%s %s HTTP/%s" %d -', client, request.method, request.url.path,
                  request.scope.get("http_version", "1.1"), response.status_code)
    return response


async def _answer(central: CentralServer, endpoint: str, request: Request) -> Response:
    started = time.monotonic()
    try:
        return await _checked(central, endpoint, request, started)
    except HttpError as exc:
        return error_response(exc)
    except ClientGone:
        return Response(status_code=400, headers={"Connection": "close"})
    except StoreBusy as exc:  # saturated: tell the kiosk when to come back, at once
        log.warning("store busy, answering 503: %s", exc)
        return json_response(503, {"error": "the central is saturated; retry later"},
                             headers={"Retry-After": str(central.retry_after_s)})
    except StoreError as exc:
        log.error("store unavailable: %s", exc)
        return json_response(503, {"error": "the store is unavailable"}, close=True)
    except Exception:  # noqa: BLE001 - the client gets a JSON 500, the log the traceback
        log.exception("error handling %s %s", request.method, request.url.path)
        return json_response(500, {"error": "internal error"}, close=True)


async def _checked(central: CentralServer, endpoint: str, request: Request,
                   started: float) -> Response:
    method = request.method
    allowed = ALLOWED[endpoint]
    if method not in allowed:
        raise HttpError(405, f"{method} is not allowed here", {"Allow": ", ".join(allowed)})
    length = declared_length(request)
    if method == "POST" and length is None:
        raise HttpError(411, "Content-Length is required", close=True)
    headers = request.headers
    if endpoint == draft_api.STATIC:
        return reply_response(draft_api.serve_static(request.path_params["name"]), method)
    if endpoint in ADMIN_ENDPOINTS:  # no fault injection: faults are for kiosk tests
        admin = admin_api.authenticate(central, endpoint, method, headers)
        check_length(length, _limit(central, endpoint))
        raw = await _body(central, request, endpoint, started)
        reply = await _admin_reply(central, admin, endpoint, method, request, raw)
        if reply is not None:
            return reply_response(reply, method)
        param = request.path_params.get("seq", request.path_params.get("command_id"))
        reply = await blocking(admin_api.answer, central, admin, endpoint, method,
                                        None if param is None else str(param), raw,
                                        dict(request.query_params))
        return reply_response(reply, method)

    path_kiosk = request.path_params.get("kiosk_id")
    kiosk = kiosk_api.authenticate(central, headers.get("authorization"),
                                   headers.get("x-kiosk-id"), path_kiosk)
    check_length(length, _limit(central, endpoint))
    raw = await _body(central, request, endpoint, started)
    if endpoint in release_api.KIOSK_ALLOWED:
        reply = await blocking(release_api.kiosk_answer, central, kiosk, endpoint,
                                        dict(request.path_params), headers.get("range"))
        return reply_response(reply, method)
    fault = await _injected_fault(central, endpoint)
    if isinstance(fault, StatusFault):
        return reply_response(_fault_reply(fault))
    if isinstance(fault, ResetFault) and not fault.after_processing:
        return await reset_connection(request)
    if endpoint == command_api.UPLOAD_ENDPOINT:
        reply = await blocking(
            command_api.receive_upload, central, kiosk, request.path_params["command_id"],
            headers.get("content-type"), raw)
    else:
        reply = await _kiosk_reply(central, endpoint, kiosk, raw,
                                   headers.get("if-none-match"))
    if fault is not None:  # a reset after processing: handled, but the answer is lost
        return await reset_connection(request)
    return reply_response(reply, method)


async def _kiosk_reply(central: CentralServer, endpoint: str, kiosk: Any, raw: bytes,
                       if_none_match: str | None) -> Reply:
    if endpoint == "transactions":
        return await kiosk_api.transactions(central, kiosk, raw)
    if endpoint == "heartbeat":
        return await kiosk_api.heartbeat(central, kiosk, raw)
    # In a thread: the catalog may ask the store whether another process published.
    return await blocking(kiosk_api.menu, central, kiosk, if_none_match)


def _limit(central: CentralServer, endpoint: str) -> int:
    if endpoint == "heartbeat":
        return min(central.max_body_bytes, kiosk_api.MAX_HEARTBEAT_BYTES)
    if endpoint in (admin_api.PUBLISH_ENDPOINT, "admin-wheel", "admin-releases"):
        return central.max_publish_bytes
    if endpoint == command_api.UPLOAD_ENDPOINT:
        return command_api.MAX_UPLOAD_BYTES
    return central.max_body_bytes


async def _body(central: CentralServer, request: Request, endpoint: str,
                started: float) -> bytes:
    return await read_body(request, _limit(central, endpoint), started,
                           central.request_timeout_s)


async def _injected_fault(central: CentralServer, endpoint: str
                          ) -> StatusFault | ResetFault | None:
    """Test hooks (``central.faults``); a no-op unless a test asked for a fault."""
    faults = central.faults
    if faults.delay_s > 0:
        until = time.monotonic() + faults.delay_s
        while not central.stopping.is_set() and time.monotonic() < until:
            await asyncio.sleep(min(0.05, max(0.0, until - time.monotonic())))
    fault = faults.take(endpoint)
    if fault is not None:
        log.info("fault injection on %s: %s", endpoint, fault)
    return fault


def _fault_reply(fault: StatusFault) -> Reply:
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    if fault.body is None:
        return Reply(fault.code, {"error": f"injected fault: {fault.code}"}, headers, close=True)
    if isinstance(fault.body, bytes | str):
        raw = fault.body if isinstance(fault.body, bytes) else fault.body.encode("utf-8")
        return Reply(fault.code, headers=headers, raw=raw, close=True)
    return Reply(fault.code, fault.body, headers, close=True)


class SaturationGuard:
    """Answers 503 with ``Retry-After`` at once when ``limit`` requests are already being
    handled, rather than letting every client wait into its time-out."""

    def __init__(self, app: ASGIApp, limit: int, retry_after_s: int) -> None:
        self.app = app
        self.limit = limit
        self.retry_after_s = retry_after_s
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.limit:
            log.warning("saturated (%d requests in flight): answering 503", self.inflight)
            response = json_response(503, {"error": "the central is saturated; retry later"},
                                     headers={"Retry-After": str(self.retry_after_s)})
            await response(scope, receive, send)
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1


async def _admin_reply(central: CentralServer, admin, endpoint: str, method: str,
                       request: Request, raw: bytes) -> Reply | None:
    """The answer of a release or draft endpoint; None for the other admin endpoints."""
    if endpoint in release_api.ADMIN_ALLOWED:
        return await blocking(release_api.admin_answer, central, admin.name,
                                       endpoint, method, dict(request.path_params),
                                       dict(request.query_params), raw)
    if endpoint in draft_api.ALLOWED:
        return await blocking(
            draft_api.answer, central, admin, endpoint, method, request.path_params,
            raw, dict(request.query_params), request.headers.get("if-match"))
    return None
