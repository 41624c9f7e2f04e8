"""SyncWorker on a real clock against a real HTTP server: wake-ups, prompt stop, heartbeats."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sync_server import KIOSK_ID, TOKEN, Scripted

from offline_queue import OfflineQueue
from uplink.client import CentralClient
from uplink.sync_worker import SyncWorker
from uplink.uploader import SyncStatus, Uploader


@pytest.fixture
def real_queue(tmp_path: Path) -> Iterator[OfflineQueue]:
    with OfflineQueue(tmp_path / "data" / "queue.db") as q:
        yield q


@pytest.fixture
def make_worker(real_queue, server, token_file) -> Iterator[Callable[..., SyncWorker]]:
    workers: list[SyncWorker] = []

    def make(url: str | None = None, **kwargs) -> SyncWorker:
        client = CentralClient(server.url if url is None else url, KIOSK_ID, token_file,
                               connect_timeout=1, read_timeout=0.5)
        uploader = Uploader(real_queue, client, rng=lambda: 1.0)
        kwargs.setdefault("sync_interval_s", 60)
        kwargs.setdefault("start_share", lambda: 0.0)  # the first round at once
        workers.append(SyncWorker(uploader, **kwargs))
        return workers[-1]

    yield make
    for worker in workers:
        worker.stop(5)


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> float:
    """Seconds until ``condition()`` held; fails the test after ``timeout``."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < timeout, "timed out waiting"
        time.sleep(0.005)
    return time.monotonic() - start


def enqueue(queue: OfflineQueue, n: int = 1) -> list[str]:
    return [queue.enqueue("hpf-withdraw", {"phone": "13800000000"}) for _ in range(n)]


def test_wake_uploads_a_new_transaction_at_once(make_worker, real_queue, server) -> None:
    rounds = threading.Semaphore(0)
    worker = make_worker(on_status=lambda status: rounds.release())
    worker.start()
    assert rounds.acquire(timeout=3)  # the first round found nothing
    (tx_id,) = enqueue(real_queue)
    worker.wake()
    assert wait_for(lambda: tx_id in server.stored) < 1  # not after sync_interval_s (60)
    wait_for(lambda: real_queue.get(tx_id).state == "sent")


def test_without_wake_a_round_runs_every_sync_interval(make_worker, real_queue, server) -> None:
    rounds = threading.Semaphore(0)
    worker = make_worker(sync_interval_s=0.2, on_status=lambda status: rounds.release())
    worker.start()
    assert rounds.acquire(timeout=3)
    enqueue(real_queue, 3)  # no wake()
    assert wait_for(lambda: len(server.stored) == 3, timeout=2) < 0.6


def test_stop_is_prompt_during_a_long_back_off(make_worker, real_queue, server) -> None:
    enqueue(real_queue)
    server.script(Scripted(503, {"Retry-After": "3600"}))
    worker = make_worker()
    worker.start()
    wait_for(lambda: worker.status.state == "throttled")
    worker.wake()  # held back: no request before Retry-After
    start = time.monotonic()
    assert worker.stop(5)
    assert time.monotonic() - start < 2.5  # not the hour of the hold
    assert len(server.requests) == 1


def test_stop_ends_the_round_after_the_request_in_flight(make_worker, real_queue, server) -> None:
    enqueue(real_queue, 250)
    server.script(*[Scripted(delay=0.3, process=True, body=None)] * 3)
    worker = make_worker()
    worker.start()
    wait_for(lambda: len(server.requests) == 1)
    start = time.monotonic()
    assert worker.stop(5)
    assert time.monotonic() - start < 2.5  # the request in flight is bounded by the timeouts
    time.sleep(0.1)
    assert len(server.requests_to("transactions")) == 1  # no second batch


