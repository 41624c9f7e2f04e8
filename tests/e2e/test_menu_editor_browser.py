"""The menu editor in a real browser (headless Chromium driven by Selenium), end to end over
loopback: an admin who never saw the JSON adds a service with three fields for one group's
kiosks, sees a problem appear and go as she types, previews the kiosk's own screens, a second
admin approves, she pulls, signs offline and publishes, and the running kiosk of that group
shows the service at its next return home while the kiosk of another group does not.

``EDITOR_SCREENSHOTS=DIR`` saves the editor's pictures there (docs/screens/ in the README)."""

from __future__ import annotations

import json
import os

import pytest
import requests
from e2e_setup import admin, admin_key, visible
from editor_browser import Editor, browser_or_skip

KIOSK, TOKEN = "ZJ-HZ-0201", "kiosk-token-hz-0201"
OTHER, OTHER_TOKEN = "ZJ-NB-0201", "kiosk-token-nb-0201"
ALICE, BOB = "alice-admin-token-0123", "bob-admin-token-0123456"
SHOTS = os.environ.get("EDITOR_SCREENSHOTS")
SVC = "dibao-apply"


@pytest.fixture
def browser():
    driver = browser_or_skip()
    yield driver
    driver.quit()


@pytest.fixture
def county(tmp_path, start_central):
    key_line, key_id, public = admin_key(tmp_path)
    central = start_central({KIOSK: {"token": TOKEN, "group": "hangzhou"},
                             OTHER: {"token": OTHER_TOKEN, "group": "ningbo"}},
                            admins={"alice": {"token": ALICE}, "bob": {"token": BOB}},
                            menu_keys={key_id: public}, require_approval=True)
    return central, key_line


def add_service_with_three_fields(page: Editor) -> None:
    page.click("#new-draft")
    page.until(lambda d: page.has('[id="cat:civil-affairs"]'))
    page.click_id("cat:civil-affairs")
    page.type_into(page.find("#new-service-id"), SVC, enter=True)
    page.saved()
    base = ("services", SVC)
    page.until(lambda d: any("Service 'dibao-apply', title (English)" in p
                             for p in page.problems()))
    for path, zh, en in [(("title",), "低保申请", "Subsistence allowance application"),
                         (("receipt", "title"), "低保申请回执", "Subsistence allowance receipt"),
                         (("receipt", "note"), "请保管好回执。", "Keep this receipt.")]:
        page.set(*base, *path, "zh_CN", value=zh)
        page.set(*base, *path, "en", value=en)
    for _ in range(3):
        page.click("#add-field")
        page.saved()
    page.set(*base, "fields", "field-1", "id", value="household-size")
    page.choose(*base, "fields", "household-size", "type", value="number")
    page.set(*base, "fields", "household-size", "label", "zh_CN", value="家庭人口")
    page.set(*base, "fields", "household-size", "label", "en", value="Household size")
    page.set(*base, "fields", "field-2", "id", value="phone")
    page.choose(*base, "fields", "phone", "type", value="phone")
    page.set(*base, "fields", "phone", "label", "zh_CN", value="手机号码")
    page.set(*base, "fields", "field-3", "id", value="income")
    page.set(*base, "fields", "income", "label", "zh_CN", value="月收入说明")
    page.set(*base, "fields", "income", "label", "en", value="Monthly income")


