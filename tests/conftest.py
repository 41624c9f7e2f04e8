"""Shared set-up. Qt runs offscreen: the machine and CI have no display."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the real user's data folder or a system configuration.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="kiosk-test-xdg-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], ignore_errors=True)
os.environ.pop("KIOSK_CONFIG", None)


import pytest  # noqa: E402 - after the environment above is set


@pytest.fixture
def start_central(tmp_path):
    """Starts reference central servers on 127.0.0.1 (``CentralServer`` arguments as
    keywords, ``kiosks`` first); each is stopped after the test. The first one keeps its
    database at ``tmp_path / "central.db"``."""
    from central.server import CentralServer

    servers = []

    def start(kiosks, **kwargs):
        name = "central.db" if not servers else f"central-{len(servers)}.db"
        server = CentralServer(tmp_path / name, kiosks=kiosks, **kwargs)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
