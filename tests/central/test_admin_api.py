"""The admin API over real HTTP: publish for all, a group or a kiosk; what each kiosk gets;
every refusal; what survives a restart."""

from __future__ import annotations

import base64
import json
import threading

import pytest
import requests
from central_helpers import (
    ADMIN_TOKEN,
    ADMINS,
    FLEET,
    K1,
    K2,
    K3,
    KEY_ID,
    admin_headers,
    get_menu,
    headers,
    heartbeat_body,
    make_tx,
    publish,
)

from central.server import CentralServer
from central.signing import generate_keypair, verify_bundle


def _version(url: str, kiosk: str) -> int:
    r = get_menu(url, kiosk)
    assert r.status_code == 200
    return r.json()["menu"]["version"]


def _versions(url: str) -> dict:
    r = requests.get(f"{url}/api/v1/admin/menus", headers=admin_headers(), timeout=10)
    assert r.status_code == 200
    return r.json()


def test_publish_for_all_reaches_every_kiosk(admin_central, signed, keypair):
    r = publish(admin_central.url, signed(2))
    assert r.status_code == 201, r.text
    answer = r.json()
    assert answer["version"] == 2 and answer["target"] == {"kind": "all", "value": None}
    assert answer["admin"] == "alice" and answer["key_id"] == KEY_ID
    assert sorted(answer["reaches"]) == sorted(FLEET) and answer["shadowed"] == []
    assert r.headers["ETag"] == answer["etag"] and answer["etag"].startswith('"v2-')

    for kiosk in FLEET:
        first = get_menu(admin_central.url, kiosk)
        again = get_menu(admin_central.url, kiosk)
        assert first.status_code == 200
        assert first.content == again.content  # byte-identical every time
        assert first.headers["ETag"] == answer["etag"]
        assert verify_bundle(first.json(), {KEY_ID: keypair[1]})["version"] == 2
        not_modified = get_menu(admin_central.url, kiosk, etag=answer["etag"])
        assert not_modified.status_code == 304 and not_modified.content == b""


def test_each_kiosk_gets_the_newest_version_aimed_at_it(admin_central, signed):
    url = admin_central.url
    assert {k: _version(url, k) for k in FLEET} == {K1: 1, K2: 1, K3: 1}  # the server's menu

    r = publish(url, signed(3), group="hangzhou")
    assert r.status_code == 201 and sorted(r.json()["reaches"]) == [K1, K2]
    assert {k: _version(url, k) for k in FLEET} == {K1: 3, K2: 3, K3: 1}

    r = publish(url, signed(4), kiosk=K1)
    assert r.status_code == 201 and r.json()["reaches"] == [K1]
    assert r.json()["target"] == {"kind": "kiosk", "value": K1}
    assert {k: _version(url, k) for k in FLEET} == {K1: 4, K2: 3, K3: 1}

    r = publish(url, signed(2), token=ADMINS["bob"]["token"])  # only K3 is below 2
    assert r.status_code == 201
    assert r.json()["reaches"] == [K3] and r.json()["admin"] == "bob"
    assert r.json()["shadowed"] == [
        {"kiosk_id": K1, "gets": 4, "published_for": f"kiosk {K1}"},
        {"kiosk_id": K2, "gets": 3, "published_for": "group hangzhou"}]
    assert {k: _version(url, k) for k in FLEET} == {K1: 4, K2: 3, K3: 2}

    assert publish(url, signed(5)).status_code == 201  # newest wins, whatever the target
    assert {k: _version(url, k) for k in FLEET} == {K1: 5, K2: 5, K3: 5}


def test_a_version_not_greater_is_refused_with_409(admin_central, signed):
    url = admin_central.url
    assert publish(url, signed(3), group="hangzhou").status_code == 201
    for version in (3, 2):
        r = publish(url, signed(version), group="hangzhou")
        assert r.status_code == 409
        assert "never go back" in r.json()["error"] and r.json()["newest"] == 3
    # A kiosk target whose group already gives it version 3: no kiosk would take version 2.
    r = publish(url, signed(2), kiosk=K1)
    assert r.status_code == 409 and "already gets version 3" in r.json()["error"]
    # Not greater than the server's own menu (version 1) either.
    r = publish(url, signed(1), kiosk=K3)
    assert r.status_code == 409
    assert [m["version"] for m in _versions(url)["menus"]] == [3]


