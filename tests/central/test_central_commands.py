"""Fleet commands over real HTTP: an admin queues them, heartbeats carry them until the kiosk
reports, a screenshot comes back to admins only."""

from __future__ import annotations

import requests
from central_helpers import ADMIN_TOKEN, FLEET, K1, K2, K3, admin_headers, heartbeat_body

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 32


def kiosk_headers(kiosk: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {FLEET[kiosk]['token']}", "X-Kiosk-Id": kiosk}


def beat(url: str, kiosk: str, **extra) -> requests.Response:
    return requests.post(f"{url}/api/v1/kiosks/{kiosk}/heartbeat",
                         json=heartbeat_body(kiosk, **extra), headers=kiosk_headers(kiosk),
                         timeout=10)


def send(url: str, **body) -> requests.Response:
    return requests.post(f"{url}/api/v1/admin/commands", json=body, headers=admin_headers(),
                         timeout=10)


def test_a_screenshot_goes_out_with_the_heartbeat_and_comes_back(admin_central):
    url = admin_central.url
    assert beat(url, K1).status_code == 204  # nothing queued: no body
    r = send(url, type="screenshot", kiosk=K1)
    assert r.status_code == 201, r.text
    (made,) = r.json()["commands"]
    assert made["status"] == "pending" and made["admin"] == "alice"
    answer = beat(url, K1)
    assert answer.status_code == 200
    (command,) = answer.json()["commands"]
    assert command["id"] == made["id"] and command["type"] == "screenshot"
    path = command["args"]["upload_path"]
    assert path == f"/api/v1/kiosks/{K1}/commands/{made['id']}/upload"
    assert beat(url, K1).json()["commands"][0]["id"] == made["id"]  # until reported
    # another kiosk cannot upload for it, nor a file of the wrong type
    other = requests.post(url + path.replace(K1, K2), data=PNG, headers={
        **kiosk_headers(K2), "Content-Type": "image/png"}, timeout=10)
    assert other.status_code == 404
    wrong = requests.post(url + path, data=b"PK", headers={
        **kiosk_headers(K1), "Content-Type": "application/zip"}, timeout=10)
    assert wrong.status_code == 415
    up = requests.post(url + path, data=PNG, headers={**kiosk_headers(K1),
                                                      "Content-Type": "image/png"}, timeout=10)
    assert up.status_code == 201, up.text
    result = {"id": made["id"], "status": "done", "detail": "1920x1080"}
    assert beat(url, K1, command_results=[result]).status_code == 204
    seen = requests.get(f"{url}/api/v1/admin/commands/{made['id']}", headers=admin_headers(),
                        timeout=10).json()
    assert (seen["status"], seen["detail"]) == ("done", "1920x1080")
    assert seen["upload"]["content_type"] == "image/png"
    picture = requests.get(url + seen["upload"]["path"], headers=admin_headers(), timeout=10)
    assert picture.status_code == 200 and picture.content == PNG
    assert picture.headers["content-type"] == "image/png"
    # only admins see it: a kiosk token is refused, and so is no token
    assert requests.get(url + seen["upload"]["path"], headers=kiosk_headers(K1),
                        timeout=10).status_code == 403
    assert requests.get(url + seen["upload"]["path"], timeout=10).status_code == 401
    late = requests.post(url + path, data=PNG, headers={**kiosk_headers(K1),
                                                        "Content-Type": "image/png"}, timeout=10)
    assert late.status_code == 409  # finished: no more uploads


def test_a_group_gets_one_command_each_and_refusals_are_kept(admin_central):
    url = admin_central.url
    r = send(url, type="restart", group="hangzhou")
    assert r.status_code == 201
    assert sorted(c["kiosk_id"] for c in r.json()["commands"]) == [K1, K2]
    assert beat(url, K3).status_code == 204
    (command,) = beat(url, K2).json()["commands"]
    assert "upload_path" not in command["args"]
    beat(url, K2, command_results=[{"id": command["id"], "status": "refused",
                                    "detail": "visit on screen"}, {"bad": 1}])
    listed = requests.get(f"{url}/api/v1/admin/commands?kiosk={K2}", headers=admin_headers(),
                          timeout=10).json()["commands"]
    assert [(c["status"], c["detail"]) for c in listed] == [("refused", "visit on screen")]


def test_bad_command_requests_are_refused(admin_central):
    url = admin_central.url
    assert send(url, type="format_disk", kiosk=K1).status_code == 400
    assert send(url, type="sync_now").status_code == 400  # no target
    assert send(url, type="sync_now", kiosk=K1, group="hangzhou").status_code == 400
    assert send(url, type="sync_now", kiosk="ZJ-XX-9999").status_code == 404
    assert send(url, type="sync_now", group="nowhere").status_code == 404
    assert send(url, type="sync_now", all=True).status_code == 201
    foreign = requests.post(f"{url}/api/v1/admin/commands", json={"type": "sync_now",
                            "kiosk": K1}, headers={**admin_headers(),
                                                   "Origin": "https://evil.example"}, timeout=10)
    assert foreign.status_code == 403
    as_kiosk = requests.post(f"{url}/api/v1/admin/commands", json={"type": "sync_now",
                             "kiosk": K1}, headers=kiosk_headers(K1), timeout=10)
    assert as_kiosk.status_code == 403


def test_the_fleet_page_shows_commands_and_the_latest_screenshot(admin_central):
    url = admin_central.url
    shot = send(url, type="screenshot", kiosk=K1).json()["commands"][0]["id"]
    waiting = send(url, type="restart", kiosk=K2).json()["commands"][0]["id"]
    beat(url, K1)
    requests.post(f"{url}/api/v1/kiosks/{K1}/commands/{shot}/upload", data=PNG,
                  headers={**kiosk_headers(K1), "Content-Type": "image/png"}, timeout=10)
    beat(url, K1, command_results=[{"id": shot, "status": "done", "detail": "<b>1920</b>"}])
    basic = ("alice", ADMIN_TOKEN)
    page = requests.get(f"{url}/admin/fleet", auth=basic, timeout=10).text
    assert f'<tr data-command="{shot}" data-status="done">' in page
    assert f'<tr data-command="{waiting}" data-status="pending">' in page
    assert "&lt;b&gt;1920&lt;/b&gt;" in page and "<b>1920</b>" not in page  # escaped
    assert f'<img src="/admin/fleet/uploads/{shot}"' in page
    picture = requests.get(f"{url}/admin/fleet/uploads/{shot}", auth=basic, timeout=10)
    assert picture.status_code == 200 and picture.content == PNG
    anonymous = requests.get(f"{url}/admin/fleet/uploads/{shot}", timeout=10)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"].startswith("Basic")


def test_a_command_not_delivered_within_the_hour_expires(admin_central, clock):
    admin_central.clock = clock  # the central's time, moved by the test
    url = admin_central.url
    (made,) = send(url, type="restart", kiosk=K1).json()["commands"]
    clock.advance(3601)  # the kiosk was away for more than the default hour
    assert beat(url, K1).status_code == 204  # the restart is not sent any more
    seen = requests.get(f"{url}/api/v1/admin/commands/{made['id']}", headers=admin_headers(),
                        timeout=10).json()
    assert (seen["status"], seen["detail"]) == ("expired", "not delivered within 1 h")
    assert seen["sent_at"] is None and seen["finished_at"] is not None
    (other,) = send(url, type="screenshot", kiosk=K2).json()["commands"]
    clock.advance(3601)  # K2 never comes back: the fleet page shows it expired all the same
    page = requests.get(f"{url}/admin/fleet", auth=("alice", ADMIN_TOKEN), timeout=10)
    assert page.status_code == 200
    assert f'data-command="{other["id"]}" data-status="expired"' in page.text
    assert "已过期 expired" in page.text