def test_heartbeats_keep_their_schedule_while_uploads_fail(
        make_worker, real_queue, server) -> None:
    enqueue(real_queue)
    server.script(*[Scripted(500)] * 20)
    sent_at: list[float] = []

    def payload() -> dict:
        sent_at.append(time.monotonic())
        return {"kiosk_id": KIOSK_ID, "n": len(sent_at)}

    worker = make_worker(heartbeat_s=0.2, heartbeat_payload=payload)
    worker.start()
    time.sleep(1.1)
    worker.stop(5)
    assert 4 <= len(server.heartbeats) <= 7
    gaps = [b - a for a, b in zip(sent_at, sent_at[1:], strict=False)]
    assert all(gap < 0.5 for gap in gaps), gaps  # never held up by the failing uploads
    # Never ahead of the schedule (a fixed rate: a late heartbeat may be followed by a short
    # gap, but any two gaps in a row take at least one period), whatever the machine's load.
    assert all(c - a >= 0.2 - 0.01 for a, c in zip(sent_at, sent_at[2:], strict=False)), gaps
    # uploads back off (1 s, then 2 s) while heartbeats go on every 0.2 s
    uploads = server.requests_to("transactions")
    assert 1 <= len(uploads) <= 2
    assert worker.uploader.status.consecutive_failures == len(uploads)


def test_a_failed_heartbeat_is_not_retried_and_leaves_uploads_alone(
        make_worker, real_queue, server) -> None:
    server.script(*[Scripted(500)] * 50, endpoint="heartbeat")
    worker = make_worker(heartbeat_s=0.3, heartbeat_payload=lambda: {"kiosk_id": KIOSK_ID})
    start = time.monotonic()
    worker.start()
    wait_for(lambda: worker.status.heartbeat_error == "HTTP 500")
    ids = enqueue(real_queue, 2)
    worker.wake()
    wait_for(lambda: len(server.stored) == 2)
    time.sleep(0.5)
    worker.stop(5)
    elapsed = time.monotonic() - start
    status = worker.uploader.status
    assert status.online and status.consecutive_failures == 0 and status.next_attempt_at is None
    heartbeats = len(server.requests_to("heartbeat"))
    assert 2 <= heartbeats <= elapsed / 0.3 + 1  # on schedule, not retried
    assert [real_queue.get(i).state for i in ids] == ["sent", "sent"]
    assert worker.status.heartbeat_error == "HTTP 500" and worker.status.last_heartbeat_at is None


def test_a_heartbeat_that_cannot_be_built_does_not_stop_the_worker(
        make_worker, real_queue, server) -> None:
    def payload() -> dict:
        raise KeyError("printer")

    worker = make_worker(heartbeat_s=0.1, heartbeat_payload=payload)
    worker.start()
    wait_for(lambda: worker.status.heartbeat_error is not None)
    (tx_id,) = enqueue(real_queue)
    worker.wake()
    wait_for(lambda: tx_id in server.stored)
    assert worker.is_alive() and server.requests_to("heartbeat") == []


def test_on_status_gets_snapshots_that_fit_the_heartbeat(make_worker, real_queue, server) -> None:
    statuses: list[SyncStatus] = []
    enqueue(real_queue)
    worker = make_worker(on_status=statuses.append, heartbeat_s=60,
                         heartbeat_payload=lambda: {"sync": worker.status.as_dict()})
    worker.start()
    wait_for(lambda: len(server.heartbeats) == 1 and statuses)
    assert statuses[0].online and statuses[0].last_success_at is not None
    sync = server.heartbeats[0]["sync"]
    assert sync["online"] is True and sync["last_success_at"].endswith("Z")
    json.dumps(statuses[0].as_dict())


def test_a_queue_error_does_not_end_the_thread(make_worker, real_queue, server) -> None:
    worker = make_worker(sync_interval_s=0.05)
    worker.start()
    real_queue.close()
    worker.wake()
    time.sleep(0.2)
    assert worker.is_alive()
    assert worker.stop(5)


