"""Releases on the central (issue #15): wheels kept once by hash, uploads that resume,
signed releases, staged rollouts by a stable share of a group, range requests."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator

import pytest
import requests
from central_helpers import ADMINS, FLEET, K1, K3, admin_headers

from admin.central_client import AdminClient
from admin.errors import Refused
from admin.release import upload_and_publish
from central.kiosks import KioskRegistry
from central.releases import bucket
from central.server import CentralServer
from contract.release import UPLOAD_CHUNK, sign_release
from contract.signing import generate_keypair

RELEASE_KEY = generate_keypair()
MENU_KEY = generate_keypair()


@pytest.fixture
def release_central(db_url) -> Iterator[CentralServer]:
    srv = CentralServer(db_url, kiosks=FLEET, admins=ADMINS,
                        release_keys={"rel-2026": RELEASE_KEY[1]})
    srv.start()
    yield srv
    srv.stop()


def _wheel(tmp_path, name: str, size: int) -> dict:
    data = os.urandom(size)
    (tmp_path / name).write_bytes(data)
    return {"name": name, "size": size, "sha256": hashlib.sha256(data).hexdigest()}


def _manifest(version: str, wheels: list[dict]) -> dict:
    return {"version": version, "project": "village-kiosk", "min_from": "0", "notes": "",
            "wheels": wheels}


def _kiosk_get(url: str, path: str, kiosk: str = K1, **headers: str) -> requests.Response:
    hdrs = {"Authorization": f"Bearer {FLEET[kiosk]['token']}", "X-Kiosk-Id": kiosk, **headers}
    return requests.get(url + path, headers=hdrs, timeout=10)


def test_publish_rollout_offer_and_range(release_central, tmp_path):
    client = AdminClient(release_central.url, ADMINS["alice"]["token"])
    big = _wheel(tmp_path, "dep-1.0-py3-none-any.whl", 2 * UPLOAD_CHUNK + 123)
    app = _wheel(tmp_path, "village_kiosk-0.2.0-py3-none-any.whl", 5000)
    signed = sign_release(_manifest("0.2.0", [app, big]), RELEASE_KEY[0], "rel-2026")
    # an upload cut after its first piece resumes from there
    client.put_wheel_piece(big["sha256"], 0, (tmp_path / big["name"]).read_bytes()[:UPLOAD_CHUNK])
    assert client.wheel_state(big["sha256"])["uploaded"] == UPLOAD_CHUNK
    assert upload_and_publish(client, signed, tmp_path) == {"version": "0.2.0", "wheels": 2}
    assert _kiosk_get(release_central.url, f"/api/v1/kiosks/{K1}/release").status_code == 204
    client.rollout("0.2.0", 100, group="hangzhou")
    offered = _kiosk_get(release_central.url, f"/api/v1/kiosks/{K1}/release")
    assert offered.status_code == 200 and offered.json()["release"]["version"] == "0.2.0"
    assert offered.json()["rollout"]["target"] == {"kind": "group", "group": "hangzhou"}
    assert _kiosk_get(release_central.url, f"/api/v1/kiosks/{K3}/release", K3).status_code == 204
    # range requests: a cut download goes on where it stopped
    whole = (tmp_path / big["name"]).read_bytes()
    part = _kiosk_get(release_central.url, f"/api/v1/wheels/{big['sha256']}",
                      Range=f"bytes={UPLOAD_CHUNK - 10}-{UPLOAD_CHUNK + 9}")
    assert part.status_code == 206 and part.content == whole[UPLOAD_CHUNK - 10:UPLOAD_CHUNK + 10]
    expected = f"bytes {UPLOAD_CHUNK - 10}-{UPLOAD_CHUNK + 9}/{len(whole)}"
    assert part.headers["Content-Range"] == expected
    rest = _kiosk_get(release_central.url, f"/api/v1/wheels/{big['sha256']}",
                      Range=f"bytes={len(whole) - 5}-")
    assert rest.content == whole[-5:]
    assert _kiosk_get(release_central.url, f"/api/v1/wheels/{big['sha256']}",
                      Range=f"bytes={len(whole)}-").status_code == 416
    # the admin token is not a kiosk token, and the other way round
    assert requests.get(release_central.url + f"/api/v1/wheels/{big['sha256']}",
                        headers=admin_headers(), timeout=10).status_code in (401, 403)


def test_a_wheel_is_kept_once_across_releases(release_central, tmp_path):
    client = AdminClient(release_central.url, ADMINS["alice"]["token"])
    dep = _wheel(tmp_path, "dep-1.0-py3-none-any.whl", UPLOAD_CHUNK + 1)
    for version in ("0.2.0", "0.3.0"):
        app = _wheel(tmp_path, f"village_kiosk-{version}-py3-none-any.whl", 100)
        upload_and_publish(client, sign_release(_manifest(version, [app, dep]), RELEASE_KEY[0],
                                                "rel-2026"), tmp_path)
    rows = release_central.store._run([("SELECT count(*) FROM wheel_chunks WHERE sha256 = ?",
                                        (dep["sha256"],))], fetch="all", write=False)
    assert rows[0][0] == 2  # two chunks, once
    assert [r["version"] for r in client.releases()["releases"]] == ["0.3.0", "0.2.0"]


def test_a_menu_key_or_a_tampered_wheel_is_refused(release_central, tmp_path):
    client = AdminClient(release_central.url, ADMINS["alice"]["token"])
    app = _wheel(tmp_path, "village_kiosk-0.2.0-py3-none-any.whl", 100)
    with pytest.raises(Refused, match="not a trusted release key"):
        upload_and_publish(client, sign_release(_manifest("0.2.0", [app]), MENU_KEY[0],
                                                "menu-2026"), tmp_path)
    lying = {**app, "sha256": "0" * 64}
    client.put_wheel_piece(lying["sha256"], 0, (tmp_path / app["name"]).read_bytes())
    with pytest.raises(Refused, match="not uploaded"):
        client.publish_release(sign_release(_manifest("0.2.0", [lying]), RELEASE_KEY[0],
                                            "rel-2026"))


def test_a_share_of_a_group_is_stable_and_widening_keeps_it(release_central, tmp_path):
    kiosks = KioskRegistry({f"K-{i:03d}": {"token": f"tok-{i:03d}-0123456789", "group": "g"}
                            for i in range(400)})
    in_10 = {k.id for k in kiosks.all() if bucket(k) < 1000}
    in_50 = {k.id for k in kiosks.all() if bucket(k) < 5000}
    assert in_10 < in_50 and 10 < len(in_10) < 70 and 150 < len(in_50) < 250


def test_fleet_page_shows_rollout_progress_and_rollback_reasons(release_central, tmp_path):
    from central_helpers import headers, heartbeat_body

    client = AdminClient(release_central.url, ADMINS["alice"]["token"])
    app = _wheel(tmp_path, "village_kiosk-0.2.0-py3-none-any.whl", 100)
    upload_and_publish(client, sign_release(_manifest("0.2.0", [app]), RELEASE_KEY[0],
                                            "rel-2026"), tmp_path)
    client.rollout("0.2.0", 100, group="hangzhou")
    beats = {
        K1: heartbeat_body(K1, app_version="0.2.0",
                           update={"running": "0.2.0", "state": "healthy", "rolled_back": None}),
        "ZJ-HZ-0002": heartbeat_body("ZJ-HZ-0002", app_version="0.1.0", update={
            "running": "0.1.0", "state": "refused", "rolled_back": {
                "version": "0.2.0", "reason": "no READY=1 within 180 s"}}),
    }
    for kiosk, body in beats.items():
        r = requests.post(f"{release_central.url}/api/v1/kiosks/{kiosk}/heartbeat", json=body,
                          headers=headers(kiosk), timeout=10)
        assert r.status_code == 204
    (rollout,) = client.releases()["rollouts"]
    assert (rollout["offered"], rollout["healthy"], rollout["rolled_back"]) == (2, 1, 1)
    page = requests.get(f"{release_central.url}/admin/fleet", headers=admin_headers(),
                        timeout=10).text
    assert 'id="rollout-' in page and "no READY=1 within 180 s" in page
    assert client.fleet()["rollouts"][0]["version"] == "0.2.0"
