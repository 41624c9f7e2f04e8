"""Real releases for the update tests: built from this checkout at a bumped version with
``kiosk-admin release build`` (the project wheel alone: the slots inherit this
interpreter's packages, ``[updates] inherit_site``), signed, published on a real central."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from admin.central_client import AdminClient
from admin.release import build, upload_and_publish
from central.kiosks import Kiosk
from central.releases import bucket
from contract.release import sign_release
from contract.signing import generate_keypair

ROOT = Path(__file__).resolve().parents[2]
RELEASE_KEY = generate_keypair()
MENU_KEY = generate_keypair()
ADMIN_TOKEN = "admin-token-updates-0123"
GROUP = "hangzhou"


def one_percent_kiosk() -> str:
    """A kiosk id inside the first 1 % of its group (a stable bucket below 100)."""
    for i in range(100000):
        kiosk_id = f"ZJ-HZ-{i:04d}"
        if bucket(Kiosk(kiosk_id, b"", GROUP)) < 100:
            return kiosk_id
    raise AssertionError("no kiosk in the first percent")


def kiosks_around_one_percent(outside: int = 2) -> tuple[str, list[str]]:
    """One kiosk id inside the first 1 % of the group and ``outside`` ids beyond it."""
    inside = one_percent_kiosk()
    others = [f"ZJ-HZ-{i:04d}" for i in range(100000)
              if bucket(Kiosk(f"ZJ-HZ-{i:04d}", b"", GROUP)) >= 100][:outside]
    return inside, others


def build_release(out: Path, version: str, *, broken: bool = False) -> dict[str, Any]:
    """A release of this checkout at ``version``; ``broken``: its kiosk dies at start."""
    checkout = ROOT
    if broken:
        checkout = out / "checkout"
        shutil.copytree(ROOT, checkout, ignore=shutil.ignore_patterns(
            ".git", ".venv", "tests", "__pycache__", "build", "*.egg-info"))
        main = checkout / "kiosk" / "__main__.py"
        main.write_text('raise SystemExit("this release is broken")\n' + main.read_text())
    manifest = build(checkout, version, out / "wheels")
    if broken:
        shutil.rmtree(checkout)
    return manifest


def publish(central_url: str, manifest: dict[str, Any], wheels: Path, percent: float = 100,
            key: str = RELEASE_KEY[0], key_id: str = "release-2026") -> dict[str, Any]:
    client = AdminClient(central_url, ADMIN_TOKEN)
    upload_and_publish(client, sign_release(manifest, key, key_id), wheels)
    return client.rollout(manifest["version"], percent, group=GROUP)


def kiosk_config(folder: Path, kiosk_id: str, central_url: str, token: str,
                 window: str = "00:00-23:59", inherit_site: bool = True) -> Path:
    (folder / "token").write_text(token)
    path = folder / "kiosk.toml"
    path.write_text(f"""\
[kiosk]
id = "{kiosk_id}"
data_dir = "data"
[central]
url = "{central_url}"
token_file = "token"
heartbeat_s = 1
sync_interval_s = 1
menu_poll_s = 3600
[central.release_keys]
release-2026 = "{RELEASE_KEY[1]}"
[central.menu_keys]
menu-2026 = "{MENU_KEY[1]}"
[devices]
allow_simulated = true
[voice]
engine = "none"
[updates]
enabled = true
root = "updates"
check_s = 1
window = "{window}"
inherit_site = {"true" if inherit_site else "false"}
""")
    return path


class GuardProcess:
    """``python -m updater.guard`` running the kiosk offscreen, as systemd would start it."""

    def __init__(self, folder: Path, config: Path, trial_s: float = 90) -> None:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
        env.pop("NOTIFY_SOCKET", None)
        self.log = (folder / "guard.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "updater.guard", "--root", str(folder / "updates"),
             "--trial-s", str(trial_s), "--", "run", "--windowed", "--config", str(config)],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.folder = folder

    def output(self) -> str:
        return (self.folder / "guard.log").read_text("utf-8", "replace")

    def kill(self) -> None:
        """SIGKILL the guard and everything it started (a power cut, as far as they know)."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()
        return self.proc.returncode


def wait_for(what: Callable[[], Any], timeout: float, message: Callable[[], str]) -> Any:
    """Poll ``what`` until it gives a true value (the state of real processes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = what()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(message())


def latest(central, kiosk_id: str) -> dict[str, Any]:
    return central.store.latest_heartbeat(kiosk_id) or {}


def dumps(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)[:2000]
