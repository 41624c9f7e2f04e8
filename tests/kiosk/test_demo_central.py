"""What `kiosk demo` prints is true: its PIN opens diagnostics and its kiosk-admin commands
publish a menu that the demo kiosk accepts, over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from contract.menu import load_default
from contract.resources import config_dir
from kiosk.central_link import make_poller
from kiosk.config import demo_config
from kiosk.demo.run import DEMO_PIN, admin_hints, with_demo_pin, with_local_central
from kiosk.technician.pin import verify_pin
from uplink.menu_poller import Result
from uplink.status_board import StatusBoard


@pytest.fixture
def demo(tmp_path):
    config, server = with_local_central(with_demo_pin(demo_config(tmp_path / "data")))
    yield config, server
    server.stop()


def test_the_demo_pin_opens_diagnostics(demo):
    config, server = demo
    assert verify_pin(DEMO_PIN, config.diagnostics.technicians["demo"])
    assert len(DEMO_PIN) >= 6
    assert f"PIN {DEMO_PIN}" in admin_hints(config, server)


def test_a_menu_published_with_the_printed_commands_reaches_the_demo_kiosk(demo, tmp_path):
    config, server = demo
    data = config.kiosk.data_dir
    hints = admin_hints(config, server)
    assert str(data / "demo-admin.key") in hints and str(data / "admin.token") in hints
    assert (data / "demo-admin.key").stat().st_mode & 0o777 == 0o600
    running = load_default()
    menu = json.loads((config_dir() / "menu.default.json").read_text(encoding="utf-8"))
    menu["version"] = running.version + 1
    (tmp_path / "menu.json").write_text(json.dumps(menu, ensure_ascii=False), encoding="utf-8")

    def admin(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "admin", *args], capture_output=True,
                              text=True, timeout=60)

    signed = admin("menu", "sign", str(tmp_path / "menu.json"), "--key",
                   str(data / "demo-admin.key"), "--key-id", "demo", "--out",
                   str(tmp_path / "bundle.json"))
    assert signed.returncode == 0, signed.stderr
    published = admin("menu", "publish", str(tmp_path / "bundle.json"), "--central",
                      server.url, "--token-file", str(data / "admin.token"))
    assert published.returncode == 0, published.stderr

    arrived = []
    poller = make_poller(config, StatusBoard(running.version), running.version, arrived.append)
    try:
        poller.updater.prepare()
        outcome = poller.updater.check()
    finally:
        poller.updater.close()
    assert outcome.result == Result.APPLIED and outcome.version == running.version + 1
    assert [m.version for m in arrived] == [running.version + 1]
