"""Uploader against a real HTTP server on 127.0.0.1: every row of the central API's table of
responses (section 1), batching, back-off and authentication, with an injected clock."""

from __future__ import annotations

import email.utils
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_server import KIOSK_ID, TOKEN, Scripted, SyncServer

from offline_queue import OfflineQueue
from uplink.client import CentralClient
from uplink.uploader import Uploader, wire_transaction

IDENTITY = {"method": "ga467", "id_number": "330106199001011234", "name": "张三"}
FIELDS = {"phone": "13800000000"}


@pytest.fixture
def client(server: SyncServer, token_file: Path) -> Iterator[CentralClient]:
    with CentralClient(server.url, KIOSK_ID, token_file, connect_timeout=1,
                       read_timeout=0.5) as c:
        yield c


@pytest.fixture
def uploader(queue: OfflineQueue, client: CentralClient, clock) -> Uploader:
    # rng() == 1.0: no jitter, so the n-th failure waits exactly min(300, 2**(n-1)) s
    return Uploader(queue, client, clock=clock, rng=lambda: 1.0)


@pytest.fixture
def t0(clock) -> float:
    """The time the test started at on the injected clock."""
    return clock.now


def enqueue(queue: OfflineQueue, n: int = 1) -> list[str]:
    return [queue.enqueue("hpf-withdraw", FIELDS, IDENTITY, menu_version=12) for _ in range(n)]


def states(queue: OfflineQueue, ids: list[str]) -> list[str]:
    return [queue.get(i).state for i in ids]


# --- the wire form ----------------------------------------------------------------------


def test_wire_transaction_is_the_central_api_transaction(queue) -> None:
    tx_id = queue.enqueue("hpf-withdraw", {"phone": "13800000000"}, IDENTITY, menu_version=12)

    assert wire_transaction(queue.get(tx_id)) == {
        "id": tx_id,
        "service_id": "hpf-withdraw",
        "menu_version": 12,
        "created_at": "2026-11-24T09:30:00Z",
        "identity": IDENTITY,
        "fields": {"phone": "13800000000"},
    }


def test_the_wire_form_carries_decrypted_values_and_no_identity_as_null(queue) -> None:
    fields = {"address": "浙江省杭州市西湖区文三路 90 号", "amount": 1200.5}
    with_id = queue.enqueue("hpf-withdraw", fields, IDENTITY, menu_version=3)
    without = queue.enqueue("library-renew", {"card": "A1"})

    wire = wire_transaction(queue.get(with_id))
    assert wire["identity"] == IDENTITY and wire["fields"] == fields
    assert wire_transaction(queue.get(without))["identity"] is None


# --- 200 with results -------------------------------------------------------------------


def test_accepted_transactions_are_marked_sent(t0, uploader, queue, server, clock) -> None:
    ids = enqueue(queue, 3)
    report = uploader.sync_once()
    assert (report.sent, report.duplicate, report.failed, report.pending_left) == (3, 0, 0, 0)
    assert report.state == "ok" and report.next_attempt_at is None
    assert states(queue, ids) == ["sent"] * 3
    assert server.stored[ids[0]] == wire_transaction(queue.get(ids[0]))
    assert server.stored[ids[0]]["identity"] == IDENTITY
    status = uploader.status
    assert status.online and status.last_success_at == t0 and status.consecutive_failures == 0


def test_duplicates_are_marked_sent(uploader, queue, server) -> None:
    ids = enqueue(queue, 2)
    server.stored[ids[0]] = {"id": ids[0]}  # an earlier upload whose answer was lost
    report = uploader.sync_once()
    assert (report.sent, report.duplicate) == (1, 1)
    assert states(queue, ids) == ["sent", "sent"]


def test_rejected_keeps_the_reason_and_is_never_resent(uploader, queue, server, clock) -> None:
    bad, good = enqueue(queue, 2)
    server.reject[bad] = "id_number fails the check digit"
    report = uploader.sync_once()
    assert (report.sent, report.rejected, report.pending_left) == (1, 1, 0)
    tx = queue.get(bad)
    assert (tx.state, tx.reason) == ("rejected", "id_number fails the check digit")
    clock.advance(3600)
    assert uploader.sync_once().state == "idle"
    assert len(server.requests) == 1


def test_rejected_without_a_reason_is_still_rejected(uploader, queue, server) -> None:
    (tx_id,) = enqueue(queue)
    server.script(Scripted(body={"results": [{"id": tx_id, "status": "rejected"}]}))
    assert uploader.sync_once().rejected == 1
    assert queue.get(tx_id).reason == "no reason given by the central platform"


