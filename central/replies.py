"""What a request handler answers: ``Reply`` for a normal answer, ``HttpError`` for an error."""

from __future__ import annotations

import json
from typing import Any


class HttpError(Exception):
    """An error answer: status, a one-line message, extra headers; optionally close after.
    ``details`` adds keys to the JSON body next to ``error``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None,
                 close: bool = False, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}
        self.close = close
        self.details = details or {}

    def payload(self) -> dict[str, Any]:
        return {"error": str(self), **self.details}


class Reply:
    """An answer: ``payload`` as JSON, or ``raw`` bytes, or neither for no body (204, 304)."""

    def __init__(self, status: int, payload: Any = None, headers: dict[str, str] | None = None,
                 raw: bytes | None = None, close: bool = False,
                 content_type: str = "application/json") -> None:
        self.status = status
        self.body = raw if raw is not None else (
            None if payload is None else json_bytes(payload))
        self.headers = headers or {}
        self.close = close
        self.content_type = content_type


def json_bytes(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
