"""Fault injection for tests and demos; every fault is off until a test asks for it.

``CentralServer.faults`` is a ``Faults``. The request handler asks it once per request
(``take``), after reading the body and before its normal work; nothing else in the server
knows about faults.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

ENDPOINTS = frozenset({"transactions", "menu", "heartbeat"})


@dataclass(frozen=True)
class StatusFault:
    """Answer ``code`` instead of handling the request (nothing is stored)."""

    code: int
    retry_after: int | None = None
    body: Any = None  # dict/list -> JSON; str/bytes -> sent as is; None -> {"error": ...}


@dataclass(frozen=True)
class ResetFault:
    """Close the connection without a valid HTTP answer (the client sees a reset)."""

    after_processing: bool = False  # True: the request is handled (stored), the answer lost


@dataclass
class _Pending:
    fault: StatusFault | ResetFault
    times: int
    endpoint: str | None


class Faults:
    """Faults queued by a test; each is used ``times`` times, first queued first used.

    ``endpoint`` limits a fault to ``"transactions"``, ``"menu"`` or ``"heartbeat"``
    (default: any request). ``delay_s`` makes every request wait before it is handled.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: deque[_Pending] = deque()
        self.delay_s: float = 0.0

    def next_status(self, code: int, times: int = 1, retry_after: int | None = None,
                    body: Any = None, endpoint: str | None = None) -> None:
        """The next ``times`` requests are answered ``code`` (with ``Retry-After``, ``body``)."""
        if not 100 <= code <= 599 or code in (204, 304):
            raise ValueError(f"status {code}: expected 100..599 with a body (not 204/304)")
        self._add(StatusFault(code, retry_after, body), times, endpoint)

    def reset_connection(self, times: int = 1, after_processing: bool = False,
                         endpoint: str | None = None) -> None:
        """The next ``times`` requests get no valid answer: the socket is closed mid-response.

        ``after_processing=True`` handles the request first (a batch is stored), so the
        client must resend and will then read ``duplicate``.
        """
        self._add(ResetFault(after_processing), times, endpoint)

    def clear(self) -> None:
        """Back to normal: no queued faults, no delay."""
        with self._lock:
            self._pending.clear()
            self.delay_s = 0.0

    @property
    def pending(self) -> int:
        """How many faulty answers are still queued."""
        with self._lock:
            return sum(p.times for p in self._pending)

    def take(self, endpoint: str) -> StatusFault | ResetFault | None:
        """The fault for one request to ``endpoint``, used up; None for a normal answer."""
        with self._lock:
            for pending in self._pending:
                if pending.endpoint in (None, endpoint):
                    pending.times -= 1
                    if pending.times <= 0:
                        self._pending.remove(pending)
                    return pending.fault
        return None

    def _add(self, fault: StatusFault | ResetFault, times: int, endpoint: str | None) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        if endpoint is not None and endpoint not in ENDPOINTS:
            raise ValueError(f"endpoint {endpoint!r}: expected one of {sorted(ENDPOINTS)}")
        with self._lock:
            self._pending.append(_Pending(fault, times, endpoint))
