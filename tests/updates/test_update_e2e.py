"""Issue #15 end to end, with real releases, real processes and real HTTP on 127.0.0.1:
an admin builds this checkout at a bumped version, signs it and rolls it out to 1 % of a
group; the kiosk in that percent (the real ``kiosk run``, offscreen, under the real
``updater.guard``) downloads it, switches between visits and reports the new version,
healthy. Then a release whose kiosk dies at start is rolled back by itself, reported in the
heartbeat and in the rollout's status, and not tried again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from update_helpers import (
    ADMIN_TOKEN,
    GROUP,
    RELEASE_KEY,
    GuardProcess,
    build_release,
    dumps,
    kiosk_config,
    latest,
    one_percent_kiosk,
    publish,
    wait_for,
)

from admin.central_client import AdminClient
from central.server import CentralServer
from updater.layout import Layout
from updater.state import UpdateState

TOKEN = "kiosk-token-updates-0123"


@pytest.fixture
def central(tmp_path) -> Iterator[CentralServer]:
    kiosk_id = one_percent_kiosk()
    fleet = {kiosk_id: {"token": TOKEN, "group": GROUP},
             "ZJ-HZ-OTHER": {"token": "other-token-0123456789", "group": GROUP}}
    srv = CentralServer(tmp_path / "central.db", kiosks=fleet,
                        admins={"county": {"token": ADMIN_TOKEN}},
                        release_keys={"release-2026": RELEASE_KEY[1]})
    srv.start()
    srv.kiosk_id = kiosk_id
    yield srv
    srv.stop()


def test_rollout_to_one_percent_turns_healthy_and_a_broken_release_rolls_back(
        tmp_path, central):
    kiosk_id = central.kiosk_id
    good = build_release(tmp_path / "r020", "0.2.0")
    broken = build_release(tmp_path / "r030", "0.3.0", broken=True)
    config = kiosk_config(tmp_path, kiosk_id, central.url, TOKEN)
    guard = GuardProcess(tmp_path, config)
    try:
        wait_for(lambda: latest(central, kiosk_id).get("app_version") == "0.1.0", 90,
                 lambda: f"the base kiosk never reported:\n{guard.output()[-3000:]}")
        rollout = publish(central.url, good, tmp_path / "r020" / "wheels", percent=1)
        assert rollout["percent"] == 1.0
        beat = wait_for(lambda: _running(central, kiosk_id, "0.2.0", "healthy"), 180,
                        lambda: f"0.2.0 never turned healthy: {dumps(latest(central, kiosk_id))}"
                        f"\n{guard.output()[-3000:]}")
        assert beat["update"]["rolled_back"] is None
        status = AdminClient(central.url, ADMIN_TOKEN).releases()["rollouts"][0]
        assert (status["version"], status["offered"], status["healthy"]) == ("0.2.0", 1, 1)

        publish(central.url, broken, tmp_path / "r030" / "wheels", percent=100)
        beat = wait_for(lambda: _rolled_back(central, kiosk_id, "0.3.0"), 240,
                        lambda: f"0.3.0 was not rolled back: {dumps(latest(central, kiosk_id))}"
                        f"\n{guard.output()[-3000:]}")
        assert beat["app_version"] == "0.2.0"
        assert "exited with code" in beat["update"]["rolled_back"]["reason"]
        status = AdminClient(central.url, ADMIN_TOKEN).releases()["rollouts"][0]
        assert (status["version"], status["rolled_back"]) == ("0.3.0", 1)
        assert status["rollback_reasons"][0]["kiosk_id"] == kiosk_id
        state = UpdateState.load(Layout(tmp_path / "updates").state_file)
        assert state.refused == {"0.3.0": status["id"]} and state.trial is None
        wait_for(lambda: latest(central, kiosk_id).get("update", {}).get("state") == "refused",
                 60, lambda: f"not reported refused: {dumps(latest(central, kiosk_id))}")
    finally:
        code = guard.stop()
    assert code == 0, guard.output()[-3000:]


def _running(central, kiosk_id: str, version: str, state: str):
    beat = latest(central, kiosk_id)
    ok = beat.get("app_version") == version and beat.get("update", {}).get("state") == state
    return beat if ok else None


def _rolled_back(central, kiosk_id: str, version: str):
    beat = latest(central, kiosk_id)
    rolled = (beat.get("update") or {}).get("rolled_back") or {}
    return beat if rolled.get("version") == version and beat.get("app_version") else None
