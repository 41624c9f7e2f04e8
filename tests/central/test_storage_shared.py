"""Two centrals on one database behave as one: what one stores or publishes, the other serves."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from central_helpers import (
    ADMINS,
    FLEET,
    K1,
    K3,
    KEY_ID,
    get_menu,
    heartbeat_body,
    make_tx,
    post_batch,
    publish,
)
from central_helpers import headers as kiosk_headers

from central.server import CentralServer


@pytest.fixture
def twins(db_url, keypair, menu_file) -> Iterator[tuple[CentralServer, CentralServer]]:
    servers = [CentralServer(db_url, kiosks=FLEET, menu_file=menu_file,
                             signing_key=keypair[0], key_id=KEY_ID, admins=ADMINS,
                             menu_keys={KEY_ID: keypair[1]}) for _ in range(2)]
    for srv in servers:
        srv.start()
    yield servers[0], servers[1]
    for srv in servers:
        srv.stop()


def test_a_transaction_stored_through_one_is_a_duplicate_through_the_other(twins):
    a, b = twins
    tx = make_tx()
    assert post_batch(a.url, [tx]).json()["results"][0]["status"] == "accepted"
    assert post_batch(b.url, [tx]).json()["results"][0]["status"] == "duplicate"
    assert b.store.transaction(tx["id"])["kiosk_id"] == K1


def test_a_heartbeat_through_one_is_the_latest_state_on_the_other(twins):
    import requests

    a, b = twins
    r = requests.post(f"{a.url}/api/v1/kiosks/{K1}/heartbeat", json=heartbeat_body(K1),
                      headers=kiosk_headers(K1), timeout=10)
    assert r.status_code == 204
    assert b.store.latest_heartbeat(K1) == heartbeat_body(K1)


def test_a_menu_published_on_one_is_served_by_the_other(twins, signed):
    a, b = twins
    assert publish(a.url, signed(7), kiosk=K3).status_code == 201
    deadline = time.monotonic() + 30
    while get_menu(b.url, K3).json()["menu"]["version"] != 7:  # within refresh_s
        assert time.monotonic() < deadline, "the other central never served it"
        time.sleep(0.05)
    refused = publish(b.url, signed(7), kiosk=K3)  # and it knows that version is taken
    assert refused.status_code == 409


def test_a_version_the_other_published_meanwhile_is_refused_409(twins, signed, monkeypatch):
    a, b = twins
    # The race: b checks before a's publication is in the store, and stores after it.
    monkeypatch.setattr(b.catalog, "_refresh", lambda force=False: None)
    assert publish(a.url, signed(8), kiosk=K3).status_code == 201
    refused = publish(b.url, signed(8), kiosk=K3)
    assert refused.status_code == 409 and "another central" in refused.json()["error"]
    assert [r["version"] for r in b.store.menu_records()] == [8]