def test_offline_only_never_sends_anything(make_worker, real_queue, server) -> None:
    statuses: list[SyncStatus] = []
    enqueue(real_queue)
    worker = make_worker(url="", heartbeat_s=0.05, heartbeat_payload=dict,
                         on_status=statuses.append)
    worker.start()
    worker.wake()
    worker.join(2)
    assert not worker.is_alive() and worker.stop(1)
    assert server.requests == [] and len(statuses) == 1 and not statuses[0].online
    assert real_queue.counts()["pending"] == 1


def test_sync_now_lifts_an_auth_hold_and_sends_a_heartbeat(
        make_worker, real_queue, server, token_file) -> None:
    token_file.write_text("a-wrong-token")
    (tx_id,) = enqueue(real_queue)
    worker = make_worker(heartbeat_s=3600, heartbeat_payload=lambda: {"kiosk_id": KIOSK_ID})
    worker.uploader.auth_retry_s = 3600
    worker.start()
    wait_for(lambda: worker.status.auth_failed)
    beats = len(server.heartbeats)
    token_file.write_text(TOKEN)  # the technician fixes the token
    worker.wake()  # a plain wake respects the hour-long hold
    time.sleep(0.3)
    assert tx_id not in server.stored
    worker.sync_now()
    wait_for(lambda: real_queue.get(tx_id).state == "sent")
    wait_for(lambda: len(server.heartbeats) > beats)  # the fleet hears of it at once
    assert not worker.status.auth_failed and worker.status.next_attempt_at is None


def test_sync_now_after_a_failure_backs_off_as_before(make_worker, real_queue, server) -> None:
    enqueue(real_queue)
    server.script(*[Scripted(503)] * 2)
    worker = make_worker()
    worker.start()
    wait_for(lambda: worker.status.consecutive_failures == 1)
    worker.sync_now()
    wait_for(lambda: worker.status.consecutive_failures == 2)
    assert worker.status.next_attempt_at is not None  # the second failure holds again
    assert len(server.requests_to("transactions")) == 2


# --- spreading a fleet's first round (issue #13, item 7) ---------------------------------


def test_the_first_round_waits_a_random_share_of_the_sync_interval(make_worker) -> None:
    shares = iter([0.25, 0.9])
    worker = make_worker(sync_interval_s=40, start_share=lambda: next(shares))
    assert worker.first_upload_wait() == 10.0
    assert worker.first_upload_wait() == 36.0


def test_the_first_heartbeat_goes_at_once_the_backlog_after_the_first_wait(
        make_worker, real_queue, server) -> None:
    (tx_id,) = enqueue(real_queue)
    rounds = threading.Semaphore(0)
    worker = make_worker(sync_interval_s=3600, start_share=lambda: 1.0, heartbeat_s=3600,
                         heartbeat_payload=lambda: {"kiosk_id": KIOSK_ID},
                         on_status=lambda status: rounds.release())
    worker.start()
    assert rounds.acquire(timeout=3)  # the first round: a heartbeat, no upload (an hour)
    assert len(server.heartbeats) == 1 and server.requests_to("transactions") == []
    worker.wake()  # a resident's transaction ends the wait
    wait_for(lambda: real_queue.get(tx_id).state == "sent")
    assert len(server.heartbeats) == 1


def test_a_wake_before_start_uploads_at_once(make_worker, real_queue, server) -> None:
    (tx_id,) = enqueue(real_queue)
    worker = make_worker(sync_interval_s=3600, start_share=lambda: 1.0)
    worker.wake()
    worker.start()
    wait_for(lambda: real_queue.get(tx_id).state == "sent")


def test_stop_is_prompt_during_the_first_wait(make_worker, real_queue, server) -> None:
    enqueue(real_queue)
    rounds = threading.Semaphore(0)
    worker = make_worker(sync_interval_s=3600, start_share=lambda: 1.0,
                         on_status=lambda status: rounds.release())
    worker.start()
    assert rounds.acquire(timeout=3)
    assert worker.stop(5)
    assert server.requests_to("transactions") == []
