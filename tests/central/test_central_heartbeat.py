"""Heartbeats: 204, the latest kept per kiosk, a bounded history, the API's shape checked."""

from __future__ import annotations

import pytest
import requests
from central_helpers import K1, K2, headers, heartbeat_body

from central.store import CentralStore


def _beat(srv, body, kiosk=K1) -> requests.Response:
    return requests.post(f"{srv.url}/api/v1/kiosks/{kiosk}/heartbeat", json=body,
                         headers=headers(kiosk), timeout=10)


def test_heartbeat_is_204_and_stored(central):
    r = _beat(central, heartbeat_body(K1))
    assert r.status_code == 204
    assert r.content == b""
    assert central.store.latest_heartbeat(K1) == heartbeat_body(K1)
    assert central.store.latest_heartbeat(K2) is None


def test_latest_heartbeat_wins_and_extra_keys_are_kept(central):
    _beat(central, heartbeat_body(K1, menu_version=1))
    _beat(central, heartbeat_body(K1, menu_version=2, sync={"auth_failed": False}))
    latest = central.store.latest_heartbeat(K1)
    assert latest["menu_version"] == 2 and latest["sync"] == {"auth_failed": False}
    assert [b["menu_version"] for _, b in central.store.heartbeats(K1)] == [2, 1]


def test_history_is_bounded_per_kiosk(tmp_path):
    with CentralStore.open(tmp_path / "h.db", heartbeat_history=5) as store:
        for i in range(12):
            store.add_heartbeat(K1, {"n": i})
        store.add_heartbeat(K2, {"n": 100})
        assert [b["n"] for _, b in store.heartbeats(K1)] == [11, 10, 9, 8, 7]
        assert store.latest_heartbeat(K2) == {"n": 100}


@pytest.mark.parametrize("overrides", [
    {"time": "yesterday"},
    {"kiosk_id": None},
    {"menu_version": -3},
    {"queue": []},
    {"devices": {"printer": {"state": "sleepy"}}},
    {"devices": {"printer": {"state": "online", "paper": "half"}}},
])
def test_malformed_heartbeat_is_400(shared_central, overrides):
    r = _beat(shared_central, heartbeat_body(K1, **overrides))
    assert r.status_code == 400
    assert r.headers["Content-Type"] == "application/json"
    assert shared_central.store.latest_heartbeat(K1) is None


def test_a_huge_heartbeat_is_413(shared_central):
    r = _beat(shared_central, heartbeat_body(K1, detail="x" * 100_000))
    assert r.status_code == 413
