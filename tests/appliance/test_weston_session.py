"""The kiosk session for real: Weston's kiosk-shell on its headless backend (what
kiosk-session.service runs on the console, minus the DRM backend), `kiosk run` inside it
as a Wayland client.

- fullscreen: `kiosk run` reports its window and screen geometry in STATUS= (sd_notify);
- no other surface: kiosk-shell makes every top-level fullscreen (a plain 640x480 window is
  given the whole output), and the compositor's socket is in a 0700 runtime folder, so a
  client of any other user cannot connect at all; the session runs nothing but the kiosk
  (no panel, no launcher, no terminal binding in kiosk-shell);
- keys: Weston's kiosk-shell binds nothing that closes a window or switches consoles
  (vt-switching=false in appliance/weston.ini), and the app ignores Ctrl+Alt+F2, Alt+F4,
  Ctrl+Q and Escape delivered to its real Wayland window.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from notify_listener import NotifyListener

ROOT = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).with_name("wayland_probe.py")
W, H = 1920, 1080

pytestmark = pytest.mark.skipif(shutil.which("weston") is None, reason="needs weston")


@pytest.fixture(scope="module")
def weston():
    runtime = Path(tempfile.mkdtemp(prefix="kiosk-weston-"))
    runtime.chmod(0o700)
    name = f"kiosk-test-{os.getpid()}"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime)}
    proc = subprocess.Popen(
        ["weston", "--backend=headless-backend.so", "--shell=kiosk-shell.so",
         f"--width={W}", f"--height={H}", "--use-pixman", f"--socket={name}",
         f"--config={ROOT / 'appliance' / 'weston.ini'}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    socket_path = runtime / name
    deadline = time.monotonic() + 30
    while not socket_path.exists():
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "weston did not open its socket"
        time.sleep(0.05)
    client_env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "WAYLAND_DISPLAY": name,
                  "QT_QPA_PLATFORM": "wayland", "PYTHONPATH": str(ROOT)}
    yield client_env, socket_path
    proc.terminate()
    proc.communicate(timeout=20)
    shutil.rmtree(runtime, ignore_errors=True)


def _config(tmp_path: Path) -> Path:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\nhide_cursor = false\n'
                   '[devices]\nallow_simulated = true\n', encoding="utf-8")
    return cfg


def _probe(env: dict, *args: str) -> dict:
    done = subprocess.run([sys.executable, str(PROBE), *args], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_kiosk_run_is_fullscreen_on_the_output(weston, tmp_path):
    env, _ = weston
    listener = NotifyListener(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "run", "--config", str(_config(tmp_path))],
        cwd=tmp_path, env={**env, **listener.env(watchdog_usec=1_000_000)},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        listener.wait_for(lambda m: "READY" in m, timeout=90)
        full = f"window {W}x{H}+0+0 on screen {W}x{H}"
        status = listener.wait_for(lambda m: m.get("STATUS", "").endswith(full), timeout=60)
        assert status["STATUS"].startswith("home; ")
        listener.wait_for_pings(2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
    finally:
        proc.kill()
        listener.close()


def test_any_other_top_level_is_made_fullscreen(weston):
    env, _ = weston
    got = _probe(env, "window")  # asked for 640x480, shown normally
    assert got == {"window": [W, H], "screen": [W, H], "fullscreen": True,
                   "platform": "wayland"}


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("runuser") is None,
                    reason="needs root to run a client as another user")
def test_no_other_user_can_reach_the_compositor(weston):
    _, socket_path = weston
    code = ("import socket, sys\ns = socket.socket(socket.AF_UNIX)\n"
            "try:\n    s.connect(sys.argv[1])\nexcept PermissionError:\n    sys.exit(13)\n")
    done = subprocess.run(["runuser", "-u", "nobody", "--", "/usr/bin/python3", "-c", code,
                           str(socket_path)], capture_output=True, text=True, timeout=30)
    assert done.returncode == 13, done.stderr


def test_keys_that_close_or_switch_do_nothing(weston, tmp_path):
    env, _ = weston
    got = _probe(env, "keys", str(_config(tmp_path)))
    assert got["before"]["fullscreen"] and got["before"]["window"] == [W, H]
    for combo, after in got["after"].items():
        assert after == {"visible": True, "window": [W, H], "screen": [W, H],
                         "fullscreen": True, "platform": "wayland", "screen_name": "home"}, combo
    assert got["closed_by_request"] is False
