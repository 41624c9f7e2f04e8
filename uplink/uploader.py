"""Uploading the offline queue to the central platform (central API section 1), Qt-free.

``Uploader.sync_once`` sends what is due, batch by batch, and applies the spec's table of
responses: only ``accepted`` or ``duplicate`` for an id marks that transaction sent.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from typing import Any, NoReturn

from offline_queue.queue import OfflineQueue
from offline_queue.transaction import Transaction, rfc3339
from uplink.client import (
    CentralClient,
    ClientResponse,
    ClockError,
    TokenError,
    TransportError,
)

log = logging.getLogger(__name__)

MAX_BATCH = 100  # the API's limit per POST
LOGGED_BODY_CHARS = 1024
RESULT_STATUSES = frozenset({"accepted", "duplicate", "rejected"})
NO_REASON = "no reason given by the central platform"


def wire_transaction(tx: Transaction) -> dict[str, Any]:
    """The transaction object of ``POST /api/v1/transactions`` (central API section 1),
    with the project's documented extra member ``"clock": "unknown"`` when the kiosk's clock
    could not be trusted as it was made (a central ignores members it does not know)."""
    wire = {
        "id": tx.id,
        "service_id": tx.service_id,
        "menu_version": tx.menu_version,
        "created_at": tx.created_at,
        "identity": tx.identity,
        "fields": tx.fields,
    }
    if tx.clock_unknown:
        wire["clock"] = "unknown"
    return wire


class SyncState(StrEnum):
    OK = "ok"  # requests were answered as the spec says
    IDLE = "idle"  # nothing was due; nothing was sent
    OFFLINE = "offline"  # a transient failure: back-off
    AUTH_FAILED = "auth_failed"  # 401/403 or no token: wait auth_retry_s
    THROTTLED = "throttled"  # 429/503 with Retry-After
    CLOCK = "clock"  # TLS refused the certificate as not yet valid: the kiosk's clock is wrong


@dataclass(frozen=True)
class SyncReport:
    """What one ``sync_once`` did. ``next_attempt_at`` (epoch s) is set while uploads are held
    back (back-off, throttling, auth failure)."""

    sent: int = 0
    duplicate: int = 0
    rejected: int = 0
    failed: int = 0
    pending_left: int = 0
    state: str = SyncState.IDLE
    next_attempt_at: float | None = None
    last_error: str | None = None


@dataclass(frozen=True)
class SyncStatus:
    """The uploader's state for the UI, diagnostics and the heartbeat; a frozen snapshot, safe
    to hand to another thread. ``online`` means the last upload got a usable answer."""

    online: bool = False
    state: str = SyncState.IDLE
    last_success_at: float | None = None
    last_attempt_at: float | None = None
    last_error: str | None = None
    auth_failed: bool = False
    consecutive_failures: int = 0
    next_attempt_at: float | None = None
    last_heartbeat_at: float | None = None  # set by SyncWorker: the last heartbeat answered 2xx
    heartbeat_error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, times as RFC 3339 (the heartbeat's ``sync`` key)."""
        result = asdict(self)
        for key in ("last_success_at", "last_attempt_at", "next_attempt_at",
                    "last_heartbeat_at"):
            if result[key] is not None:
                result[key] = rfc3339(result[key])
        result["state"] = str(self.state)
        return result


class _Stop(Exception):
    """Ends a round: a failure that holds back the whole queue, or a stop request."""