def test_an_id_missing_from_results_stays_pending_without_a_hot_loop(
        t0, uploader, queue, server, clock) -> None:
    missing, *others = enqueue(queue, 3)
    server.omit.add(missing)
    report = uploader.sync_once()
    assert report.sent == 2 and report.failed == 0 and report.pending_left == 1
    assert report.state == "ok" and report.next_attempt_at is None
    # the first batch made progress; the second held only the missing one and made none
    assert [len(r.ids) for r in server.requests] == [3, 1]
    tx = queue.get(missing)
    assert (tx.state, tx.attempts, tx.next_attempt_at) == ("pending", 0, None)
    server.omit.clear()
    assert uploader.sync_once().sent == 1
    assert states(queue, [missing, *others]) == ["sent"] * 3


# --- 200 that is not the shape ----------------------------------------------------------


GARBAGE = {
    "not JSON": lambda ids: b"<html>Service Unavailable</html>",
    "not UTF-8": lambda ids: b"\xff\xfe{}",
    "a list": lambda ids: [{"id": ids[0], "status": "accepted"}],
    "no results": lambda ids: {"ok": True},
    "results not a list": lambda ids: {"results": {ids[0]: "accepted"}},
    "unknown status": lambda ids: {"results": [{"id": ids[0], "status": "stored"}]},
    "entry not an object": lambda ids: {"results": [ids[0]]},
    "id not in the batch": lambda ids: {"results": [
        {"id": ids[0], "status": "accepted"},
        {"id": "00000000-0000-4000-8000-000000000000", "status": "accepted"}]},
    "id not a string": lambda ids: {"results": [{"id": 7, "status": "accepted"}]},
    "contradicting entries": lambda ids: {"results": [
        {"id": ids[0], "status": "accepted"}, {"id": ids[0], "status": "rejected"}]},
    "empty body": lambda ids: b"",
}


@pytest.mark.parametrize("kind", GARBAGE)
def test_a_200_that_is_not_the_shape_is_a_transient_failure(
        t0, uploader, queue, server, clock, kind) -> None:
    ids = enqueue(queue, 2)
    server.script(Scripted(200, body=GARBAGE[kind](ids)))
    report = uploader.sync_once()
    assert (report.sent, report.duplicate, report.failed) == (0, 0, 2)
    assert report.state == "offline" and report.next_attempt_at == t0 + 1
    assert states(queue, ids) == ["pending", "pending"]
    tx = queue.get(ids[0])
    assert tx.attempts == 1 and tx.last_error.startswith("HTTP 200 with an unusable body")
    assert not uploader.status.online


def test_a_200_cut_off_at_the_size_limit_is_a_transient_failure(
        t0, queue, server, token_file, clock) -> None:
    ids = enqueue(queue)
    padding = "x" * 2048
    server.script(Scripted(body={"results": [{"id": ids[0], "status": "accepted"}],
                                 "padding": padding}))
    with CentralClient(server.url, KIOSK_ID, token_file, max_body_bytes=1024) as client:
        report = Uploader(queue, client, clock=clock).sync_once()
    assert report.sent == 0 and states(queue, ids) == ["pending"]


# --- 401, 403 ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [401, 403])
def test_auth_failure_stops_uploading_until_auth_retry_s(
        t0, queue, client, server, clock, status) -> None:
    uploader = Uploader(queue, client, auth_retry_s=120, clock=clock)
    ids = enqueue(queue, 150)
    server.script(Scripted(status, body={"error": "no"}))
    report = uploader.sync_once()
    assert report.state == "auth_failed" and report.next_attempt_at == t0 + 120
    assert report.pending_left == 150 and len(server.requests) == 1
    assert uploader.status.auth_failed and f"HTTP {status}" in uploader.status.last_error
    assert queue.get(ids[0]).attempts == 0  # not the transactions' fault
    clock.advance(119)
    assert uploader.sync_once().state == "auth_failed"
    assert len(server.requests) == 1  # nothing sent before auth_retry_s
    clock.advance(1)
    report = uploader.sync_once()
    assert report.state == "ok" and report.sent == 150
    assert not uploader.status.auth_failed and uploader.status.last_error is None


def test_a_wrong_token_then_a_fixed_token_file(uploader, queue, server, clock, token_file):
    token_file.write_text("expired-token")
    enqueue(queue)
    assert uploader.sync_once().state == "auth_failed"
    token_file.write_text(TOKEN)
    clock.advance(299)
    assert uploader.sync_once().state == "auth_failed"
    clock.advance(1)
    assert uploader.sync_once().sent == 1
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer expired-token", f"Bearer {TOKEN}"]


