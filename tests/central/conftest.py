"""A real central server on 127.0.0.1 for each test (see central_helpers for the kiosks).

Every test that uses a store runs twice, on SQLite and on PostgreSQL (``-k sqlite`` or
``-k postgres`` picks one). PostgreSQL is one temporary cluster for the session, started
here from Debian's package, with a database per test. Where PostgreSQL is installed but does
not start, those tests fail; only where its binaries are absent are they skipped.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from central_helpers import ADMINS, FLEET, KEY_ID, KIOSKS, ROOT
from pg_cluster import Cluster, find_bin

from central.server import CentralServer
from central.signing import generate_keypair, sign_menu

STORES = ["sqlite", "postgres"]


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster]:
    """One PostgreSQL cluster for the whole session (started on first use)."""
    bindir = find_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    cluster = Cluster(bindir)
    try:
        cluster.start()  # raises, failing the tests, if an installed PostgreSQL won't start
        yield cluster
    finally:
        cluster.stop()


def _db(kind: str, request: pytest.FixtureRequest, folder: Path, name: str
        ) -> Iterator[str | Path]:
    if kind == "sqlite":
        yield folder / name
        return
    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.create_database()
    yield url
    cluster.drop_database(url)


@pytest.fixture(params=STORES)
def db_url(request, tmp_path) -> Iterator[str | Path]:
    """A fresh database for one test: a SQLite file, or a PostgreSQL database URL."""
    yield from _db(request.param, request, tmp_path, "central.db")


@pytest.fixture(scope="module", params=STORES)
def module_db_url(request, tmp_path_factory) -> Iterator[str | Path]:
    yield from _db(request.param, request, tmp_path_factory.mktemp("db"), "central.db")


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
def central(db_url, keypair, menu_file) -> Iterator[CentralServer]:
    srv = CentralServer(db_url, kiosks=KIOSKS, menu_file=menu_file,
                        signing_key=keypair[0], key_id=KEY_ID)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def bare_central(db_url) -> Iterator[CentralServer]:
    """No menu, no signing key, a short request time-out."""
    srv = CentralServer(db_url, kiosks=KIOSKS, request_timeout_s=0.5)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def shared_central(tmp_path_factory, module_db_url, keypair, menu_doc
                   ) -> Iterator[CentralServer]:
    """One server for a module whose tests store nothing (refused requests)."""
    folder = tmp_path_factory.mktemp("shared-central")
    menu = folder / "menu.json"
    menu.write_text(json.dumps(menu_doc, ensure_ascii=False), "utf-8")
    srv = CentralServer(module_db_url, kiosks=KIOSKS, menu_file=menu,
                        signing_key=keypair[0], key_id=KEY_ID)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def admin_central(db_url, keypair, menu_file) -> Iterator[CentralServer]:
    """Three kiosks in two groups, two admins, the test key trusted; the server's own menu
    (version 1 from ``menu_file``) is the fallback."""
    srv = CentralServer(db_url, kiosks=FLEET, menu_file=menu_file,
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
