"""Turning ``Reply`` and ``HttpError`` into Starlette responses; the injected reset."""

from __future__ import annotations

import asyncio
import socket
import struct
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ..replies import HttpError, Reply, json_bytes
from .protocol import TRANSPORT_KEY


def reply_response(reply: Reply, method: str = "GET") -> Response:
    """``reply`` as a response: a JSON (or given) body, no body for 204/304 or HEAD."""
    headers = dict(reply.headers)
    if reply.close:
        headers["Connection"] = "close"
    if reply.body is None:
        response = Response(status_code=reply.status, headers=headers)
        if reply.status not in (204, 304):
            response.headers["Content-Length"] = "0"
        return response
    response = Response(reply.body if method != "HEAD" else b"", status_code=reply.status,
                        headers=headers, media_type=reply.content_type)
    if method == "HEAD":
        response.headers["Content-Length"] = str(len(reply.body))
    return response


def error_response(exc: HttpError) -> Response:
    return reply_response(Reply(exc.status, exc.payload(), exc.headers, close=exc.close))


def json_response(status: int, payload: Any, close: bool = False,
                  headers: dict[str, str] | None = None) -> Response:
    extra = dict(headers or {})
    if close:
        extra["Connection"] = "close"
    return Response(json_bytes(payload), status_code=status, headers=extra,
                    media_type="application/json")


async def reset_connection(request: Request) -> Response:
    """Drop the connection mid-status-line with a TCP reset: no valid HTTP answer."""
    transport = request.scope.get("extensions", {}).get(TRANSPORT_KEY)
    if transport is not None:
        sock = transport.get_extra_info("socket")
        transport.write(b"HTTP/1.1 2")
        try:
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        transport.abort()
        for _ in range(3):  # let connection_lost mark the cycle disconnected
            await asyncio.sleep(0)
    return Response(status_code=500)
