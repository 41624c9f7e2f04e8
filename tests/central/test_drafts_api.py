"""Menu drafts over real HTTP: made from what kiosks get, edited with revisions (a stale save
is 409 with the current draft), problems worded by place, approved by a second admin when the
deployment says so, and published only as exactly the approved draft."""

from __future__ import annotations

import json

import pytest
import requests
from central_helpers import ADMIN_TOKEN, ADMINS, FLEET, KEY_ID, admin_headers, publish

from central.server import CentralServer
from central.signing import sign_menu

BOB = ADMINS["bob"]["token"]


def call(url: str, method: str, path: str, token: str = ADMIN_TOKEN, **kw) -> requests.Response:
    return requests.request(method, f"{url}{path}", headers={**admin_headers(token),
                            **kw.pop("headers", {})}, timeout=30, **kw)


def new_draft(url: str, token: str = ADMIN_TOKEN) -> dict:
    r = call(url, "POST", "/api/v1/admin/drafts", token, json={})
    assert r.status_code == 201, r.text
    return r.json()


def edit(url: str, draft: dict, ops: list, token: str = ADMIN_TOKEN, revision=None):
    return call(url, "POST", f"/api/v1/admin/drafts/{draft['id']}/edits", token,
                json={"revision": draft["revision"] if revision is None else revision,
                      "ops": ops})


@pytest.fixture
def approval_central(db_url, keypair, menu_file):
    srv = CentralServer(db_url, kiosks=FLEET, menu_file=menu_file, signing_key=keypair[0],
                        key_id=KEY_ID, admins=ADMINS, menu_keys={KEY_ID: keypair[1]},
                        require_approval=True)
    srv.start()
    yield srv
    srv.stop()


def test_edits_are_checked_and_worded_by_place(admin_central):
    url = admin_central.url
    draft = new_draft(url)
    assert draft["menu"]["version"] == 2 and draft["problems"] == []
    label = ["services", "hpf-withdraw", "fields", "phone", "label", "en"]
    r = edit(url, draft, [{"op": "set", "path": label, "value": ""}])
    assert r.status_code == 200 and r.headers["ETag"] == '"r2"'
    problem, = r.json()["problems"]
    assert problem["path"] == label
    assert problem["text"]["en"].startswith("Service 'Withdraw housing fund', field ")
    assert "label (English): must not be empty" in problem["text"]["en"]
    assert problem["text"]["zh_CN"].startswith("服务「公积金提取」的字段「")
    fixed = edit(url, r.json(), [{"op": "set", "path": label, "value": "Mobile"}])
    assert fixed.status_code == 200 and fixed.json()["problems"] == []
    view = call(url, "GET", f"/api/v1/admin/drafts/{draft['id']}").json()
    assert [c["admin"] for c in view["changes"]] == ["alice"] * 3
    assert "set services › hpf-withdraw › fields › phone › label › en" in \
        view["changes"][0]["summary"]


def test_a_stale_save_is_told_the_draft_changed_and_nothing_is_lost(admin_central):
    url = admin_central.url
    draft = new_draft(url)
    title = ["services", "hpf-withdraw", "title", "en"]
    first = edit(url, draft, [{"op": "set", "path": title, "value": "Alice's"}])
    assert first.status_code == 200
    second = edit(url, draft, [{"op": "set", "path": title, "value": "Bob's"}], BOB)
    assert second.status_code == 409
    current = second.json()["draft"]
    assert current["revision"] == 2 and current["updated_by"] == "alice"
    assert current["menu"]["services"][0]["title"]["en"] == "Alice's"
    again = edit(url, current, [{"op": "set", "path": title, "value": "Bob's"}], BOB)
    assert again.status_code == 200 and again.json()["revision"] == 3
    via_header = call(url, "POST", f"/api/v1/admin/drafts/{draft['id']}/edits", BOB,
                      headers={"If-Match": '"r2"'},
                      json={"ops": [{"op": "set", "path": title, "value": "x"}]})
    assert via_header.status_code == 409


