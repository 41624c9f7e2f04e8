"""``SyncWorker``: the one background thread that uploads the queue and sends heartbeats."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from uplink.client import ClientResponse
from uplink.errors import SyncError
from uplink.loop import BackgroundLoop
from uplink.uploader import SyncStatus, Uploader

if TYPE_CHECKING:
    from uplink.client import ClientResponse

log = logging.getLogger(__name__)


class SyncWorker(BackgroundLoop):
    """Runs ``uploader.sync_once`` in a loop on its own daemon thread.

    The first upload waits ``start_share() * sync_interval_s`` after start (the first
    heartbeat goes at once, so the fleet page sees the kiosk), so a fleet that powers up
    together after an outage spreads its backlog over the interval; ``wake()`` or
    ``sync_now()`` ends that wait. An upload round runs at once after ``wake()`` (call it
    when a transaction was enqueued), else every ``sync_interval_s``, or sooner when the
    uploader's back-off ends. A heartbeat built by ``heartbeat_payload()`` is sent every
    ``heartbeat_s`` whatever the uploads do; a failed one is not retried.
    ``on_status(SyncStatus)`` is called on this thread after each round (the app turns it
    into a Qt signal); ``on_answer(payload, response)`` after each heartbeat answered 2xx
    (its commands). With no central URL nothing is sent. The worker owns the uploader's
    client and closes it when it ends.
    """

    round_name = "upload round"

    def __init__(
        self,
        uploader: Uploader,
        *,
        sync_interval_s: float = 30,
        heartbeat_s: float = 60,
        heartbeat_payload: Callable[[], dict] | None = None,
        on_status: Callable[[SyncStatus], None] | None = None,
        on_heartbeat: Callable[[ClientResponse], None] | None = None,
        on_answer: Callable[[dict, ClientResponse], None] | None = None,
        name: str = "sync-worker",
        start_share: Callable[[], float] = random.random,
    ) -> None:
        if not sync_interval_s > 0 or not heartbeat_s > 0:
            raise ValueError("sync_interval_s and heartbeat_s must be positive")
        super().__init__(sync_interval_s, name=name)
        self.uploader = uploader
        self.heartbeat_s = float(heartbeat_s)
        self._heartbeat_payload = heartbeat_payload
        self._on_status = on_status
        self._on_heartbeat = on_heartbeat  # a 2xx answer (updates: heartbeat-ok)
        self._on_answer = on_answer  # (payload sent, answer): the fleet's commands
        self._start_share = start_share
        self._upload_at: float | None = None  # time.monotonic() of the first upload
        self._force = threading.Event()  # sync_now(): lift the hold, heartbeat at once
        self._next_heartbeat = 0.0  # time.monotonic() of the next heartbeat
        self._heartbeat_at: float | None = None
        self._heartbeat_error: str | None = None

    @property
    def sync_interval_s(self) -> float:
        return self.interval_s

    @property
    def status(self) -> SyncStatus:
        """The uploader's status with the heartbeat's added."""
        return replace(self.uploader.status, last_heartbeat_at=self._heartbeat_at,
                       heartbeat_error=self._heartbeat_error)

    def sync_now(self) -> None:
        """Upload and send a heartbeat now, even during a back-off or an authentication
        hold (a technician has fixed the network or the token); safe from any thread."""
        self._force.set()
        self.wake()

    # -- the loop's steps ---------------------------------------------------------------

    def prepare(self) -> bool:
        if self.uploader.client.offline_only:
            log.info("no central URL configured: offline-only, nothing is uploaded")
            self._notify()
            return False
        now = time.monotonic()
        self._next_heartbeat = now
        wait = self.first_upload_wait()
        if self._upload_at is None:  # not woken before it started
            self._upload_at = now + wait
            log.info("first upload in %.1f s (spread over sync_interval_s)", wait)
        return True

    def first_upload_wait(self) -> float:
        """Seconds from start to the first upload: a random share of ``sync_interval_s``."""
        return self.sync_interval_s * min(1.0, max(0.0, self._start_share()))

    def wake(self) -> None:
        self._upload_at = 0.0  # a new transaction ends the first wait too
        super().wake()

    def run_round(self) -> None:
        forced = self._force.is_set()
        if forced:
            self._force.clear()
        if forced or time.monotonic() >= (self._upload_at or 0.0):
            self._upload_at = 0.0
            self._sync(release_hold=forced)
        if self.stopping:
            return
        now = time.monotonic()
        if forced:
            self._next_heartbeat = min(self._next_heartbeat, now)
        if self._heartbeat_payload is not None and now >= self._next_heartbeat:
            self._heartbeat()
            self._next_heartbeat += self.heartbeat_s
            if self._next_heartbeat <= time.monotonic():  # fell behind: keep the period
                self._next_heartbeat = time.monotonic() + self.heartbeat_s
        self._notify()

    def next_wait(self) -> float:
        wait = self._until_next_round()
        if self._upload_at:  # the first upload is still to come
            wait = self._upload_at - time.monotonic()
        if self._heartbeat_payload is not None:
            wait = min(wait, self._next_heartbeat - time.monotonic())
        return wait

    def finish(self) -> None:
        self.uploader.client.close()

    def _until_next_round(self) -> float:
        held = self.uploader.next_attempt_at
        if held is None:
            return self.sync_interval_s
        # Waking at sync_interval_s during a long hold is a cheap no-op round, and keeps a
        # wall-clock jump from putting the worker to sleep for hours.
        return min(self.sync_interval_s, max(0.0, held - self.uploader.now()))

    def _sync(self, release_hold: bool = False) -> None:
        try:
            if release_hold:
                self.uploader.release_hold()
            report = self.uploader.sync_once(should_stop=lambda: self.stopping)
        except Exception:  # a queue or disk error must not end the thread
            log.exception("upload round failed")
            return
        if report.sent or report.duplicate or report.rejected or report.failed:
            log.info("upload round: %s", report)

    def _heartbeat(self) -> None:
        try:
            payload = self._heartbeat_payload()  # type: ignore[misc]
            response = self.uploader.client.post_heartbeat(payload)
        except SyncError as exc:
            self._heartbeat_error = str(exc)
        except Exception as exc:  # the app's payload builder failed
            log.exception("building the heartbeat failed")
            self._heartbeat_error = f"cannot build the heartbeat: {type(exc).__name__}"
        else:
            if 200 <= response.status < 300:
                self._heartbeat_at, self._heartbeat_error = time.time(), None
                if self._on_heartbeat is not None:
                    try:
                        self._on_heartbeat(response)
                    except Exception:
                        log.exception("the heartbeat callback failed")
                self._answered(payload, response)
                return
            self._heartbeat_error = f"HTTP {response.status}"
        log.warning("heartbeat failed (%s); the next is sent on schedule", self._heartbeat_error)

    def _answered(self, payload: dict, response: ClientResponse) -> None:
        if self._on_answer is None:
            return
        try:
            self._on_answer(payload, response)
        except Exception:
            log.exception("handling the heartbeat's answer failed")

    def _notify(self) -> None:
        if self._on_status is None:
            return
        try:
            self._on_status(self.status)
        except Exception:
            log.exception("the sync status callback failed")
