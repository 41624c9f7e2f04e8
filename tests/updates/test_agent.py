"""The kiosk's update agent against a real central on 127.0.0.1: what it refuses (a
tampered wheel, a bad signature, an older version, a menu key used as a release key, a
version it may not update from), that nothing it refuses touches the running slot, and a
download cut in the middle resuming where it stopped."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from link import WeakLink
from update_helpers import ADMIN_TOKEN, GROUP, MENU_KEY, RELEASE_KEY

from admin.central_client import AdminClient
from admin.release import upload_and_publish
from central.server import CentralServer
from contract.release import sign_release
from contract.signing import sign_menu
from updater.agent import UpdateAgent
from updater.errors import DownloadError
from updater.fetch import WheelFetcher
from updater.layout import BASE, Layout

KIOSK, TOKEN = "ZJ-HZ-0042", "kiosk-token-agent-0123"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-Kiosk-Id": KIOSK}


@pytest.fixture
def central(tmp_path) -> Iterator[CentralServer]:
    # No release keys on this central: it stores what it is given, so that the kiosk's own
    # checks are what is tested here.
    srv = CentralServer(tmp_path / "central.db", kiosks={KIOSK: {"token": TOKEN,
                                                                 "group": GROUP}},
                        admins={"county": {"token": ADMIN_TOKEN}})
    srv.start()
    yield srv
    srv.stop()


def _wheel(folder: Path, name: str, size: int) -> dict:
    data = os.urandom(size)
    (folder / name).write_bytes(data)
    return {"name": name, "size": size, "sha256": hashlib.sha256(data).hexdigest()}


def _offer(central, tmp_path, version: str = "0.2.0", size: int = 5000, *, key=RELEASE_KEY[0],
           key_id: str = "release-2026", change=None, min_from: str = "0") -> dict:
    wheel = _wheel(tmp_path, f"village_kiosk-{version}-py3-none-any.whl", size)
    manifest = {"version": version, "project": "village-kiosk", "min_from": min_from,
                "notes": "", "wheels": [wheel]}
    signed = sign_release(manifest, key, key_id)
    if change is not None:
        change(signed)
    client = AdminClient(central.url, ADMIN_TOKEN)
    upload_and_publish(client, signed, tmp_path)
    client.rollout(version, 100, group=GROUP)
    return wheel


def _agent(tmp_path, url: str, running: str = "0.1.0", **fetcher) -> UpdateAgent:
    layout = Layout(tmp_path / "updates")
    return UpdateAgent(layout, WheelFetcher(url, HEADERS, **fetcher), KIOSK,
                       {"release-2026": RELEASE_KEY[1]}, running)


def _refused_with(agent: UpdateAgent, words: str) -> None:
    assert agent.check() == "refused"
    note = (agent.layout.agent_file.read_text())
    assert words in note, note
    assert agent.layout.current_version() == BASE  # the running slot is untouched
    assert not [p for p in agent.layout.slots.iterdir()]


def test_nothing_offered(central, tmp_path):
    assert _agent(tmp_path, central.url).check() == "none"


def test_a_tampered_wheel_is_refused_and_not_kept(central, tmp_path):
    wheel = _offer(central, tmp_path, size=3000)
    central.store.put_wheel_chunk(wheel["sha256"], 0, os.urandom(3000))  # changed on the way
    agent = _agent(tmp_path, central.url)
    _refused_with(agent, "SHA-256 does not match")
    assert list(agent.layout.cache.iterdir()) == []


def test_a_bad_signature_is_refused(central, tmp_path):
    _offer(central, tmp_path, change=lambda s: s["release"].update(notes="changed"))
    _refused_with(_agent(tmp_path, central.url), "does not verify")


def test_a_menu_key_cannot_sign_a_release(central, tmp_path):
    _offer(central, tmp_path, key=MENU_KEY[0], key_id="menu-2026")
    _refused_with(_agent(tmp_path, central.url), "not a trusted release key")


def test_a_menu_signature_never_verifies_as_a_release(central, tmp_path):
    # Even a release key's signature over the bare manifest (as menus are signed) fails.
    def menu_style(signed):
        signed["signature"] = sign_menu(signed["release"], RELEASE_KEY[0],
                                        "release-2026")["signature"]
    _offer(central, tmp_path, change=menu_style)
    _refused_with(_agent(tmp_path, central.url), "does not verify")


def test_an_older_version_is_refused(central, tmp_path):
    _offer(central, tmp_path, version="0.2.0")
    _refused_with(_agent(tmp_path, central.url, running="0.3.0"), "older than the running")


def test_a_version_that_may_not_update_from_this_one_is_refused(central, tmp_path):
    _offer(central, tmp_path, version="0.9.0", min_from="0.5.0")
    _refused_with(_agent(tmp_path, central.url, running="0.1.0"), "cannot update from")


def test_a_cut_download_resumes_where_it_stopped(central, tmp_path):
    size = 3 * 1024 * 1024 + 777
    wheel = _offer(central, tmp_path, size=size)
    link = WeakLink(central.port, cut_after=size // 2)
    try:
        fetcher = WheelFetcher(link.url, HEADERS)
        cache = tmp_path / "cache"
        cache.mkdir()
        with pytest.raises(DownloadError, match="cut after"):
            fetcher.fetch(cache, wheel)
        kept = (cache / f"{wheel['sha256']}.part").stat().st_size
        assert 0 < kept < size and link.cuts == 1
        before = link.bytes_down
        path = fetcher.fetch(cache, wheel)
        assert path.read_bytes() == (tmp_path / wheel["name"]).read_bytes()
        assert link.bytes_down - before < size - kept + 64 * 1024  # only the rest, + headers
        fetched_again = link.bytes_down
        assert fetcher.fetch(cache, wheel) == path and link.bytes_down == fetched_again
    finally:
        link.close()
