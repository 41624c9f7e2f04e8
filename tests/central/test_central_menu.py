"""The signed menu: 200 with an ETag, 304 when unchanged, a signature kiosks can verify."""

from __future__ import annotations

import copy
import json
import os

import pytest
import requests
from central_helpers import K1, KEY_ID, KIOSKS, headers

from central.errors import ConfigError, SignatureError
from central.server import CentralServer
from central.signing import generate_keypair, verify_bundle


def _get(srv, etag: str | None = None) -> requests.Response:
    hdrs = headers(K1)
    if etag is not None:
        hdrs["If-None-Match"] = etag
    return requests.get(f"{srv.url}/api/v1/kiosks/{K1}/menu", headers=hdrs, timeout=10)


def test_menu_is_a_signed_bundle_with_an_etag(central, keypair, menu_doc):
    r = _get(central)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    etag = r.headers["ETag"]
    assert etag.startswith(f'"v{menu_doc["version"]}-') and etag.endswith('"')
    bundle = r.json()
    assert set(bundle) == {"menu", "key_id", "signature"}
    assert bundle["key_id"] == KEY_ID
    assert verify_bundle(bundle, {KEY_ID: keypair[1]}) == menu_doc


def test_matching_etag_is_304_without_a_body(central):
    etag = _get(central).headers["ETag"]
    r = _get(central, etag)
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["ETag"] == etag
    assert _get(central, f'"v0-0000", W/{etag}').status_code == 304
    assert _get(central, '"v1-somethingelse"').status_code == 200


def test_tampered_bundle_fails_verify(central, keypair):
    bundle = _get(central).json()
    bundle["menu"]["services"][0]["enabled"] = not bundle["menu"]["services"][0]["enabled"]
    with pytest.raises(SignatureError, match="does not verify"):
        verify_bundle(bundle, {KEY_ID: keypair[1]})


def test_a_new_version_changes_the_etag(central, keypair, menu_doc):
    old = _get(central).headers["ETag"]
    newer = {**copy.deepcopy(menu_doc), "version": menu_doc["version"] + 1}
    central.publish_menu(newer)
    r = _get(central, old)
    assert r.status_code == 200
    assert r.headers["ETag"] != old
    assert r.headers["ETag"].startswith(f'"v{newer["version"]}-')
    assert verify_bundle(r.json(), {KEY_ID: keypair[1]})["version"] == newer["version"]


def test_the_menu_file_is_read_again_when_it_changes(central, menu_file, menu_doc):
    old = _get(central).headers["ETag"]
    newer = {**menu_doc, "version": 41}
    menu_file.write_text(json.dumps(newer), "utf-8")
    os.utime(menu_file, ns=(1, 1))  # a different mtime even on a coarse clock
    r = _get(central)
    assert r.headers["ETag"] != old and r.json()["menu"]["version"] == 41

    menu_file.write_text('{"version": 42}', "utf-8")  # not a valid menu: the old one stays
    os.utime(menu_file, ns=(2, 2))
    assert _get(central).json()["menu"]["version"] == 41


def test_an_invalid_menu_is_not_signed(central, menu_doc):
    broken = {**menu_doc, "version": 99, "surprise": True}
    with pytest.raises(ConfigError, match="unknown key"):
        central.publish_menu(broken)
    assert _get(central).json()["menu"]["version"] == menu_doc["version"]


def test_a_raw_bundle_is_served_as_given(central, menu_doc):
    other_private, _ = generate_keypair()
    from central.signing import sign_menu

    forged = sign_menu({**menu_doc, "version": 50}, other_private, KEY_ID)
    central.publish_bundle(forged)
    assert _get(central).json() == forged


def test_no_menu_configured_is_404(bare_central):
    r = _get(bare_central)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"


def test_publish_before_start_and_without_a_file(tmp_path, keypair, menu_doc):
    srv = CentralServer(tmp_path / "c.db", kiosks=KIOSKS, signing_key=keypair[0], key_id=KEY_ID)
    srv.publish_menu(menu_doc)
    with srv:
        assert verify_bundle(_get(srv).json(), {KEY_ID: keypair[1]}) == menu_doc


@pytest.mark.parametrize("content, message", [
    ("not json", "not valid JSON"),
    ('{"version": 1}', "not a valid menu"),
])
def test_a_bad_menu_file_stops_start(tmp_path, keypair, content, message):
    path = tmp_path / "menu.json"
    path.write_text(content, "utf-8")
    srv = CentralServer(tmp_path / "c.db", kiosks=KIOSKS, menu_file=path,
                        signing_key=keypair[0], key_id=KEY_ID)
    with pytest.raises(ConfigError, match=message):
        srv.start()


def test_a_menu_file_needs_a_key(tmp_path, menu_file):
    with pytest.raises(ConfigError, match="signing key"):
        CentralServer(tmp_path / "c.db", kiosks=KIOSKS, menu_file=menu_file).start()
