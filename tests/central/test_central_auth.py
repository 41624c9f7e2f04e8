"""Bearer token per kiosk: 401 without a valid token, 403 for a valid token of another kiosk."""

from __future__ import annotations

import pytest
import requests
from central_helpers import K1, K2, KIOSKS, heartbeat_body, make_tx

# Every endpoint needs the same credentials; each case is (method, path, json body).
ENDPOINTS = [
    ("POST", "/api/v1/transactions", {"kiosk_id": K1, "transactions": [make_tx()]}),
    ("POST", f"/api/v1/kiosks/{K1}/heartbeat", heartbeat_body(K1)),
    ("GET", f"/api/v1/kiosks/{K1}/menu", None),
]


def _call(url, method, path, body, hdrs):
    return requests.request(method, url + path, json=body, headers=hdrs, timeout=10)


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
@pytest.mark.parametrize("hdrs", [
    {"X-Kiosk-Id": K1},
    {"Authorization": "Bearer wrong-token", "X-Kiosk-Id": K1},
    {"Authorization": "Bearer ", "X-Kiosk-Id": K1},
    {"Authorization": f"Basic {KIOSKS[K1]['token']}", "X-Kiosk-Id": K1},
    {"Authorization": f"Bearer {KIOSKS[K1]['token']}x", "X-Kiosk-Id": K1},
], ids=["missing", "wrong", "empty", "not-bearer", "longer"])
def test_no_valid_token_is_401(shared_central, method, path, body, hdrs):
    central = shared_central
    r = _call(central.url, method, path, body, hdrs)
    assert r.status_code == 401
    assert r.headers["Content-Type"] == "application/json"
    assert r.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error" in r.json()
    assert central.store.transactions_count() == 0
    assert central.store.latest_heartbeat(K1) is None


@pytest.mark.parametrize("method, path, body", ENDPOINTS)
@pytest.mark.parametrize("hdrs", [
    {"Authorization": f"Bearer {KIOSKS[K2]['token']}", "X-Kiosk-Id": K1},  # K2's token
    {"Authorization": f"Bearer {KIOSKS[K1]['token']}", "X-Kiosk-Id": K2},  # header says K2
    {"Authorization": f"Bearer {KIOSKS[K1]['token']}"},                    # no X-Kiosk-Id
], ids=["token-of-other", "header-of-other", "no-kiosk-header"])
def test_valid_token_for_another_kiosk_is_403(shared_central, method, path, body, hdrs):
    central = shared_central
    r = _call(central.url, method, path, body, hdrs)
    assert r.status_code == 403
    assert r.headers["Content-Type"] == "application/json"
    assert central.store.transactions_count() == 0
    assert central.store.latest_heartbeat(K1) is None


def test_body_naming_another_kiosk_is_403(shared_central):
    central = shared_central
    hdrs = {"Authorization": f"Bearer {KIOSKS[K1]['token']}", "X-Kiosk-Id": K1}
    r = requests.post(central.url + "/api/v1/transactions", headers=hdrs, timeout=10,
                      json={"kiosk_id": K2, "transactions": [make_tx()]})
    assert r.status_code == 403
    r = requests.post(central.url + f"/api/v1/kiosks/{K1}/heartbeat", headers=hdrs,
                      json=heartbeat_body(K2), timeout=10)
    assert r.status_code == 403
    assert central.store.transactions_count() == 0
    assert central.store.latest_heartbeat(K1) is None


def test_path_naming_another_kiosk_is_403(shared_central):
    central = shared_central
    hdrs = {"Authorization": f"Bearer {KIOSKS[K1]['token']}", "X-Kiosk-Id": K1}
    r = requests.get(central.url + f"/api/v1/kiosks/{K2}/menu", headers=hdrs, timeout=10)
    assert r.status_code == 403
    r = requests.post(central.url + f"/api/v1/kiosks/{K2}/heartbeat", headers=hdrs,
                      json=heartbeat_body(K2), timeout=10)
    assert r.status_code == 403


def test_each_kiosk_uses_its_own_token(central):
    for kiosk in (K1, K2):
        hdrs = {"Authorization": f"Bearer {KIOSKS[kiosk]['token']}", "X-Kiosk-Id": kiosk}
        r = requests.post(central.url + "/api/v1/transactions", headers=hdrs, timeout=10,
                          json={"kiosk_id": kiosk, "transactions": [make_tx()]})
        assert r.status_code == 200
        assert r.json()["results"][0]["status"] == "accepted"
    assert central.store.transactions_count(K1) == central.store.transactions_count(K2) == 1