def test_a_missing_token_file_is_an_auth_failure_without_a_request(
        t0, uploader, queue, server, clock, token_file) -> None:
    enqueue(queue)
    token_file.unlink()
    report = uploader.sync_once()
    assert report.state == "auth_failed" and report.next_attempt_at == t0 + 300
    assert "does not exist" in report.last_error and uploader.status.auth_failed
    assert server.requests == []
    token_file.write_text(TOKEN)  # the technician fixes it
    clock.advance(300)
    assert uploader.sync_once().sent == 1


# --- 413 --------------------------------------------------------------------------------


def test_413_splits_in_halves_and_holds_back_only_the_single_too_large(
        t0, uploader, queue, server, clock) -> None:
    ids = enqueue(queue, 8)
    server.too_large.add(ids[2])
    report = uploader.sync_once()
    assert [len(r.ids) for r in server.requests] == [8, 4, 2, 2, 1, 1, 4]
    assert (report.sent, report.failed, report.pending_left) == (7, 1, 1)
    assert report.state == "ok" and report.next_attempt_at is None  # the rest went on
    tx = queue.get(ids[2])
    assert (tx.state, tx.attempts, tx.last_error) == ("pending", 1, "HTTP 413: too large")
    assert tx.next_attempt_at == t0 + 1
    later = enqueue(queue)  # held back on its own: the queue keeps flowing
    assert uploader.sync_once().sent == 1 and states(queue, later) == ["sent"]
    clock.advance(1)
    uploader.sync_once()
    assert queue.get(ids[2]).attempts == 2
    assert queue.get(ids[2]).next_attempt_at == t0 + 1 + 2  # its own back-off grows


def test_413_for_everything_splits_down_to_singles(uploader, queue, server) -> None:
    ids = enqueue(queue, 4)
    server.too_large.update(ids)
    report = uploader.sync_once()
    assert [len(r.ids) for r in server.requests] == [4, 2, 1, 1, 2, 1, 1]
    assert (report.sent, report.failed, report.pending_left) == (0, 4, 4)


# --- 429, 503 ---------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_seconds_is_waited(t0, uploader, queue, server, clock, status) -> None:
    # Retry-After, then the jittered back-off on top (rng() == 1.0 here: the first
    # failure's whole 1 s), so throttled kiosks do not all return in the same second.
    ids = enqueue(queue, 2)
    server.script(Scripted(status, {"Retry-After": "120"}))
    report = uploader.sync_once()
    assert report.state == "throttled" and report.next_attempt_at == t0 + 120 + 1
    assert report.failed == 2 and queue.get(ids[0]).next_attempt_at == t0 + 121
    clock.advance(120.5)
    uploader.sync_once()
    assert len(server.requests) == 1
    clock.advance(0.5)
    assert uploader.sync_once().sent == 2


def test_retry_after_is_spread_by_the_jitter(t0, queue, client, server, clock) -> None:
    """Kiosks throttled in the same second come back over [Retry-After, Retry-After +
    back-off], never before Retry-After."""
    returns = set()
    for draw in (0.0, 0.25, 0.5, 0.999):
        uploader = Uploader(queue, client, clock=clock, rng=lambda v=draw: v)
        ids = enqueue(queue)
        server.script(Scripted(503, {"Retry-After": "30"}))
        report = uploader.sync_once()
        assert report.state == "throttled" and report.next_attempt_at >= clock.now + 30
        returns.add(report.next_attempt_at - clock.now)
        queue.mark_failed(ids, "test", clock.now)  # due again for the next uploader
    assert len(returns) == 4 and max(returns) <= 30 + 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_as_an_http_date(t0, uploader, queue, server, clock, status) -> None:
    enqueue(queue)
    when = email.utils.formatdate(t0 + 600, usegmt=True)
    server.script(Scripted(status, {"Retry-After": when}))
    assert uploader.sync_once().next_attempt_at == t0 + 600 + 1  # + the back-off (rng 1.0)


def test_retry_after_shorter_than_the_back_off_adds_the_back_off(
        t0, uploader, queue, server, clock) -> None:
    enqueue(queue)
    server.script(Scripted(500), Scripted(500), Scripted(503, {"Retry-After": "1"}))
    for _ in range(2):
        uploader.sync_once()
        clock.advance(uploader.next_attempt_at - clock.now)
    report = uploader.sync_once()  # the third failure in a row: 1 s, then the back-off's 4 s
    assert report.state == "throttled" and report.next_attempt_at == clock.now + 1 + 4


@pytest.mark.parametrize(("status", "headers"), [(503, {}), (429, {}),
                                                  (503, {"Retry-After": "tomorrow"})])
