"""Shared end-to-end set-up: the kiosk configuration that points a kiosk at a running reference
central, and kiosk-admin run the way an admin runs it. The ``kiosk`` fixture (conftest.py)
opens windows built from it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QAbstractButton

# A kiosk that syncs, beats and retries every second: end-to-end tests wait for events.
FAST = {"sync_interval_s": 1, "heartbeat_s": 1, "max_backoff_s": 1}


def kiosk_toml(kiosk_id: str, url: str, *, menu_keys: str = "", **central: object) -> str:
    """The kiosk.toml text of kiosk ``kiosk_id`` talking to the central at ``url`` with its
    token in the file ``token``; ``central`` adds [central] keys, ``menu_keys`` is the body
    of [central.menu_keys] (``key_id = "public"`` lines)."""
    lines = ["[kiosk]", f'id = "{kiosk_id}"', 'data_dir = "data"',
             "[central]", f'url = "{url}"', 'token_file = "token"']
    lines += [f"{key} = {json.dumps(value)}" for key, value in central.items()]
    if menu_keys:
        lines += ["[central.menu_keys]", menu_keys.strip()]
    return "\n".join(lines) + "\n"


def write_kiosk_config(tmp_path: Path, kiosk_id: str, token: str, url: str, *,
                       tables: str = "", **central: object) -> Path:
    """Writes the token file and ``kiosk.toml`` (see ``kiosk_toml``; ``tables`` is more
    TOML after it) into ``tmp_path``."""
    (tmp_path / "token").write_text(token + "\n")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(kiosk_toml(kiosk_id, url, **central) + tables, encoding="utf-8")
    return cfg


def admin(*args: str) -> str:
    """``kiosk-admin ARGS`` as a process; fails the test unless it succeeds. Its output."""
    run = subprocess.run([sys.executable, "-m", "admin", *args], capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    return run.stdout


def admin_key(tmp_path: Path, key_id: str = "county") -> tuple[str, str, str]:
    """A menu signing key made by ``kiosk-admin keygen`` into ``tmp_path / f"{key_id}.key"``:
    the ``key_id = "public"`` line a kiosk configures, the key id and the public key."""
    key_line = admin("keygen", "--out", str(tmp_path / f"{key_id}.key"), "--key-id", key_id)
    found_id, _, public = key_line.strip().partition(" = ")
    return key_line.strip(), found_id, json.loads(public)


def visible(window, name: str) -> bool:
    """Whether a button called ``name`` is on screen."""
    return any(w.isVisible() for w in window.findChildren(QAbstractButton, name))