class Uploader:
    """Uploads the queue through a ``CentralClient``; one thread at a time calls it.

    Back-off after transient failures is exponential with full jitter: the n-th failure in a
    row waits ``rng() * min(max_backoff_s, 2**(n-1))`` seconds, anywhere from 0 to the cap, so
    a fleet that failed together (an outage of the central) comes back spread over the whole
    window rather than in waves. A ``Retry-After`` is waited at least.
    """

    def __init__(
        self,
        queue: OfflineQueue,
        client: CentralClient,
        max_backoff_s: float = 300,
        auth_retry_s: float = 300,
        batch_size: int = MAX_BATCH,
        clock: Callable[[], float] = time.time,
        rng: Callable[[], float] = random.random,
    ) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not (
            1 <= batch_size <= MAX_BATCH
        ):
            raise ValueError(f"batch_size must be a whole number from 1 to {MAX_BATCH}")
        if not max_backoff_s > 0 or not auth_retry_s > 0:
            raise ValueError("max_backoff_s and auth_retry_s must be positive")
        self.queue = queue
        self.client = client
        self.max_backoff_s = float(max_backoff_s)
        self.auth_retry_s = float(auth_retry_s)
        self.batch_size = batch_size
        self._clock = clock
        self._rng = rng
        self._status = SyncStatus()
        self._round: dict[str, int] = {}
        self._should_stop: Callable[[], bool] = _never

    @property
    def status(self) -> SyncStatus:
        """The current snapshot (replaced whole, so reading it from another thread is safe)."""
        return self._status

    @property
    def next_attempt_at(self) -> float | None:
        """When uploading may start again (epoch s), or None when it may start now."""
        return self._status.next_attempt_at

    def now(self) -> float:
        """The uploader's clock (epoch seconds), which ``next_attempt_at`` is measured on."""
        return self._clock()

    def backoff_s(self, failures: int) -> float:
        """The wait after ``failures`` transient failures in a row: full jitter,
        ``uniform(0, min(max_backoff_s, 2**(failures-1)))``."""
        cap = min(self.max_backoff_s, 2.0 ** (min(max(failures, 1), 64) - 1))
        return cap * min(1.0, max(0.0, self._rng()))

    def sync_once(self, should_stop: Callable[[], bool] = lambda: False) -> SyncReport:
        """Upload what is due now until nothing is, or a failure or ``should_stop()`` (checked
        between requests) ends the round. Queue errors (QueueError) are raised."""
        now = self._clock()
        held = self._status.next_attempt_at
        if held is not None and now < held:
            return self._report({}, self._status.state, held)
        self._round = dict.fromkeys(("sent", "duplicate", "rejected", "failed"), 0)
        self._should_stop = should_stop
        state = SyncState.IDLE
        try:
            while not should_stop():
                batch = self.queue.due_batch(limit=self.batch_size, now=self._clock())
                if not batch:
                    break
                state = SyncState.OK
                if self._upload(batch) == 0:
                    # Every id was missing from the results: they stay pending and are
                    # retried next round, not hammered now.
                    log.info("no transaction of the batch was answered; trying again later")
                    break
        except _Stop:
            state = self._status.state
        finally:
            self._should_stop = _never
        return self._report(self._round, state, self._status.next_attempt_at)

    # --- one request and what its answer means ------------------------------------------

    def _upload(self, batch: list[Transaction]) -> int:
        """POST ``batch``; returns how many of its transactions changed (sent, rejected or
        held back). Raises _Stop when the round must end."""
        if self._should_stop():
            raise _Stop
        now = self._clock()
        self._set(last_attempt_at=now)
        ids = [tx.id for tx in batch]
        try:
            response = self.client.post_transactions([wire_transaction(tx) for tx in batch])
        except TokenError as exc:
            self._auth_failed(str(exc))
        except ClockError as exc:
            self._transient(ids, str(exc), state=SyncState.CLOCK)
        except TransportError as exc:
            self._transient(ids, str(exc))
        status = response.status
        if status == 200:
            try:
                results = parse_results(response, ids)
            except ValueError as exc:
                self._transient(ids, f"HTTP 200 with an unusable body: {exc}", response)
            return self._apply(results)
        if status in (401, 403):
            self._auth_failed(f"HTTP {status}: the central platform refused the token", response)
        self._set(auth_failed=False)  # any other answer means the token got through
        if status == 413:
            return self._too_large(batch, response)
        if status in (429, 503):
            retry_after = response.retry_after(now)
            if retry_after is not None:
                self._transient(ids, f"HTTP {status}, retry after {retry_after:g} s", response,
                                at_least_s=retry_after)
        self._transient(ids, f"HTTP {status}", response)

    def _apply(self, results: dict[str, tuple[str, str | None]]) -> int:
        accepted = [i for i, (s, _) in results.items() if s == "accepted"]
        duplicate = [i for i, (s, _) in results.items() if s == "duplicate"]
        if accepted or duplicate:
            self.queue.mark_sent(accepted + duplicate)
        rejected = 0
        for tx_id, (status, reason) in results.items():
            if status == "rejected":
                rejected += self.queue.mark_rejected(tx_id, reason or NO_REASON)
        self._round["sent"] += len(accepted)
        self._round["duplicate"] += len(duplicate)
        self._round["rejected"] += rejected
        self._succeeded()
        return len(results)

    def _too_large(self, batch: list[Transaction], response: ClientResponse) -> int:
        """413: split the batch in halves and send each at once; a single transaction that is
        still too large is held back on its own and the rest goes on."""
        if len(batch) > 1:
            half = len(batch) // 2
            log.info("HTTP 413 for %d transactions; sending them in halves", len(batch))
            return self._upload(batch[:half]) + self._upload(batch[half:])
        tx = batch[0]
        # At least 1 s: a wait of ~0 would make it due again within this very round.
        delay = max(1.0, self.backoff_s(tx.attempts + 1))
        self._round["failed"] += self.queue.mark_failed([tx.id], "HTTP 413: too large",
                                                        self._clock() + delay)
        log.warning("transaction %s alone is too large (HTTP 413); retrying it in %.1f s%s",
                    tx.id, delay, _server_said(response))
        return 1

    def release_hold(self) -> None:
        """A technician asked to try now: end a back-off, throttling or authentication hold
        and make every held-back transaction due, so the next ``sync_once`` uploads at once.
        The failure count stays, so a failure now backs off as it would have. Call it on the
        uploading thread."""
        if self._status.next_attempt_at is not None:
            log.info("upload hold lifted on request (was until %s)",
                     rfc3339(self._status.next_attempt_at))
            self._set(next_attempt_at=None)
        self.queue.retry_now()

    # --- state changes ------------------------------------------------------------------

    def _set(self, **changes: Any) -> None:
        self._status = replace(self._status, **changes)

    def _succeeded(self) -> None:
        self._set(online=True, state=SyncState.OK, last_success_at=self._clock(),
                  last_error=None, auth_failed=False, consecutive_failures=0,
                  next_attempt_at=None)

    def _transient(self, ids: list[str], error: str, response: ClientResponse | None = None,
                   at_least_s: float | None = None,
                   state: SyncState = SyncState.OFFLINE) -> NoReturn:
        """Back off: record the failure on the batch and hold the whole queue back."""
        failures = self._status.consecutive_failures + 1
        delay = self.backoff_s(failures)
        if at_least_s is not None:
            # Retry-After, then the jittered back-off on top: kiosks the central throttled in
            # the same second do not all come back in the same second after it.
            delay, state = at_least_s + delay, SyncState.THROTTLED
        retry_at = self._clock() + delay
        self._round["failed"] += self.queue.mark_failed(ids, error, retry_at)
        self._set(online=False, state=state, last_error=error, consecutive_failures=failures,
                  next_attempt_at=retry_at)
        log.warning("upload failed (%s); retrying in %.1f s%s", error, delay,
                    _server_said(response))
        raise _Stop

    def _auth_failed(self, error: str, response: ClientResponse | None = None) -> NoReturn:
        """Stop uploading until ``auth_retry_s`` has passed; the transactions are untouched."""
        retry_at = self._clock() + self.auth_retry_s
        self._set(online=False, state=SyncState.AUTH_FAILED, last_error=error, auth_failed=True,
                  next_attempt_at=retry_at)
        log.error("upload stopped, authentication failed (%s); next try in %g s%s", error,
                  self.auth_retry_s, _server_said(response))
        raise _Stop

    def _report(self, counts: dict[str, int], state: str, held: float | None) -> SyncReport:
        return SyncReport(
            sent=counts.get("sent", 0), duplicate=counts.get("duplicate", 0),
            rejected=counts.get("rejected", 0), failed=counts.get("failed", 0),
            pending_left=self.queue.counts()["pending"], state=str(state),
            next_attempt_at=held, last_error=self._status.last_error,
        )