def test_without_retry_after_it_is_like_5xx(t0, uploader, queue, server, status, headers) -> None:
    enqueue(queue)
    server.script(Scripted(status, headers))
    report = uploader.sync_once()
    assert report.state == "offline" and report.next_attempt_at == t0 + 1
    assert report.last_error == f"HTTP {status}"


# --- other 4xx, 5xx ---------------------------------------------------------------------


def test_other_4xx_backs_off_and_logs_the_body_truncated(
        t0, uploader, queue, server, caplog) -> None:
    ids = enqueue(queue, 2)
    echoed = "bad request: id_number 330106199001011234 "
    server.script(Scripted(400, body=echoed + "x" * 5000))
    with caplog.at_level(logging.WARNING, logger="offline_queue"):
        report = uploader.sync_once()
    assert report.state == "offline" and report.failed == 2 and report.next_attempt_at == t0 + 1
    assert queue.get(ids[0]).last_error == "HTTP 400"
    (record,) = [r for r in caplog.records if "HTTP 400" in r.getMessage()
                 and "said" in r.getMessage()]
    said = record.getMessage().split("the central platform said: ", 1)[1]
    assert said.startswith("bad request") and len(said) <= 1024 + 1
    # nothing personal of ours is logged, and what the server echoed is masked
    for secret in ("330106199001011234", "张三", "13800000000", TOKEN):
        assert secret not in caplog.text


@pytest.mark.parametrize("status", [404, 409, 422])
def test_any_other_4xx_is_transient(uploader, queue, server, status) -> None:
    ids = enqueue(queue)
    server.script(Scripted(status, body="nope"))
    assert uploader.sync_once().state == "offline"
    assert states(queue, ids) == ["pending"]


def test_5xx_backs_off_exponentially_up_to_the_maximum_and_resets_on_success(
        t0, queue, client, server, clock) -> None:
    uploader = Uploader(queue, client, max_backoff_s=40, clock=clock, rng=lambda: 1.0)
    (tx_id,) = enqueue(queue)
    server.script(*[Scripted(500, body="oops")] * 8)
    delays = []
    for _ in range(8):
        report = uploader.sync_once()
        assert report.state == "offline" and report.last_error == "HTTP 500"
        delays.append(report.next_attempt_at - clock.now)
        clock.advance(delays[-1] - 0.01)
        assert uploader.sync_once().next_attempt_at == report.next_attempt_at  # held
        clock.advance(0.01)
    assert delays == [1, 2, 4, 8, 16, 32, 40, 40]
    assert len(server.requests) == 8
    assert queue.get(tx_id).attempts == 8 and uploader.status.consecutive_failures == 8
    assert uploader.sync_once().sent == 1
    assert uploader.status.consecutive_failures == 0 and uploader.status.online
    server.script(Scripted(502))
    enqueue(queue)
    assert uploader.sync_once().next_attempt_at == clock.now + 1  # back to 1 s


def test_jitter_stays_within_zero_and_the_whole_back_off(queue, client) -> None:
    # Full jitter (issue #13 item 7) replaced "half to whole": the wait is rng() * cap.
    for rng_value in (0.0, 0.3, 0.999):
        uploader = Uploader(queue, client, max_backoff_s=300, rng=lambda v=rng_value: v)
        for failures, cap in [(1, 1), (2, 2), (5, 16), (9, 256), (10, 300), (500, 300)]:
            assert uploader.backoff_s(failures) == pytest.approx(rng_value * cap)
    spread = {round(Uploader(queue, client, rng=lambda v=v: v).backoff_s(6), 3)
              for v in (0.0, 0.5, 1.0)}
    assert spread == {0.0, 16.0, 32.0}


# --- transport failures -----------------------------------------------------------------


def test_connection_refused_is_transient(uploader, queue, server) -> None:
    ids = enqueue(queue)
    server.stop()
    report = uploader.sync_once()
    assert report.state == "offline" and report.last_error == "connection refused"
    assert queue.get(ids[0]).attempts == 1


def test_reset_mid_response_marks_nothing_sent(uploader, queue, server) -> None:
    ids = enqueue(queue, 2)
    server.script(Scripted(reset=True))
    report = uploader.sync_once()
    assert report.state == "offline" and report.sent == 0
    assert states(queue, ids) == ["pending", "pending"]


def test_an_answer_lost_after_the_server_stored_it_is_resent_and_counted_once(
        t0, uploader, queue, server, clock) -> None:
    ids = enqueue(queue, 3)
    server.script(Scripted(reset=True, process=True))
    assert uploader.sync_once().sent == 0 and len(server.stored) == 3
    clock.advance(1)
    report = uploader.sync_once()
    assert (report.sent, report.duplicate) == (0, 3)
    assert states(queue, ids) == ["sent"] * 3


