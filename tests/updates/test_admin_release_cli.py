"""``kiosk-admin release build | sign | publish | status`` as an admin types them, against
a real central on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest
from update_helpers import ADMIN_TOKEN, GROUP, ROOT

from central.server import CentralServer


def admin(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "admin", *args], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert (run.returncode == 0) == ok, run.stderr
    return run


@pytest.fixture
def central(tmp_path) -> Iterator[CentralServer]:
    srv = CentralServer(tmp_path / "central.db",
                        kiosks={"ZJ-HZ-0001": {"token": "kiosk-token-0123456789",
                                               "group": GROUP}},
                        admins={"county": {"token": ADMIN_TOKEN}})
    srv.start()
    yield srv
    srv.stop()


def test_build_sign_publish_status(tmp_path, central):
    line = admin("keygen", "--out", str(tmp_path / "release-2026.key")).stdout
    assert line.startswith("release-2026 = ")
    out = tmp_path / "rel"
    built = admin("release", "build", "--checkout", str(ROOT), "--version", "0.7.0",
                  "--out", str(out), "--min-from", "0.1.0", "--notes", "test").stdout
    assert "release 0.7.0: 1 wheels" in built
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["wheels"][0]["name"] == "village_kiosk-0.7.0-py3-none-any.whl"
    admin("release", "sign", str(out / "manifest.json"), "--key",
          str(tmp_path / "release-2026.key"), "--out", str(out / "signed.json"))
    central_args = ["--central", central.url, "--token", ADMIN_TOKEN]
    published = admin("release", "publish", str(out / "signed.json"), "--group", GROUP,
                      "--percent", "1", *central_args).stdout
    assert f"release 0.7.0 rolled out to group {GROUP} at 1.0%" in published
    status = admin("release", "status", *central_args).stdout
    assert "0.7.0 to group hangzhou at 1.0%" in status
    refused = admin("release", "publish", str(out / "manifest.json"), *central_args, ok=False)
    assert "not a signed release" in refused.stderr
