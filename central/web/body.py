"""Request bodies: by Content-Length only, checked against their limit before a byte is read,
streamed against that limit and the request deadline."""

from __future__ import annotations

import asyncio
import re
import time

from starlette.requests import ClientDisconnect, Request

from ..replies import HttpError

_DIGITS = re.compile(r"^[0-9]{1,18}$")
DRAIN_FACTOR = 8  # a body up to 8x its limit is left to drain, so that the 413 arrives


class ClientGone(Exception):
    """The client went away before its body arrived; there is no one to answer."""


def declared_length(request: Request) -> int | None:
    """The Content-Length of ``request`` (None without one); 400/411 for what is not allowed."""
    if request.headers.get("transfer-encoding"):
        raise HttpError(411, "send the body with a Content-Length, not chunked", close=True)
    values = request.headers.getlist("content-length")
    if not values:
        return None
    if len(values) > 1 or not _DIGITS.match(values[0].strip()):
        raise HttpError(400, "Content-Length is not one whole number", close=True)
    return int(values[0])


def check_length(length: int | None, limit: int) -> None:
    """413 for a declared body over ``limit``, decided from the headers alone."""
    if length is not None and length > limit:
        raise HttpError(413, f"the body is {length} bytes, over the {limit} byte limit",
                        close=length > limit * DRAIN_FACTOR)


async def read_body(request: Request, limit: int, started: float, timeout_s: float) -> bytes:
    """The body, streamed: at most ``limit`` bytes, all of it by ``started + timeout_s``."""
    chunks: list[bytes] = []
    size = 0
    remaining = started + timeout_s - time.monotonic()
    if remaining <= 0:
        raise HttpError(408, "the body did not arrive in time", close=True)
    try:
        # One deadline for the whole body (asyncio.timeout: no task per chunk as wait_for).
        async with asyncio.timeout(remaining):
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise HttpError(413, f"the body is over the {limit} byte limit",
                                    close=True)
                chunks.append(chunk)
    except TimeoutError:
        raise HttpError(408, "the body did not arrive in time", close=True) from None
    except ClientDisconnect:
        raise ClientGone from None
    return b"".join(chunks)