def test_a_hanging_server_times_out(uploader, queue, server) -> None:
    ids = enqueue(queue)
    server.script(Scripted(delay=5))
    report = uploader.sync_once()
    assert report.state == "offline" and report.last_error == "read timed out"
    assert states(queue, ids) == ["pending"]


def test_server_down_for_a_while_and_back_delivers_everything_exactly_once(
        t0, uploader, queue, server, clock) -> None:
    ids = enqueue(queue, 120)
    server.script(Scripted(reset=True, process=True))  # the first 100 arrive, the answer not
    uploader.sync_once()
    server.stop()
    for expected_delay in (2, 4, 8):
        clock.advance(uploader.next_attempt_at - clock.now)
        ids += enqueue(queue, 10)
        report = uploader.sync_once()
        assert report.last_error == "connection refused"
        assert report.next_attempt_at == clock.now + expected_delay
    server.start()  # back, on the same port, with what it stored before
    clock.advance(8)
    report = uploader.sync_once()
    assert (report.sent, report.duplicate, report.pending_left) == (50, 100, 0)
    assert states(queue, ids) == ["sent"] * 150
    assert sorted(server.stored) == sorted(ids)
    assert all(server.received[i] == 2 for i in ids[:100])
    assert all(server.received[i] == 1 for i in ids[100:])


# --- batching and headers ---------------------------------------------------------------


def test_250_pending_go_in_batches_of_100_100_50(uploader, queue, server) -> None:
    ids = enqueue(queue, 250)
    report = uploader.sync_once()
    assert [len(r.ids) for r in server.requests] == [100, 100, 50]
    assert [i for r in server.requests for i in r.ids] == ids  # oldest first
    assert report.sent == 250 and report.pending_left == 0


def test_every_upload_carries_the_headers(uploader, queue, server) -> None:
    enqueue(queue, 101)
    uploader.sync_once()
    for request in server.requests:
        assert request.headers["authorization"] == f"Bearer {TOKEN}"
        assert request.headers["x-kiosk-id"] == KIOSK_ID
        assert request.headers["content-type"] == "application/json"
        assert request.json()["kiosk_id"] == KIOSK_ID


def test_a_failure_after_a_good_batch_keeps_what_was_sent(uploader, queue, server) -> None:
    ids = enqueue(queue, 150)
    server.script(Scripted.as_default(), Scripted(500))
    report = uploader.sync_once()
    assert (report.sent, report.failed, report.pending_left) == (100, 50, 50)
    assert report.state == "offline"
    assert states(queue, ids) == ["sent"] * 100 + ["pending"] * 50


def test_nothing_due_is_idle_without_a_request(uploader, server) -> None:
    report = uploader.sync_once()
    assert report.state == "idle" and report.pending_left == 0
    assert server.requests == []


def test_a_stop_request_ends_the_round_between_requests(uploader, queue, server) -> None:
    enqueue(queue, 250)
    calls = []

    def should_stop() -> bool:
        calls.append(1)
        return len(server.requests) >= 1

    report = uploader.sync_once(should_stop=should_stop)
    assert len(server.requests) == 1 and report.sent == 100 and report.pending_left == 150


def test_batch_size_is_limited_to_the_api_maximum(queue, client) -> None:
    for bad in (0, 101, True, 1.5):
        with pytest.raises(ValueError):
            Uploader(queue, client, batch_size=bad)


# --- full jitter (issue #13, item 7) -----------------------------------------------------


def test_the_back_off_has_full_jitter(queue, client) -> None:
    draws = iter([0.0, 0.5, 0.999, 0.5])
    uploader = Uploader(queue, client, rng=lambda: next(draws), max_backoff_s=300)
    assert uploader.backoff_s(1) == 0.0  # anywhere from 0 ...
    assert uploader.backoff_s(4) == 4.0  # ... to min(cap, 2**(n-1)) = 8
    assert uploader.backoff_s(20) == pytest.approx(299.7)  # capped at max_backoff_s
    assert uploader.backoff_s(64) == 150.0


def test_full_jitter_spreads_a_fleet_over_the_whole_window(queue, client) -> None:
    import random

    rng = random.Random(13)
    uploader = Uploader(queue, client, rng=rng.random, max_backoff_s=300)
    waits = sorted(uploader.backoff_s(9) for _ in range(2000))  # cap 2**8 = 256 s
    assert 0 <= waits[0] < 5 and 251 < waits[-1] <= 256
    assert 100 < waits[1000] < 156  # the median near the middle, not bunched at the top
