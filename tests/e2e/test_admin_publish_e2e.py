"""An admin's whole path, over real HTTP on 127.0.0.1: `kiosk-admin keygen`, `menu sign` and
`menu publish --group` against the reference central, the running kiosk of that group shows
the new service within one poll, the kiosk of another group does not get it, and the fleet
report shows the new version once the kiosk's heartbeat says it runs it."""

from __future__ import annotations

import json

import requests
from e2e_setup import admin, admin_key, visible
from test_menu_e2e import menu_doc

KIOSK, TOKEN = "ZJ-HZ-0101", "kiosk-token-hz"
OTHER, OTHER_TOKEN = "ZJ-NB-0101", "kiosk-token-nb"
ADMIN_TOKEN = "admin-token-county"


def test_admin_publishes_for_a_group_and_watches_it_arrive(qtbot, tmp_path, start_central,
                                                           kiosk):
    key_line, key_id, public = admin_key(tmp_path)
    central = start_central({KIOSK: {"token": TOKEN, "group": "hangzhou"},
                             OTHER: {"token": OTHER_TOKEN, "group": "ningbo"}},
                            admins={"county": {"token": ADMIN_TOKEN}},
                            menu_keys={key_id: public})
    window = kiosk(KIOSK, TOKEN, central, heartbeat_s=1, menu_poll_s=1, menu_keys=key_line)
    qtbot.waitUntil(lambda: window.menu_poller is not None, timeout=20000)  # deferred start
    assert not visible(window, "category:subsidies")
    (tmp_path / "menu.json").write_text(json.dumps(menu_doc(2), ensure_ascii=False),
                                        encoding="utf-8")
    admin("menu", "validate", str(tmp_path / "menu.json"))
    admin("menu", "sign", str(tmp_path / "menu.json"), "--key",
          str(tmp_path / "county.key"), "--key-id", key_id,
          "--out", str(tmp_path / "bundle.json"))
    admin("menu", "publish", str(tmp_path / "bundle.json"), "--central", central.url,
          "--token", ADMIN_TOKEN, "--group", "hangzhou")

    qtbot.waitUntil(lambda: visible(window, "category:subsidies"), timeout=5000)
    assert window.ctl.session.menu.version == 2

    other = requests.get(f"{central.url}/api/v1/kiosks/{OTHER}/menu", timeout=5,
                         headers={"Authorization": f"Bearer {OTHER_TOKEN}",
                                  "X-Kiosk-Id": OTHER})
    assert other.status_code == 404  # nothing was published for Ningbo

    def fleet_row() -> dict:
        report = requests.get(f"{central.url}/api/v1/admin/fleet", timeout=5,
                              headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        report.raise_for_status()
        return next(r for r in report.json()["kiosks"] if r["kiosk_id"] == KIOSK)

    qtbot.waitUntil(lambda: fleet_row()["menu_version"] == 2, timeout=5000)
    row = fleet_row()
    assert row["menu_serving"] == 2 and not row["menu_lagging"]
    assert row["menu_rejected"] is None and not row["stale"]
    page = requests.get(f"{central.url}/admin/fleet", timeout=5,
                        auth=("county", ADMIN_TOKEN))
    assert page.status_code == 200 and KIOSK in page.text and OTHER in page.text
