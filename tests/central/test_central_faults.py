"""Fault injection: injected statuses, delays and resets, each used up and then gone."""

from __future__ import annotations

import time

import pytest
import requests
from central_helpers import K1, headers, heartbeat_body, make_tx, post_batch


def _beat(srv, **kw) -> requests.Response:
    return requests.post(f"{srv.url}/api/v1/kiosks/{K1}/heartbeat", json=heartbeat_body(K1),
                         headers=headers(K1), timeout=10, **kw)


def test_faults_are_off_by_default(central):
    assert central.faults.pending == 0 and central.faults.delay_s == 0
    assert post_batch(central.url, [make_tx()]).status_code == 200


def test_next_status_with_retry_after_then_normal(central):
    central.faults.next_status(503, times=2, retry_after=7)
    for _ in range(2):
        r = post_batch(central.url, [make_tx()])
        assert r.status_code == 503
        assert r.headers["Retry-After"] == "7"
        assert r.headers["Content-Type"] == "application/json"
        assert r.json()["error"]
    assert central.store.transactions_count() == 0  # an injected answer stores nothing
    assert post_batch(central.url, [make_tx()]).status_code == 200
    assert central.faults.pending == 0


def test_next_status_with_a_body_as_given(central):
    central.faults.next_status(200, body="not json at all")
    r = post_batch(central.url, [make_tx()])
    assert r.status_code == 200 and r.text == "not json at all"
    central.faults.next_status(200, body={"results": [{"id": "x", "status": "maybe"}]})
    assert post_batch(central.url, [make_tx()]).json()["results"][0]["status"] == "maybe"


def test_a_fault_for_one_endpoint_leaves_the_others_alone(central):
    central.faults.next_status(429, retry_after=1, endpoint="transactions")
    assert _beat(central).status_code == 204
    assert post_batch(central.url, [make_tx()]).status_code == 429
    with pytest.raises(ValueError):
        central.faults.next_status(500, endpoint="upload")


def test_delay_makes_the_client_time_out(central):
    central.faults.delay_s = 1.0
    t0 = time.monotonic()
    with pytest.raises(requests.Timeout):
        post_batch(central.url, [make_tx()], timeout=0.3)
    assert time.monotonic() - t0 < 1.0
    central.faults.delay_s = 0
    assert post_batch(central.url, [make_tx()]).status_code == 200


def test_reset_connection_gives_no_answer_and_stores_nothing(central):
    central.faults.reset_connection(times=2)
    tx = make_tx()
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            post_batch(central.url, [tx])
    assert central.store.transactions_count() == 0
    assert post_batch(central.url, [tx]).json()["results"][0]["status"] == "accepted"


def test_reset_after_processing_loses_only_the_answer(central):
    central.faults.reset_connection(after_processing=True)
    tx = make_tx()
    with requests.Session() as s, pytest.raises(requests.ConnectionError):
        post_batch(central.url, [tx], session=s)
    assert central.store.transactions_count() == 1
    # The kiosk resends (at-least-once) and learns the server already has it.
    assert post_batch(central.url, [tx]).json()["results"][0]["status"] == "duplicate"


def test_clear_drops_every_fault(central):
    central.faults.next_status(500, times=5)
    central.faults.reset_connection()
    central.faults.delay_s = 5
    central.faults.clear()
    assert central.faults.pending == 0
    assert post_batch(central.url, [make_tx()]).status_code == 200


def test_stop_does_not_wait_for_an_injected_delay(central):
    central.faults.delay_s = 30
    with pytest.raises(requests.Timeout):
        post_batch(central.url, [make_tx()], timeout=0.2)
    t0 = time.monotonic()
    central.stop()
    assert time.monotonic() - t0 < 2
