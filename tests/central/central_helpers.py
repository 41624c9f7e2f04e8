"""Helpers for the central server tests: kiosks, tokens, request bodies."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]
KEY_ID = "admin-2026"
KIOSKS = {
    "ZJ-HZ-0001": {"token": "token-one-0123456789", "group": "hangzhou"},
    "ZJ-HZ-0002": {"token": "token-two-0123456789", "group": "hangzhou"},
}
K1, K2 = "ZJ-HZ-0001", "ZJ-HZ-0002"


def headers(kiosk: str = K1, token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or KIOSKS[kiosk]['token']}", "X-Kiosk-Id": kiosk}


def make_tx(**overrides: Any) -> dict[str, Any]:
    tx = {
        "id": str(uuid.uuid4()),
        "service_id": "hpf-withdraw",
        "menu_version": 1,
        "created_at": "2026-11-24T09:30:00Z",
        "identity": {"method": "ga467", "id_number": "330106199001011234", "name": "张三"},
        "fields": {"phone": "13800000000", "amount": 12000},
    }
    tx.update(overrides)
    return tx


def post_batch(url: str, transactions: list[dict], kiosk: str = K1,
               session: requests.Session | None = None, **kw: Any) -> requests.Response:
    body = {"kiosk_id": kiosk, "transactions": transactions}
    kw.setdefault("timeout", 10)
    return (session or requests).post(f"{url}/api/v1/transactions", json=body,
                                      headers=headers(kiosk), **kw)


def heartbeat_body(kiosk: str = K1, **overrides: Any) -> dict[str, Any]:
    body = {
        "kiosk_id": kiosk, "time": "2026-11-24T09:31:00Z", "app_version": "0.1.0",
        "menu_version": 1, "menu_rejected": None,
        "queue": {"pending": 3, "oldest_pending_s": 420, "rejected": 0},
        "devices": {"card_reader": {"state": "online", "detail": "sim"},
                    "printer": {"state": "online", "paper": "low", "detail": "sim"}},
    }
    body.update(overrides)
    return body


# -- admins ------------------------------------------------------------------------------

ADMIN_TOKEN = "alice-admin-token-0123456789"
ADMINS = {"alice": {"token": ADMIN_TOKEN}, "bob": {"token": "bob-admin-token-0123456789"}}
K3 = "ZJ-NB-0001"
FLEET = {**KIOSKS, K3: {"token": "token-three-0123456789", "group": "ningbo"}}


def admin_headers(token: str = ADMIN_TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def publish(url: str, bundle: Any, token: str = ADMIN_TOKEN, **target: str
            ) -> requests.Response:
    """POST a bundle to the admin API; ``target`` is ``kiosk=`` or ``group=`` (none: all)."""
    return requests.post(f"{url}/api/v1/admin/menus", json={"bundle": bundle, **target},
                         headers=admin_headers(token), timeout=10)


def get_menu(url: str, kiosk: str, etag: str | None = None) -> requests.Response:
    hdrs = {"Authorization": f"Bearer {FLEET[kiosk]['token']}", "X-Kiosk-Id": kiosk}
    if etag is not None:
        hdrs["If-None-Match"] = etag
    return requests.get(f"{url}/api/v1/kiosks/{kiosk}/menu", headers=hdrs, timeout=10)
