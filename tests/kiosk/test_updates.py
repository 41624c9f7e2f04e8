"""The kiosk's update loop (kiosk.updates): the maintenance window, a check_update command
run once by id and answered in the next heartbeat, and "switch now" past the window."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from kiosk.updates import UpdateLoop, in_window


@pytest.mark.parametrize("window, hhmm, inside", [
    ("02:00-05:00", "02:00", True), ("02:00-05:00", "04:59", True),
    ("02:00-05:00", "05:00", False), ("02:00-05:00", "12:00", False),
    ("23:00-02:00", "23:30", True), ("23:00-02:00", "01:00", True),
    ("23:00-02:00", "03:00", False),
])
def test_maintenance_window(window, hhmm, inside):
    now = dt.datetime.fromisoformat(f"2026-12-03T{hhmm}:00")
    assert in_window(window, now) is inside


class StubAgent:
    def __init__(self):
        self.checks = 0
        self.ready = False

    def check(self):
        self.checks += 1
        self.ready = True
        return "ready"

    def ready_version(self):
        return ("0.2.0", 1) if self.ready else None


def _loop(agent, switched, hour: int) -> UpdateLoop:
    return UpdateLoop(agent, 3600, "02:00-05:00", switched.set,
                      clock=lambda: dt.datetime(2026, 12, 3, hour, 0))


def test_a_ready_slot_waits_for_the_window():
    agent, switched = StubAgent(), threading.Event()
    loop = _loop(agent, switched, hour=12)
    loop.run_round()
    assert agent.checks == 1 and not switched.is_set()
    _loop(agent, switched, hour=3).run_round()
    assert switched.is_set()


def test_check_update_reports_once_and_can_switch_now():
    agent, switched = StubAgent(), threading.Event()
    loop = _loop(agent, switched, hour=12)
    results = []
    loop.check_now(switch_now=True, done=lambda status, detail: results.append((status, detail)))
    loop.run_round()
    assert switched.is_set() and agent.checks == 1
    assert results == [("done", "ready")]
    loop.run_round()  # a scheduled round answers no command again
    assert results == [("done", "ready")] and agent.checks == 2