def test_an_admin_adds_a_service_and_a_kiosk_of_the_group_shows_it(
        qtbot, tmp_path, county, browser, kiosk):
    central, key_line = county
    window = kiosk(KIOSK, TOKEN, central, heartbeat_s=1, menu_poll_s=1, menu_keys=key_line)
    page = Editor(browser, central.url)
    page.open("alice", ALICE)
    add_service_with_three_fields(page)

    # A problem appears as it is made, named in words, and goes once it is fixed.
    english = ("services", SVC, "fields", "phone", "label", "en")
    page.until(lambda d: any("field '手机号码', label (English): must not be empty" in p
                             for p in page.problems()))
    assert "invalid" in page.field(*english).get_attribute("class")
    page.screenshot(SHOTS, "editor-problem.png")
    page.set(*english, value="Mobile phone")
    page.until(lambda d: page.problems() == [])
    page.click("#show-diff")
    page.until(lambda d: "+ dibao-apply  低保申请 / Subsistence allowance application"
               in page.find("#diff").text)
    assert "3 fields" in page.find("#diff").text

    # What residents will see: the kiosk's own screens, rendered by the kiosk package.
    page.click("#preview")
    shot = 'img[data-file="form3-dibao-apply-en-small.png"]'
    page.until(lambda d: page.has(shot), timeout=180)
    page.until(lambda d: d.execute_script(f"return document.querySelector('{shot}')"
                                          ".naturalWidth") == 1280)
    page.screenshot(SHOTS, "editor-preview.png", top="#review")

    # This deployment needs a second admin: alice cannot approve her own draft, bob can.
    page.click("#approve")
    page.until(lambda d: "second admin" in page.find("#notice").text)
    page.open("bob", BOB)
    page.click("#approve")
    page.until(lambda d: page.visible("#pull"))
    page.screenshot(SHOTS, "editor-approved.png", top="#review")

    # Signing stays with the admin: pull the approved draft, sign offline, publish it.
    menu_file, bundle = tmp_path / "menu.json", tmp_path / "bundle.json"
    admin("menu", "pull", "--central", central.url, "--token", ALICE, "--draft", "1",
          "--out", str(menu_file))
    admin("menu", "sign", str(menu_file), "--key", str(tmp_path / "county.key"),
          "--key-id", "county", "--out", str(bundle))
    admin("menu", "publish", str(bundle), "--central", central.url, "--token", ALICE,
          "--group", "hangzhou")
    version = json.loads(menu_file.read_text("utf-8"))["version"]

    qtbot.waitUntil(lambda: window.ctl.session.menu.version == version, timeout=10000)
    window.ctl.go_home()
    window.ctl.choose_category("civil-affairs")
    qtbot.waitUntil(lambda: visible(window, f"tile:{SVC}"), timeout=5000)
    other = requests.get(f"{central.url}/api/v1/kiosks/{OTHER}/menu", timeout=5,
                         headers={"Authorization": f"Bearer {OTHER_TOKEN}", "X-Kiosk-Id": OTHER})
    assert other.status_code == 404  # nothing was published for Ningbo


def test_two_admins_on_one_draft_the_second_save_is_told_and_nothing_is_lost(county, browser):
    central, _ = county
    page = Editor(browser, central.url)
    page.open("alice", ALICE)
    page.click("#new-draft")
    page.click_id("svc:hpf-withdraw")
    title = ("services", "hpf-withdraw", "title", "en")
    page.field(*title)
    # Bob saves first, through the API, from the same revision alice's page holds.
    r = requests.post(f"{central.url}/api/v1/admin/drafts/1/edits", timeout=10,
                      headers={"Authorization": f"Bearer {BOB}"},
                      json={"revision": 1, "ops": [{"op": "set", "path": [
                          "services", "hpf-withdraw", "description", "en"],
                          "value": "Bob's description"}]})
    assert r.status_code == 200
    page.set(*title, value="Alice's title")
    page.until(lambda d: "bob changed the draft just now" in page.find("#notice").text)
    page.screenshot(SHOTS, "editor-conflict.png")
    page.click("#reapply")
    page.until(lambda d: not page.visible("#notice"))
    page.saved()
    draft = requests.get(f"{central.url}/api/v1/admin/drafts/1", timeout=10,
                         headers={"Authorization": f"Bearer {ALICE}"}).json()
    service = next(s for s in draft["menu"]["services"] if s["id"] == "hpf-withdraw")
    assert service["title"]["en"] == "Alice's title"
    assert service["description"]["en"] == "Bob's description"
    assert draft["revision"] == 3