def test_a_cross_site_request_cannot_change_a_draft(admin_central):
    url = admin_central.url
    draft = new_draft(url)
    ops = [{"op": "set", "path": ["services", "hpf-withdraw", "enabled"], "value": False}]
    evil = call(url, "POST", f"/api/v1/admin/drafts/{draft['id']}/edits",
                headers={"Origin": "https://evil.example"},
                json={"revision": 1, "ops": ops})
    assert evil.status_code == 403
    basic = requests.post(f"{url}/api/v1/admin/drafts/{draft['id']}/edits",
                          auth=("x", ADMIN_TOKEN), json={"revision": 1, "ops": ops}, timeout=10)
    assert basic.status_code == 401
    form = call(url, "POST", f"/api/v1/admin/drafts/{draft['id']}/edits",
                data="revision=1", headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert form.status_code == 415
    page = requests.get(f"{url}/admin/menus/editor", auth=("any", ADMIN_TOKEN), timeout=10)
    assert page.status_code == 200 and "frame-ancestors 'none'" in \
        page.headers["Content-Security-Policy"]
    assert requests.get(f"{url}/admin/menus/editor", timeout=10).status_code == 401
    assert requests.get(f"{url}/admin/static/editor.js", timeout=10).status_code == 200
    assert requests.get(f"{url}/admin/static/icons/house.svg", timeout=10).status_code == 200
    assert requests.get(f"{url}/admin/static/../server.py", timeout=10).status_code == 404


def test_approval_by_a_second_admin_then_only_that_menu_publishes(approval_central, keypair):
    url = approval_central.url
    draft = new_draft(url)
    svc = {"id": "new-svc", "category": "housing-fund", "requires_identity": False,
           "title": {"zh_CN": "新服务", "en": "New service"},
           "receipt": {"title": {"zh_CN": "回执", "en": "Receipt"},
                       "note": {"zh_CN": "请保管", "en": "Keep it"}}, "fields": []}
    saved = edit(url, draft, [{"op": "add", "path": ["services"], "item": svc}]).json()
    diff = call(url, "GET", f"/api/v1/admin/drafts/{draft['id']}/diff").json()
    assert "+ new-svc  新服务 / New service" in diff["text"]
    assert call(url, "GET", f"/api/v1/admin/drafts/{draft['id']}/menu").status_code == 409
    own = call(url, "POST", f"/api/v1/admin/drafts/{draft['id']}/approve",
               json={"revision": saved["revision"]})
    assert own.status_code == 403  # alice edited it
    approved = call(url, "POST", f"/api/v1/admin/drafts/{draft['id']}/approve", BOB,
                    json={"revision": saved["revision"]})
    assert approved.status_code == 200 and approved.json()["approved_by"] == "bob"
    canonical = call(url, "GET", f"/api/v1/admin/drafts/{draft['id']}/menu")
    assert canonical.status_code == 200
    menu = json.loads(canonical.content)
    other = {**menu, "services": menu["services"][:-1]}
    refused = publish(url, sign_menu(other, keypair[0], KEY_ID))
    assert refused.status_code == 409 and "approved draft" in refused.json()["error"]
    done = publish(url, sign_menu(menu, keypair[0], KEY_ID))
    assert done.status_code == 201, done.text
    after = call(url, "GET", f"/api/v1/admin/drafts/{draft['id']}").json()
    assert after["state"] == "published" and after["published_seq"] == done.json()["id"]


def test_kiosk_admin_pull_writes_the_draft_exactly(admin_central, tmp_path):
    import subprocess
    import sys

    url = admin_central.url
    draft = new_draft(url)
    out = tmp_path / "menu.json"
    run = subprocess.run([sys.executable, "-m", "admin", "menu", "pull", "--central", url,
                          "--token", ADMIN_TOKEN, "--draft", str(draft["id"]),
                          "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    canonical = call(url, "GET", f"/api/v1/admin/drafts/{draft['id']}/menu").content
    assert out.read_bytes() == canonical
    assert json.loads(canonical) == draft["menu"]
    missing = subprocess.run([sys.executable, "-m", "admin", "menu", "pull", "--central", url,
                              "--token", ADMIN_TOKEN, "--draft", "99", "--out", str(out)],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 1 and "404" in missing.stderr
