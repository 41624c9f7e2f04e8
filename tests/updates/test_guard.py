"""The update guard as systemd runs it (a real process, real sd_notify datagrams), over
stand-in slots: the health gate, the rollback for each kind of failure, and a guard killed
at every step of a switch coming back on a working slot."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from updater.layout import Layout
from updater.state import UpdateState

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def make_slot(layout: Layout, version: str, behaviour: str) -> None:
    """A slot whose "python" starts the stand-in kiosk with this version and behaviour."""
    python = layout.python(version)
    python.parent.mkdir(parents=True)
    python.write_text(f"#!/bin/sh\nexec {sys.executable} {HERE / 'fake_kiosk.py'} "
                      f"{version} {behaviour}\n")
    python.chmod(0o755)


def start_guard(layout: Layout, trial_s: float = 30) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NOTIFY_SOCKET", None)
    return subprocess.Popen([sys.executable, "-m", "updater.guard", "--root", str(layout.root),
                             "--trial-s", str(trial_s), "--", "run"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def starts(layout: Layout) -> list[str]:
    path = layout.root / "starts"
    return path.read_text().split() if path.exists() else []


def wait_until(check, proc: subprocess.Popen, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"not reached; guard said:\n{_stop(proc)}")


def _stop(proc: subprocess.Popen) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
    return proc.stdout.read().decode(errors="replace")


@pytest.fixture
def layout(tmp_path) -> Layout:
    layout = Layout(tmp_path / "updates")
    layout.prepare()
    make_slot(layout, "1.0", "good")
    layout.point_current("1.0")
    # The old version reached the central a moment ago: the new one must, too.
    layout.heartbeat_ok.write_text("1.0")
    return layout


def request(layout: Layout, version: str, rollout: int = 7) -> None:
    layout.switch_request.write_text(json.dumps({"version": version, "rollout": rollout}))


def test_a_healthy_new_version_is_committed(layout):
    make_slot(layout, "2.0", "good")
    request(layout, "2.0")
    guard = start_guard(layout)
    try:
        wait_until(lambda: UpdateState.load(layout.state_file).healthy == "2.0", guard)
        assert layout.current_version() == "2.0" and starts(layout) == ["2.0"]
        assert UpdateState.load(layout.state_file).trial is None
    finally:
        out = _stop(guard)
    assert guard.returncode == 0, out


@pytest.mark.parametrize("behaviour, reason", [
    ("crash", "exited with code 3 before it was healthy"),
    ("hang", "no READY=1 within 3 s"),
    ("offline", "no successful heartbeat within 3 s"),
])
def test_a_failing_new_version_rolls_back_by_itself(layout, behaviour, reason):
    make_slot(layout, "2.0", behaviour)
    request(layout, "2.0", rollout=7)
    guard = start_guard(layout, trial_s=3)
    try:
        wait_until(lambda: starts(layout) == ["2.0", "1.0"], guard)
        state = UpdateState.load(layout.state_file)
        assert layout.current_version() == "1.0"
        assert state.rolled_back["version"] == "2.0" and state.rolled_back["reason"] == reason
        assert state.refused == {"2.0": 7} and state.trial is None
        request(layout, "2.0", rollout=7)  # the same rollout again: not retried
    finally:
        _stop(guard)
    guard = start_guard(layout, trial_s=3)
    try:
        wait_until(lambda: starts(layout)[-1:] == ["1.0"] and len(starts(layout)) == 3, guard)
        assert layout.current_version() == "1.0"
    finally:
        _stop(guard)


def test_without_a_recent_heartbeat_ready_is_enough(layout):
    layout.heartbeat_ok.unlink()  # the old version did not reach the central either
    make_slot(layout, "2.0", "offline")
    request(layout, "2.0")
    guard = start_guard(layout, trial_s=20)
    try:
        wait_until(lambda: UpdateState.load(layout.state_file).healthy == "2.0", guard)
    finally:
        _stop(guard)


def _after_trial_written(layout):
    state = UpdateState(trial={"version": "2.0", "previous": "1.0", "rollout": 7,
                               "started_at": time.time(), "need_heartbeat": True})
    state.save(layout.state_file)


def _after_switch(layout):
    _after_trial_written(layout)
    layout.point_current("2.0")


def _after_rollback_swapped_back(layout):
    _after_switch(layout)
    layout.point_current("1.0")


@pytest.mark.parametrize("step", [_after_trial_written, _after_switch,
                                  _after_rollback_swapped_back])
def test_killed_at_a_step_of_the_switch_comes_back_on_the_previous_slot(layout, step):
    make_slot(layout, "2.0", "good")
    step(layout)  # what a kill at this step leaves on disk
    guard = start_guard(layout)
    try:
        wait_until(lambda: starts(layout) == ["1.0"], guard)
        state = UpdateState.load(layout.state_file)
        assert layout.current_version() == "1.0" and state.trial is None
        assert state.rolled_back["reason"] == "interrupted during the switch"
    finally:
        _stop(guard)


def test_sigkill_during_the_trial_then_a_restart_brings_back_the_old_slot(layout):
    make_slot(layout, "2.0", "hang")
    request(layout, "2.0")
    guard = start_guard(layout, trial_s=600)
    wait_until(lambda: starts(layout) == ["2.0"], guard)
    os.killpg(guard.pid, signal.SIGKILL)  # the power goes, guard and kiosk with it
    guard.wait(30)
    assert layout.current_version() == "2.0"  # the switch had happened
    guard = start_guard(layout)
    try:
        wait_until(lambda: starts(layout) == ["2.0", "1.0"], guard)
        assert layout.current_version() == "1.0"
    finally:
        _stop(guard)


def test_a_commit_survives_a_kill(layout):
    make_slot(layout, "2.0", "good")
    UpdateState(healthy="2.0").save(layout.state_file)
    layout.point_current("2.0")
    guard = start_guard(layout)
    try:
        wait_until(lambda: starts(layout) == ["2.0"], guard)
        assert UpdateState.load(layout.state_file).rolled_back is None
    finally:
        _stop(guard)
