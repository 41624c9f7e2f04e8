"""The kiosk's side of software updates (issue #15, docs/UPDATES.md), Qt-free: the update
agent built from the configuration, the loop that checks on schedule or on a
``check_update`` command, and the heartbeat's ``update`` member and ``command_results``.

The switch itself is the guard's (``updater.guard``); the kiosk only asks for it between
visits (``kiosk.shell.update_switch``) and exits with 75.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiosk import __version__
from kiosk.config import Config
from updater.agent import UpdateAgent, heartbeat_member, mark_heartbeat_ok
from updater.layout import Layout
from uplink.loop import BackgroundLoop

log = logging.getLogger(__name__)

READY_RECHECK_S = 60.0  # a built slot waiting for its window looks at the clock this often


def update_root(config: Config) -> Path:
    return config.updates.root or config.kiosk.data_dir / "updates"


def enabled(config: Config) -> bool:
    return config.updates.enabled and bool(config.central.url)


def in_window(window: str, now: dt.datetime) -> bool:
    """True when ``now`` (local time) is inside ``"HH:MM-HH:MM"``; a window may span
    midnight (``"23:00-02:00"``)."""
    start_text, end_text = window.split("-")
    start = dt.time.fromisoformat(start_text)
    end = dt.time.fromisoformat(end_text)
    t = now.time()
    return start <= t < end if start <= end else (t >= start or t < end)


def make_agent(config: Config) -> UpdateAgent:
    from updater.fetch import WheelFetcher

    c = config.central
    token = c.token_file.read_text("utf-8").strip() if c.token_file else ""
    headers = {"Authorization": f"Bearer {token}", "X-Kiosk-Id": config.kiosk.id}
    fetcher = WheelFetcher(c.url, headers, verify=str(c.ca_file) if c.ca_file else True)
    return UpdateAgent(Layout(update_root(config)), fetcher, config.kiosk.id, c.release_keys,
                       __version__, inherit_site=config.updates.inherit_site)


class UpdateLoop(BackgroundLoop):
    """Checks for a release every ``check_s``; when a slot is ready and the maintenance
    window is open (or a command said "now"), calls ``on_switch_wanted`` (the GUI then
    switches between visits)."""

    round_name = "update check"

    def __init__(self, agent: UpdateAgent, check_s: float, window: str,
                 on_switch_wanted: Callable[[], None],
                 clock: Callable[[], dt.datetime] = dt.datetime.now) -> None:
        super().__init__(check_s, name="update-check")
        self.agent = agent
        self.window = window
        self.on_switch_wanted = on_switch_wanted
        self.clock = clock
        self._now = threading.Event()
        self._lock = threading.Lock()
        self._waiting: list[Callable[[str, str], None]] = []  # check_update commands' ``done``

    def check_now(self, switch_now: bool = False,
                  done: Callable[[str, str], None] | None = None) -> None:
        """Check at once (the fleet's ``check_update``); ``done(status, detail)`` is called
        from the loop's thread after the check, ``switch_now`` skips the maintenance window.
        The fleet's command book (``uplink.commands``) runs each command id once."""
        if switch_now:
            self._now.set()
        if done is not None:
            with self._lock:
                self._waiting.append(done)
        self.wake()

    def run_round(self) -> None:
        with self._lock:
            waiting, self._waiting = self._waiting, []
        outcome = self.agent.check()
        for done in waiting:
            done("failed" if outcome == "failed" else "done", outcome)
        if self.agent.ready_version() is not None and (
                self._now.is_set() or in_window(self.window, self.clock())):
            self._now.clear()
            self.on_switch_wanted()

    def next_wait(self) -> float:
        return READY_RECHECK_S if self.agent.ready_version() is not None else self.interval_s


class UpdateReport:
    """What the heartbeat says about updates, and the heartbeat-ok mark for the guard."""

    def __init__(self, config: Config, loop: UpdateLoop | None = None) -> None:
        self.layout = Layout(update_root(config))
        self.loop = loop

    def add_to(self, body: dict[str, Any]) -> dict[str, Any]:
        body["update"] = heartbeat_member(self.layout, __version__)
        return body

    def heartbeat_ok(self, response: Any) -> None:
        self.layout.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        mark_heartbeat_ok(self.layout, __version__)