def parse_results(response: ClientResponse, ids: list[str]) -> dict[str, tuple[str, str | None]]:
    """``{id: (status, reason)}`` from a 200 answer to an upload of ``ids``; ValueError when the
    body is not the spec's shape. Ids of the batch that are not in the results are left out."""
    try:
        body = response.json()
    except ValueError as exc:
        raise ValueError(f"not JSON ({exc.__class__.__name__})") from None
    if not isinstance(body, dict) or not isinstance(body.get("results"), list):
        raise ValueError("no results list")
    wanted = set(ids)
    results: dict[str, tuple[str, str | None]] = {}
    for n, entry in enumerate(body["results"]):
        if not isinstance(entry, dict):
            raise ValueError(f"result {n} is not an object")
        tx_id, status = entry.get("id"), entry.get("status")
        if not isinstance(tx_id, str) or tx_id not in wanted:
            raise ValueError(f"result {n} names no transaction of the batch")
        if status not in RESULT_STATUSES:
            raise ValueError(f"result {n} has an unknown status")
        reason = entry.get("reason")
        reason = reason if isinstance(reason, str) and reason.strip() else None
        if results.setdefault(tx_id, (status, reason))[0] != status:
            raise ValueError(f"result {n} contradicts an earlier result for the same id")
    return results


def _server_said(response: ClientResponse | None) -> str:
    """The server's body for a log line: at most 1 KiB, with runs of digits (ID and phone
    numbers it may have echoed) masked. What we sent is never logged."""
    if response is None:
        return ""
    body = _mask_digits(response.text(LOGGED_BODY_CHARS)) if response.body else "(empty body)"
    return f"; the central platform said: {body}"


def _mask_digits(text: str) -> str:
    return re.sub(r"\d{6,}[\dXx]?", lambda m: "*" * len(m.group()), text)


def _never() -> bool:
    return False
