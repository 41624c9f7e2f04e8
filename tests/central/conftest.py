"""A real central server on 127.0.0.1 for each test (see central_helpers for the kiosks)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from central_helpers import ADMINS, FLEET, KEY_ID, KIOSKS, ROOT

from central.server import CentralServer
from central.signing import generate_keypair, sign_menu


@pytest.fixture(scope="session")
def keypair() -> tuple[str, str]:
    return generate_keypair()


@pytest.fixture(scope="session")
def menu_doc() -> dict[str, Any]:
    return json.loads((ROOT / "config" / "menu.default.json").read_text("utf-8"))


@pytest.fixture
def menu_file(tmp_path, menu_doc) -> Path:
    path = tmp_path / "menu.json"
    path.write_text(json.dumps(menu_doc, ensure_ascii=False), "utf-8")
    return path


@pytest.fixture
def central(tmp_path, keypair, menu_file) -> Iterator[CentralServer]:
    srv = CentralServer(tmp_path / "central.db", kiosks=KIOSKS, menu_file=menu_file,
                        signing_key=keypair[0], key_id=KEY_ID)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def bare_central(tmp_path) -> Iterator[CentralServer]:
    """No menu, no signing key, a short request time-out."""
    srv = CentralServer(tmp_path / "bare.db", kiosks=KIOSKS, request_timeout_s=0.5)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def shared_central(tmp_path_factory, keypair, menu_doc) -> Iterator[CentralServer]:
    """One server for a module whose tests store nothing (refused requests)."""
    folder = tmp_path_factory.mktemp("shared-central")
    menu = folder / "menu.json"
    menu.write_text(json.dumps(menu_doc, ensure_ascii=False), "utf-8")
    srv = CentralServer(folder / "central.db", kiosks=KIOSKS, menu_file=menu,
                        signing_key=keypair[0], key_id=KEY_ID)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def admin_central(tmp_path, keypair, menu_file) -> Iterator[CentralServer]:
    """Three kiosks in two groups, two admins, the test key trusted; the server's own menu
    (version 1 from ``menu_file``) is the fallback."""
    srv = CentralServer(tmp_path / "admin.db", kiosks=FLEET, menu_file=menu_file,
                        signing_key=keypair[0], key_id=KEY_ID, admins=ADMINS,
                        menu_keys={KEY_ID: keypair[1]})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def signed(keypair, menu_doc) -> Callable[..., dict[str, Any]]:
    """``signed(version, **changes)``: a bundle of the default menu at ``version``."""

    def make(version: int, key: str | None = None, key_id: str = KEY_ID,
             **changes: Any) -> dict[str, Any]:
        menu = {**copy.deepcopy(menu_doc), "version": version, **changes}
        return sign_menu(menu, key or keypair[0], key_id)

    return make