def test_refused_bundles(admin_central, signed, menu_doc):
    url = admin_central.url
    tampered = signed(2)
    tampered["menu"]["services"][0]["enabled"] = False
    other_private, _ = generate_keypair()
    invalid = signed(2, surprise=True)
    wrong_key = signed(2, key=other_private)  # the trusted key id, another key
    cases = [
        (tampered, 403, "does not verify"),
        (wrong_key, 403, "does not verify"),
        (signed(2, key=other_private, key_id="stranger"), 403, "'stranger' is not trusted"),
        (invalid, 400, "not a valid menu: $: unknown key"),
        ({"menu": signed(2)["menu"], "key_id": KEY_ID}, 400, "exactly menu, key_id"),
        ({**signed(2), "extra": 1}, 400, "exactly menu, key_id"),
        ({"menu": [], "key_id": KEY_ID, "signature": "AA=="}, 400, "must be an object"),
        ("a string", 400, "exactly menu, key_id"),
    ]
    for bundle, status, message in cases:
        r = publish(url, bundle)
        assert r.status_code == status, (message, r.text)
        assert message in r.json()["error"]
    r = publish(url, invalid)
    assert r.json()["problems"] == ["$: unknown key ('surprise' was unexpected)"]
    assert _versions(url)["menus"] == []  # nothing kept
    assert _version(url, K1) == 1


def test_refused_requests(admin_central, signed):
    url = admin_central.url
    api = f"{url}/api/v1/admin/menus"
    body = {"bundle": signed(2)}

    def post(data: bytes | str) -> requests.Response:
        return requests.post(api, data=data, timeout=10,
                             headers={**admin_headers(), "Content-Type": "application/json"})

    r = requests.post(api, json=body, timeout=10)  # no Authorization at all
    assert r.status_code == 401 and r.headers["WWW-Authenticate"].startswith("Bearer ")
    r = requests.post(api, json=body, headers=admin_headers("not-a-token-0123456789"),
                      timeout=10)
    assert r.status_code == 401
    r = requests.post(api, json=body, headers=headers(K1), timeout=10)  # a kiosk token
    assert r.status_code == 403 and "kiosk token" in r.json()["error"]
    r = requests.get(f"{url}/api/v1/admin/fleet", headers=headers(K1), timeout=10)
    assert r.status_code == 403

    assert post(b"{not json").status_code == 400
    assert "not JSON" in post(b"{not json").json()["error"]
    assert post(b"[]").status_code == 400
    assert "unknown key 'target'" in post(json.dumps({**body, "target": "x"})).json()["error"]
    r = post(json.dumps({**body, "kiosk": K1, "group": "hangzhou"}))
    assert r.status_code == 400 and "not both" in r.json()["error"]
    assert post(json.dumps({**body, "group": "no/such"})).status_code == 400
    r = post(json.dumps({**body, "group": "wenzhou"}))
    assert r.status_code == 404 and r.json()["groups"] == ["hangzhou", "ningbo"]
    assert post(json.dumps({**body, "kiosk": "ZJ-XX-9999"})).status_code == 404

    too_big = b'{"bundle": "' + b"x" * admin_central.max_publish_bytes + b'"}'
    r = post(too_big)
    assert r.status_code == 413 and "byte limit" in r.json()["error"]

    r = requests.put(api, json=body, headers=admin_headers(), timeout=10)
    assert r.status_code == 405 and r.headers["Allow"] == "GET, POST"
    assert _versions(url)["menus"] == []


