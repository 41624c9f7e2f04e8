"""``kiosk-central serve --workers 2``: two processes on one socket behave as one central."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import requests
from central_helpers import (
    ADMIN_TOKEN,
    FLEET,
    K3,
    KEY_ID,
    ROOT,
    get_menu,
    make_tx,
    post_batch,
    publish,
)


def test_two_workers_serve_one_central(tmp_path, keypair, signed):
    kiosks = tmp_path / "kiosks.toml"
    kiosks.write_text("".join(f'[kiosks.{k}]\ntoken = "{v["token"]}"\ngroup = "{v["group"]}"\n'
                              for k, v in FLEET.items()))
    admins = tmp_path / "admins.toml"
    admins.write_text(f'[admins.alice]\ntoken = "{ADMIN_TOKEN}"\n')
    keys = tmp_path / "keys.toml"
    keys.write_text(f'[menu_keys]\n{KEY_ID} = "{keypair[1]}"\n')
    for path in (kiosks, admins):
        path.chmod(0o600)
    proc = subprocess.Popen(
        [sys.executable, "-m", "central", "serve", "--db", str(tmp_path / "c.db"),
         "--port", "0", "--workers", "2", "--kiosks", str(kiosks), "--admins", str(admins),
         "--menu-keys", str(keys), "--forward-url", "http://127.0.0.1:9/"], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = re.search(r"listening on (http://\S+)", proc.stdout.readline()).group(1)
        assert publish(url, signed(5)).status_code == 201
        pids, versions = set(), set()
        deadline = time.monotonic() + 60
        # Fresh connections land on either worker; both must give the new menu (a worker
        # sees the store's menus generation move within 1 s).
        while (len(pids) < 2 or versions != {5}) and time.monotonic() < deadline:
            with requests.Session() as s:
                r = post_batch(url, [make_tx()], session=s)
                assert r.status_code == 200
                menu = get_menu(url, K3)
                versions = {menu.json()["menu"]["version"]} if menu.status_code == 200 else {0}
            pids.add(_worker_pid(url))
        assert versions == {5}
        assert len(pids) == 2
        assert requests.get(f"{url}/api/v1/admin/menus", timeout=10,
                            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
                            ).json()["menus"][0]["version"] == 5
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.count("outbox delivering to") == 1  # in the supervisor, not in each worker
    stats = subprocess.run([sys.executable, "-m", "central", "stats", "--db",
                            str(tmp_path / "c.db"), "--json"], cwd=ROOT, capture_output=True,
                           text=True, timeout=60)
    assert json.loads(stats.stdout)["transactions"] >= 2


def _worker_pid(url: str) -> int:
    """The process id of the worker answering a fresh connection."""
    r = requests.get(f"{url}/api/v1/admin/menus", timeout=10,
                     headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    return int(r.headers["X-Central-Worker"])
