"""uvicorn's httptools protocol with the limits every deployment has.

uvicorn parses HTTP; this subclass adds only what it lacks (central-operations.md, "Limits"):
- a deadline on the request head: a connection that has not sent a whole request head within
  ``request_timeout_s`` of connecting (or of its last answer) is closed, however slowly it
  drips bytes; the body has its own deadline in ``central.web.body``;
- a bound on connections: past ``max_connections`` a new connection is answered 503 with
  ``Retry-After`` and closed;
- the rest of a body the application did not read (an early 401 or 413) is discarded for at
  most ``request_timeout_s`` and ``DRAIN_LIMIT`` bytes, then the connection is closed;
- a malformed request is answered 400 in JSON, like every other error of the central;
- the transport is put in the scope (``TRANSPORT_KEY``) for the fault injection's reset.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

log = logging.getLogger(__name__)

TRANSPORT_KEY = "kiosk_central.transport"
DRAIN_LIMIT = 32 * 1024 * 1024


class Limits:
    """What the protocol enforces; one object shared by every connection of a server."""

    def __init__(self, request_timeout_s: float, max_connections: int,
                 retry_after_s: int = 5) -> None:
        self.request_timeout_s = request_timeout_s
        self.max_connections = max_connections
        self.retry_after_s = retry_after_s


def json_error_bytes(status: int, phrase: str, message: str,
                     extra_headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A complete HTTP/1.1 error answer with a JSON body that closes the connection."""
    body = json.dumps({"error": message}).encode()
    head = [f"HTTP/1.1 {status} {phrase}", "Content-Type: application/json",
            f"Content-Length: {len(body)}", "Connection: close",
            *(f"{name}: {value}" for name, value in extra_headers)]
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


class LimitedHttpProtocol(HttpToolsProtocol):
    """``HttpToolsProtocol`` with a head deadline, a connection bound and JSON 400s."""

    limits: Limits  # set on a subclass made by ``protocol_class``

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._drained = 0

    # -- connection ------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            log.warning("over %d connections: answering 503", self.limits.max_connections)
            transport.write(json_error_bytes(
                503, "Service Unavailable", "the central is saturated; retry later",
                (("Retry-After", str(self.limits.retry_after_s)),)))
            transport.close()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.limits.request_timeout_s, self._expired)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expired(self) -> None:
        self._deadline = None
        if not self.transport.is_closing():
            log.debug("closing a connection that missed the request deadline")
            self.transport.close()

    # -- parser callbacks ------------------------------------------------------------------

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()  # the whole head within the deadline, counted from its first byte
        self.scope["extensions"] = {TRANSPORT_KEY: self.transport}  # type: ignore[typeddict-unknown-key]
        self._drained = 0

    def on_headers_complete(self) -> None:
        self._disarm()  # the body's deadline is the application's (it answers 408)
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if self.cycle is not None and self.cycle.response_complete:
            self._drained += len(body)
            if self._drained > DRAIN_LIMIT and not self.transport.is_closing():
                self.transport.close()
            return
        super().on_body(body)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            # The next request head, or the rest of an unread body, has its deadline too.
            self._unset_keepalive_if_required()
            self._arm()

    def send_400_response(self, msg: str) -> None:
        self._disarm()
        self.transport.write(json_error_bytes(400, "Bad Request", "malformed HTTP request"))
        self.transport.close()


def protocol_class(limits: Limits) -> type[LimitedHttpProtocol]:
    """A protocol class bound to ``limits`` (uvicorn builds protocols from a class)."""
    return type("BoundLimitedHttpProtocol", (LimitedHttpProtocol,), {"limits": limits})