def test_admin_tokens_are_refused_on_kiosk_endpoints(admin_central):
    url = admin_central.url
    as_admin = {**admin_headers(), "X-Kiosk-Id": K1}
    answers = [
        requests.get(f"{url}/api/v1/kiosks/{K1}/menu", headers=as_admin, timeout=10),
        requests.post(f"{url}/api/v1/kiosks/{K1}/heartbeat", json=heartbeat_body(K1),
                      headers=as_admin, timeout=10),
        requests.post(f"{url}/api/v1/transactions", headers=as_admin, timeout=10,
                      json={"kiosk_id": K1, "transactions": [make_tx()]}),
    ]
    for r in answers:
        assert r.status_code == 403
        assert r.json() == {"error": "an admin token cannot be used on kiosk endpoints"}
    assert admin_central.store.transactions_count() == 0
    assert admin_central.store.latest_heartbeat(K1) is None


def test_basic_auth_with_the_token_as_password(admin_central):
    url = admin_central.url
    r = requests.get(f"{url}/api/v1/admin/menus", auth=("anyone", ADMIN_TOKEN), timeout=10)
    assert r.status_code == 200
    r = requests.get(f"{url}/api/v1/admin/menus", auth=(ADMIN_TOKEN, ""), timeout=10)
    assert r.status_code == 401
    garbled = {"Authorization": "Basic " + base64.b64encode(b"no-colon").decode()}
    assert requests.get(f"{url}/api/v1/admin/menus", headers=garbled,
                        timeout=10).status_code == 401


def test_versions_list_and_each_bundle(admin_central, signed):
    url = admin_central.url
    first = publish(url, signed(2)).json()
    publish(url, signed(3), group="hangzhou")
    newest = publish(url, signed(4)).json()
    listed = _versions(url)
    assert [(m["version"], m["target"]["kind"], m["newest_for_target"])
            for m in listed["menus"]] == [(4, "all", True), (3, "group", True),
                                          (2, "all", False)]
    assert listed["fallback"]["version"] == 1
    assert listed["menus"][0]["published_at"].endswith("Z")
    r = requests.get(f"{url}/api/v1/admin/menus/{first['id']}", headers=admin_headers(),
                     timeout=10)
    assert r.status_code == 200 and r.json()["menu"]["version"] == 2
    assert get_menu(url, K3).content == requests.get(
        f"{url}/api/v1/admin/menus/{newest['id']}", headers=admin_headers(),
        timeout=10).content
    assert requests.get(f"{url}/api/v1/admin/menus/999", headers=admin_headers(),
                        timeout=10).status_code == 404


def test_published_menus_survive_a_restart(tmp_path, keypair, signed):
    def server() -> CentralServer:
        return CentralServer(tmp_path / "c.db", kiosks=FLEET, admins=ADMINS,
                             menu_keys={KEY_ID: keypair[1]})

    with server() as srv:
        assert get_menu(srv.url, K1).status_code == 404  # no menu at all yet
        assert publish(srv.url, signed(2)).status_code == 201
        assert publish(srv.url, signed(3), group="hangzhou").status_code == 201
        before = {k: get_menu(srv.url, k) for k in FLEET}
    with server() as srv:
        for kiosk, old in before.items():
            now = get_menu(srv.url, kiosk)
            assert now.content == old.content and now.headers["ETag"] == old.headers["ETag"]
        assert get_menu(srv.url, K1, etag=before[K1].headers["ETag"]).status_code == 304
        assert len(_versions(srv.url)["menus"]) == 2
        assert publish(srv.url, signed(3), group="hangzhou").status_code == 409


def test_concurrent_publications_of_one_version_keep_one(admin_central, signed):
    bundle, answers = signed(7), []

    def go() -> None:
        answers.append(publish(admin_central.url, bundle).status_code)

    threads = [threading.Thread(target=go) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201] + [409] * 5
    assert [m["version"] for m in _versions(admin_central.url)["menus"]] == [7]


def test_the_admin_api_is_off_without_admins(central):
    r = requests.get(f"{central.url}/api/v1/admin/menus", headers=admin_headers(), timeout=10)
    assert r.status_code == 403 and "--admins" in r.json()["error"]


@pytest.mark.parametrize("path", ["/api/v1/admin", "/admin", "/api/v1/admin/menus/x"])
def test_unknown_admin_paths_are_404(admin_central, path):
    r = requests.get(admin_central.url + path, headers=admin_headers(), timeout=10)
    assert r.status_code == 404
