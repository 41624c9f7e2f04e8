"""Issue #15's "done when", end to end with real releases, real processes and real HTTP on
127.0.0.1: three real kiosks (``kiosk run``, offscreen, each under the real
``updater.guard``) in one group. An admin rolls this checkout, built at 0.2.0, out to 1 %
of the group: the one kiosk inside that percent downloads it, switches between visits and
reports it healthy while the two outside are not offered it and stay on 0.1.0. The admin
widens it to everyone with ``kiosk-admin release publish --percent 100``: every kiosk
turns healthy on 0.2.0, and ``kiosk-admin release status`` says so. Then a 0.3.0 whose
kiosk dies at start goes to everyone: it rolls back by itself on every kiosk, each
heartbeat says why, ``release status`` counts three rollbacks with their reasons, and
0.3.0 is not tried again. The releases are built once and shared by the kiosks."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from update_helpers import (
    ADMIN_TOKEN,
    GROUP,
    RELEASE_KEY,
    ROOT,
    GuardProcess,
    build_release,
    dumps,
    kiosk_config,
    kiosks_around_one_percent,
    latest,
    publish,
    wait_for,
)

from admin.central_client import AdminClient
from central.server import CentralServer
from contract.release import sign_release
from updater.layout import Layout
from updater.state import UpdateState

INSIDE, OUTSIDE = kiosks_around_one_percent(outside=2)
FLEET = [INSIDE, *OUTSIDE]


def _token(kiosk_id: str) -> str:
    return f"kiosk-token-{kiosk_id.lower()}-0123"


@pytest.fixture
def central(tmp_path) -> Iterator[CentralServer]:
    srv = CentralServer(tmp_path / "central.db",
                        kiosks={k: {"token": _token(k), "group": GROUP} for k in FLEET},
                        admins={"county": {"token": ADMIN_TOKEN}},
                        release_keys={"release-2026": RELEASE_KEY[1]})
    srv.start()
    yield srv
    srv.stop()


class Kiosk:
    """One real kiosk under its guard, in its own folder."""

    def __init__(self, folder: Path, kiosk_id: str, central_url: str) -> None:
        folder.mkdir()
        self.id, self.folder = kiosk_id, folder
        self.guard = GuardProcess(folder, kiosk_config(folder, kiosk_id, central_url,
                                                       _token(kiosk_id)))
        self.layout = Layout(folder / "updates")

    def log(self) -> str:
        return f"--- {self.id}:\n{self.guard.output()[-2500:]}"

    def offered(self, central_url: str) -> int:
        """The HTTP status of this kiosk's release check (204: nothing offered)."""
        return requests.get(f"{central_url}/api/v1/kiosks/{self.id}/release", timeout=30,
                            headers={"Authorization": f"Bearer {_token(self.id)}",
                                     "X-Kiosk-Id": self.id}).status_code


