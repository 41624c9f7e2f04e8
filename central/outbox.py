"""Handing accepted transactions on to the platform's receiver (the outbox).

Every accepted transaction waits in the store until a ``POST`` of it to ``--forward-url`` is
answered ``2xx``; anything else is retried with growing back-off, never dropped
(central-operations.md, "Handing transactions on"). Batches are claimed from the store with a
lease, so several centrals on one database deliver each batch once in the normal case and a
central that dies mid-batch leaves it to be claimed again when the lease ends: delivery is at
least once, and receivers de-duplicate by id. A configurable time after delivery the
transaction's personal data is purged from the central.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import requests

from contract.times import rfc3339

from .errors import CentralError, ConfigError
from .store import Store

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Kiosk-Central-Signature"
BATCH = 100
MAX_BACKOFF_S = 300.0
DEFAULT_PURGE_AFTER_S = 7 * 86400.0
_PAYLOAD_KEYS = ("id", "kiosk_id", "service_id", "menu_version", "created_at", "identity",
                 "fields")


class DeliveryError(CentralError):
    """The receiver did not answer 2xx (the batch stays pending and is retried)."""


def read_secret(path: str | Path) -> bytes:
    """The HMAC key: the file's bytes, surrounding whitespace stripped."""
    try:
        secret = Path(path).read_bytes().strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the forward secret ({exc.strerror})") from None
    if not secret:
        raise ConfigError(f"{path}: the forward secret file is empty")
    return secret


def signature(secret: bytes, body: bytes) -> str:
    """The ``X-Kiosk-Central-Signature`` value of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def payload(records: list[dict[str, Any]]) -> bytes:
    """The request body for a batch of claimed transactions."""
    items = [{**{k: r[k] for k in _PAYLOAD_KEYS}, "received_at": rfc3339(r["received_at"])}
             for r in records]
    return json.dumps({"transactions": items}, ensure_ascii=False,
                      separators=(",", ":")).encode("utf-8")


def backoff_s(failures: int, base_s: float, max_s: float = MAX_BACKOFF_S) -> float:
    """Wait after ``failures`` failures in a row: doubling from ``base_s``, at most
    ``max_s``, with jitter in its upper half so centrals do not retry in step."""
    ceiling = min(max_s, base_s * 2 ** max(0, failures - 1))
    return ceiling / 2 + random.random() * ceiling / 2


class Outbox:
    """Delivers the store's pending transactions to ``url`` on a background thread.

    ``start()`` runs it; ``stop()`` ends it and waits. ``deliver_once()`` delivers one batch
    (tests and the thread call it). ``purge_after_s`` None keeps personal data forever.
    """

    def __init__(self, store: Store, url: str, secret: bytes | None = None, *,
                 batch: int = BATCH, timeout_s: float = 30.0, poll_s: float = 1.0,
                 retry_base_s: float = 1.0, max_backoff_s: float = MAX_BACKOFF_S,
                 purge_after_s: float | None = DEFAULT_PURGE_AFTER_S,
                 purge_every_s: float = 60.0,
                 clock: Callable[[], float] = time.time) -> None:
        if not url.startswith(("http://", "https://")):
            raise ConfigError(f"--forward-url {url}: expected an http:// or https:// URL")
        if not 1 <= batch <= BATCH:
            raise ConfigError(f"outbox batch {batch}: expected 1 to {BATCH}")
        self.store = store
        self.url = url
        self.secret = secret
        self.batch = batch
        self.timeout_s = timeout_s
        self.poll_s = poll_s
        self.retry_base_s = retry_base_s
        self.max_backoff_s = max_backoff_s
        self.purge_after_s = purge_after_s
        self.purge_every_s = purge_every_s
        self.clock = clock
        #: A claim outlives a request that times out: no other central takes the batch
        #: while this one may still be sending it.
        self.lease_s = 2 * timeout_s + 30.0
        self.failures = 0
        #: The back-off after the last failure; the batch is due again then.
        self.retry_in_s = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._session = requests.Session()
        self._last_purge = float("-inf")

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> Outbox:
        if self._thread is not None:
            raise RuntimeError("the outbox is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="central-outbox", daemon=True)
        self._thread.start()
        log.info("outbox delivering to %s%s", self.url,
                 " (signed)" if self.secret else " (unsigned: no --forward-secret-file)")
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._session.close()

    def wake(self) -> None:
        """Look for pending transactions now rather than at the next poll."""
        self._wake.set()

    def __enter__(self) -> Outbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._purge_if_due()
                delivered = self.deliver_once()
            except DeliveryError as exc:
                log.warning("outbox: %s; retrying in %.1f s", exc, self.retry_in_s)
                self._stop.wait(self.retry_in_s)
                continue
            except CentralError as exc:  # the database is away: try again after a poll
                log.warning("outbox: %s", exc)
                delivered = 0
            if delivered == 0:
                self._wake.wait(self.poll_s)
                self._wake.clear()

    # -- one step --------------------------------------------------------------------------

    def deliver_once(self) -> int:
        """Claim up to one batch and POST it; how many were delivered (0: none due).
        Raises ``DeliveryError`` when the receiver did not take it; the batch is then due
        again after the back-off."""
        records = self.store.claim_outbox(self.batch, self.lease_s, now=self.clock())
        if not records:
            return 0
        ids = [r["id"] for r in records]
        try:
            self._post(payload(records))
        except DeliveryError:
            self.failures += 1
            self.retry_in_s = backoff_s(self.failures, self.retry_base_s, self.max_backoff_s)
            self.store.retry_later(ids, self.clock() + self.retry_in_s)
            raise
        self.store.mark_delivered(ids, now=self.clock())
        self.failures = 0
        log.info("outbox: delivered %d transactions", len(ids))
        return len(ids)

    def _post(self, body: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        if self.secret is not None:
            headers[SIGNATURE_HEADER] = signature(self.secret, body)
        try:
            r = self._session.post(self.url, data=body, headers=headers,
                                   timeout=(min(10.0, self.timeout_s), self.timeout_s))
        except requests.RequestException as exc:
            raise DeliveryError(f"{self.url}: {type(exc).__name__}") from None
        if not 200 <= r.status_code < 300:
            raise DeliveryError(f"{self.url} answered {r.status_code}")

    def _purge_if_due(self) -> None:
        now = self.clock()
        if self.purge_after_s is None or now - self._last_purge < self.purge_every_s:
            return
        self._last_purge = now
        purged = self.store.purge_delivered(now - self.purge_after_s, now=now)
        if purged:
            log.info("outbox: personal data of %d delivered transactions purged", purged)

    def purge_now(self) -> int:
        """Purge what is due now, whatever ``purge_every_s`` says; how many were purged."""
        if self.purge_after_s is None:
            return 0
        now = self.clock()
        self._last_purge = now
        return self.store.purge_delivered(now - self.purge_after_s, now=now)
