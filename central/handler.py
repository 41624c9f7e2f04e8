"""The HTTP request handler: routing, bounded body reading, auth, JSON answers.

One handler instance serves one connection (HTTP/1.1 keep-alive) on its own thread. Every
answer carries a JSON body and ``Content-Type: application/json``, except 204 and 304 and
the admins' fleet page (HTML). Kiosk endpoints take kiosk tokens only, admin endpoints
(``central.admin_api``) admin tokens only.
"""

from __future__ import annotations

import logging
import re
import socket
import struct
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from . import admin_api
from .errors import StoreError
from .faults import ResetFault, StatusFault
from .kiosks import Kiosk
from .replies import HttpError, Reply, json_bytes
from .wire import (
    BatchTooLarge,
    BodyError,
    IncomingTransaction,
    check_heartbeat,
    parse_batch,
    parse_json,
)

if TYPE_CHECKING:
    from .server import CentralServer

log = logging.getLogger(__name__)

MAX_HEARTBEAT_BYTES = 64 * 1024
DRAIN_FACTOR = 8  # an oversized body up to 8x the limit is read and dropped, so the 413 arrives

_KIOSK_PATH = re.compile(r"^/api/v1/kiosks/([^/]+)/(menu|heartbeat)$")
_DIGITS = re.compile(r"^[0-9]{1,18}$")
_ALLOWED = {"transactions": ("POST",), "menu": ("GET",), "heartbeat": ("POST",),
            **admin_api.ALLOWED}

__all__ = ["CentralRequestHandler", "HttpError", "Reply", "route"]


def route(path: str) -> tuple[str, str | None] | None:
    """``(endpoint, kiosk id or other path parameter)`` for an API path, or None."""
    if path == "/api/v1/transactions":
        return "transactions", None
    m = _KIOSK_PATH.match(path)
    if m:
        return m.group(2), unquote(m.group(1))
    return admin_api.route(path)


class CentralRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Without Nagle: otherwise the body, written after the headers, waits for the client's
    # delayed ACK (about 40 ms a request on Linux).
    disable_nagle_algorithm = True
    server_version = "kiosk-central/1"
    sys_version = ""

    @property
    def central(self) -> CentralServer:
        return self.server.central  # type: ignore[attr-defined]

    def setup(self) -> None:
        self.timeout = self.central.request_timeout_s  # a slow client cannot hold a thread
        super().setup()
        self.server.track(self.connection)  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    # -- one request -----------------------------------------------------------------------

    def _handle(self) -> None:
        try:
            reply = self._answer()
        except HttpError as exc:
            self._send_json(exc.status, exc.payload(), exc.headers, close=exc.close)
            return
        except _Gone:
            self.close_connection = True
            return
        except _Reset:
            self._reset()
            return
        except StoreError as exc:
            log.error("store unavailable: %s", exc)
            self._send_json(503, {"error": "the store is unavailable"}, close=True)
            return
        except Exception:  # noqa: BLE001 - the client gets a JSON 500, the log the traceback
            log.exception("error handling %s %s", self.command, urlsplit(self.path).path)
            self._send_json(500, {"error": "internal error"}, close=True)
            return
        self._send(reply.status, reply.body, reply.headers, close=reply.close,
                   content_type=reply.content_type)

    def _answer(self) -> Reply:
        path = urlsplit(self.path).path
        found = route(path)
        # Read (or drop) any declared body first: a client that is still sending when the
        # server closes would see a reset instead of the answer.
        raw = self._read_body(found[0] if found else None)
        if found is None:
            raise HttpError(404, f"no such resource: {path}")
        endpoint, path_kiosk = found
        allowed = _ALLOWED[endpoint]
        if self.command not in allowed:
            raise HttpError(405, f"{self.command} is not allowed here",
                            {"Allow": ", ".join(allowed)})
        if self.command == "POST" and self.headers.get("Content-Length") is None:
            raise HttpError(411, "Content-Length is required", close=True)
        if endpoint in admin_api.ALLOWED:  # no fault injection: faults are for kiosk tests
            admin = admin_api.authenticate(self.central, endpoint,
                                           self.headers.get("Authorization"))
            return admin_api.answer(self.central, admin, endpoint, self.command, path_kiosk,
                                    raw)

        fault = self._injected_fault(endpoint)
        if isinstance(fault, StatusFault):
            return _fault_reply(fault)
        if isinstance(fault, ResetFault) and not fault.after_processing:
            raise _Reset
        reply = self._authorized(endpoint, path_kiosk, raw)
        if fault is not None:  # a reset after processing: handled, but the answer is lost
            raise _Reset
        return reply

    def _authorized(self, endpoint: str, path_kiosk: str | None, raw: bytes) -> Reply:
        kiosk = self._authenticate(path_kiosk)
        if endpoint == "transactions":
            return self._transactions(kiosk, raw)
        if endpoint == "heartbeat":
            return self._heartbeat(kiosk, raw)
        return self._menu(kiosk)

    def _injected_fault(self, endpoint: str) -> StatusFault | ResetFault | None:
        """Test hooks (``central.faults``); a no-op unless a test asked for a fault."""
        faults = self.central.faults
        if faults.delay_s > 0:
            self.central.stopping.wait(faults.delay_s)
        fault = faults.take(endpoint)
        if fault is not None:
            log.info("fault injection on %s: %s", endpoint, fault)
        return fault

    # -- auth ------------------------------------------------------------------------------

    def _authenticate(self, path_kiosk: str | None) -> Kiosk:
        authorization = self.headers.get("Authorization")
        kiosk = self.central.kiosks.authenticate(authorization)
        if kiosk is None and self.central.admins.authenticate(authorization) is not None:
            raise HttpError(403, "an admin token cannot be used on kiosk endpoints")
        if kiosk is None:
            raise HttpError(401, "missing or unknown bearer token",
                            {"WWW-Authenticate": 'Bearer realm="kiosk-central"'})
        header_id = self.headers.get("X-Kiosk-Id")
        if header_id != kiosk.id:
            raise HttpError(403, "X-Kiosk-Id does not name the kiosk of this token")
        if path_kiosk is not None and path_kiosk != kiosk.id:
            raise HttpError(403, "the path names another kiosk than this token's")
        return kiosk

    # -- endpoints -------------------------------------------------------------------------

    def _transactions(self, kiosk: Kiosk, raw: bytes) -> Reply:
        try:
            body_kiosk, items = parse_batch(parse_json(raw))
        except BatchTooLarge as exc:
            raise HttpError(413, str(exc)) from None
        except BodyError as exc:
            raise HttpError(400, str(exc)) from None
        if body_kiosk != kiosk.id:
            raise HttpError(403, "kiosk_id of the body is not the kiosk of this token")
        valid = [t for t in items if isinstance(t, IncomingTransaction)]
        new = iter(self.central.store.add_transactions(kiosk.id, valid))
        results, counts = [], {"accepted": 0, "duplicate": 0, "rejected": 0}
        for item in items:
            if isinstance(item, IncomingTransaction):
                status = "accepted" if next(new) else "duplicate"
                results.append({"id": item.id, "status": status})
            else:
                status = "rejected"
                results.append({"id": item.id, "status": status, "reason": item.reason})
                log.info("kiosk %s: transaction %r rejected: %s", kiosk.id, item.id[:64],
                         item.reason)
            counts[status] += 1
        log.info("kiosk %s: batch of %d: %d accepted, %d duplicate, %d rejected", kiosk.id,
                 len(items), counts["accepted"], counts["duplicate"], counts["rejected"])
        return Reply(200, {"results": results})

    def _heartbeat(self, kiosk: Kiosk, raw: bytes) -> Reply:
        try:
            body = check_heartbeat(parse_json(raw))
        except BodyError as exc:
            raise HttpError(400, str(exc)) from None
        if body["kiosk_id"] != kiosk.id:
            raise HttpError(403, "kiosk_id of the body is not the kiosk of this token")
        self.central.store.add_heartbeat(kiosk.id, body, now=self.central.clock())
        log.debug("kiosk %s: heartbeat", kiosk.id)
        return Reply(204)

    def _menu(self, kiosk: Kiosk) -> Reply:
        menu = self.central.menu_for(kiosk)
        if menu is None:
            raise HttpError(404, "no menu is published")
        headers = {"ETag": menu.etag, "Cache-Control": "no-cache"}
        if menu.matches(self.headers.get("If-None-Match")):
            return Reply(304, headers=headers)
        return Reply(200, headers=headers, raw=menu.body)

    # -- reading ---------------------------------------------------------------------------

    def _read_body(self, endpoint: str | None) -> bytes:
        """The request body, by Content-Length only, bounded in size and in time."""
        if self.headers.get("Transfer-Encoding"):
            raise HttpError(411, "send the body with a Content-Length, not chunked", close=True)
        values = self.headers.get_all("Content-Length") or []
        if not values:
            return b""
        if len(values) > 1 or not _DIGITS.match(values[0].strip()):
            raise HttpError(400, "Content-Length is not one whole number", close=True)
        length = int(values[0])
        limit = self.central.max_body_bytes
        if endpoint == "heartbeat":
            limit = min(limit, MAX_HEARTBEAT_BYTES)
        elif endpoint == admin_api.PUBLISH_ENDPOINT:
            limit = self.central.max_publish_bytes
        if length > limit:
            if length <= limit * DRAIN_FACTOR:
                self._receive(length, keep=False)  # so the client reads the 413, not a reset
            raise HttpError(413, f"the body is {length} bytes, over the {limit} byte limit",
                            close=True)
        return self._receive(length, keep=endpoint is not None)

    def _receive(self, length: int, keep: bool) -> bytes:
        deadline = time.monotonic() + self.central.request_timeout_s
        chunks, remaining = [], length
        try:
            while remaining > 0:
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunk = self.rfile.read1(min(remaining, 65536))
                if not chunk:
                    raise _Gone
                remaining -= len(chunk)
                if keep:
                    chunks.append(chunk)
        except TimeoutError:
            raise HttpError(408, "the body did not arrive in time", close=True) from None
        except (ConnectionError, OSError):
            raise _Gone from None
        return b"".join(chunks)

    # -- writing ---------------------------------------------------------------------------

    def _send(self, status: int, body: bytes | None, headers: dict[str, str],
              close: bool = False, content_type: str = "application/json") -> None:
        self.send_response(status)
        if body is not None:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        elif status not in (204, 304):
            self.send_header("Content-Length", "0")
        for name, value in headers.items():
            self.send_header(name, value)
        if close or self.close_connection:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body is not None and self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None,
                   close: bool = False) -> None:
        self._send(status, json_bytes(payload), headers or {}, close=close)

    def _reset(self) -> None:
        """Drop the connection mid-status-line with a TCP reset: no valid HTTP answer."""
        self.close_connection = True
        try:
            self.wfile.write(b"HTTP/1.1 2")
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.connection.close()

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """Protocol errors found by http.server (bad request line, 501...) answered as JSON."""
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            # http.server assumes HTTP/0.9 (no status line, no headers) until it has parsed
            # a version; nobody speaks 0.9 any more, so a broken request gets a real answer.
            self.request_version = "HTTP/1.1"
        self._send_json(code, {"error": message or phrase}, close=True)

    def version_string(self) -> str:
        return self.server_version

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        # The request line holds only the path (a kiosk id at most); headers are never logged.
        log.debug("%s %s", self.address_string(), format % args)


class _Reset(Exception):
    """Injected fault: drop the connection without an answer."""


class _Gone(Exception):
    """The client went away before its body arrived; there is no one to answer."""


def _fault_reply(fault: StatusFault) -> Reply:
    headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
    if fault.body is None:
        return Reply(fault.code, {"error": f"injected fault: {fault.code}"}, headers, close=True)
    if isinstance(fault.body, bytes | str):
        raw = fault.body if isinstance(fault.body, bytes) else fault.body.encode("utf-8")
        return Reply(fault.code, headers=headers, raw=raw, close=True)
    return Reply(fault.code, fault.body, headers, close=True)