def admin(*args: str) -> str:
    """``kiosk-admin`` as an admin types it."""
    run = subprocess.run([sys.executable, "-m", "admin", *args], capture_output=True,
                         text=True, timeout=300, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_one_percent_then_everyone_then_a_broken_release_rolls_back_everywhere(
        tmp_path, central):
    good = build_release(tmp_path / "r020", "0.2.0")
    broken = build_release(tmp_path / "r030", "0.3.0", broken=True)
    signed = tmp_path / "r020" / "signed.json"
    signed.write_text(json.dumps(sign_release(good, RELEASE_KEY[0], "release-2026")))
    central_args = ["--central", central.url, "--token", ADMIN_TOKEN]
    kiosks = [Kiosk(tmp_path / k, k, central.url) for k in FLEET]
    inside, outside = kiosks[0], kiosks[1:]
    logs = lambda: "\n".join(k.log() for k in kiosks)  # noqa: E731
    try:
        for k in kiosks:
            wait_for(lambda k=k: latest(central, k.id).get("app_version") == "0.1.0", 180,
                     lambda k=k: f"{k.id} never reported 0.1.0:\n{logs()}")

        # 1 % of the group: only the kiosk inside it takes 0.2.0.
        rollout = publish(central.url, good, tmp_path / "r020" / "wheels", percent=1)
        assert rollout["percent"] == 1.0
        beat = wait_for(lambda: _running(central, inside.id, "0.2.0", "healthy"), 240,
                        lambda: f"0.2.0 never turned healthy: "
                        f"{dumps(latest(central, inside.id))}\n{logs()}")
        assert beat["update"]["rolled_back"] is None
        for k in outside:
            assert k.offered(central.url) == 204
            beat = wait_for(lambda k=k: _running(central, k.id, "0.1.0", "idle"), 60,
                            lambda k=k: f"{k.id}: {dumps(latest(central, k.id))}")
            assert beat["update"]["detail"] == "no release offered"
            assert not list(k.layout.cache.glob("*")) and not list(k.layout.slots.glob("*"))
        status = AdminClient(central.url, ADMIN_TOKEN).releases()["rollouts"][0]
        assert (status["version"], status["offered"], status["healthy"]) == ("0.2.0", 1, 1)

        # Widened to everyone, the admin's way.
        out = admin("release", "publish", str(signed), "--wheels",
                    str(tmp_path / "r020" / "wheels"), "--group", GROUP, "--percent", "100",
                    *central_args)
        assert f"release 0.2.0 rolled out to group {GROUP} at 100.0%" in out
        for k in kiosks:
            wait_for(lambda k=k: _running(central, k.id, "0.2.0", "healthy"), 300,
                     lambda k=k: f"{k.id} not healthy on 0.2.0: "
                     f"{dumps(latest(central, k.id))}\n{logs()}")
        assert "0.2.0 to group hangzhou at 100.0%: offered 3, downloading 0, switched 0, " \
               "healthy 3, rolled back 0" in admin("release", "status", *central_args)
        # The kiosk inside the 1 % switched once: widening offered it what it runs.
        assert inside.guard.output().count("to 0.2.0; on trial") == 1, inside.log()

        # A broken 0.3.0 to everyone: it rolls back by itself on every kiosk.
        publish(central.url, broken, tmp_path / "r030" / "wheels", percent=100)
        for k in kiosks:
            beat = wait_for(lambda k=k: _rolled_back(central, k.id, "0.3.0"), 300,
                            lambda k=k: f"0.3.0 was not rolled back on {k.id}: "
                            f"{dumps(latest(central, k.id))}\n{logs()}")
            assert beat["app_version"] == "0.2.0"
            assert "exited with code" in beat["update"]["rolled_back"]["reason"]
        status = AdminClient(central.url, ADMIN_TOKEN).releases()["rollouts"][0]
        assert (status["version"], status["offered"], status["rolled_back"]) == ("0.3.0", 3, 3)
        assert sorted(r["kiosk_id"] for r in status["rollback_reasons"]) == sorted(FLEET)
        assert all("exited with code" in r["reason"] for r in status["rollback_reasons"])
        text = admin("release", "status", *central_args)
        assert "0.3.0 to group hangzhou at 100.0%: offered 3" in text
        assert "rolled back 3" in text and f"  {INSIDE}: exited with code" in text
        for k in kiosks:
            state = UpdateState.load(k.layout.state_file)
            assert state.refused == {"0.3.0": status["id"]} and state.trial is None
            wait_for(lambda k=k: latest(central, k.id).get("update", {}).get("state")
                     == "refused", 60,
                     lambda k=k: f"not reported refused: {dumps(latest(central, k.id))}")
            # Not tried again: one switch to 0.3.0, ever; the cache keeps the running
            # slot's wheels only (nothing older is a slot, 0.3.0 is refused).
            assert k.guard.output().count("to 0.3.0; on trial") == 1, k.log()
            # 0.3.0's slot started from a copy of the running 0.2.0 slot.
            assert "slot 0.3.0 built (copy)" in k.guard.output(), k.log()
            assert {p.name for p in k.layout.cache.iterdir()} == {good["wheels"][0]["sha256"]}
    finally:
        codes = [k.guard.stop() for k in kiosks]
    assert codes == [0, 0, 0], logs()


def _running(central, kiosk_id: str, version: str, state: str):
    beat = latest(central, kiosk_id)
    ok = beat.get("app_version") == version and beat.get("update", {}).get("state") == state
    return beat if ok else None


def _rolled_back(central, kiosk_id: str, version: str):
    beat = latest(central, kiosk_id)
    rolled = (beat.get("update") or {}).get("rolled_back") or {}
    return beat if rolled.get("version") == version and beat.get("app_version") else None
