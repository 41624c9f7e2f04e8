"""The update guard: the small supervisor between systemd and the kiosk (issue #15).

``python -m updater.guard --root DIR [--trial-s S] -- ARGS`` starts ``<slot>/venv/bin/python
-m kiosk ARGS`` for the slot ``current`` names (or its own interpreter's kiosk when there is
none), relays the kiosk's sd_notify messages to systemd, and switches slots:

1. A switch is asked for by the agent (``switch-request``) and done here at a start: the
   trial is written to ``state.json`` first, then ``current`` is renamed to the new slot.
2. The new version must send ``READY=1`` and, when the old version reached the central in
   the last ``--heartbeat-window-s``, report one good heartbeat (``heartbeat-ok`` naming
   its version) within ``--trial-s``. Then the trial is committed.
3. Otherwise (it exits, hangs, never gets a heartbeat through) it is stopped, ``current``
   goes back to the previous slot, the rollback and its reason are written for the
   heartbeat, the version is refused for that rollout, and the previous slot starts.
4. A trial found in ``state.json`` when the guard starts means the guard was killed during
   a switch: the previous slot comes back the same way.

The guard runs from the base installation, never from a slot, so no update replaces the
code that supervises it. Exit code 75 of the kiosk (a restart, e.g. to switch) starts it
again here; any other exit ends the guard with that code, for systemd to act on.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .layout import BASE, Layout
from .notify import NotifyRelay
from .slots import remove_old_slots
from .state import UpdateState, read_json

log = logging.getLogger("updater.guard")

RESTART = 75
ROLLED_BACK = -1
STOP_GRACE_S = 10.0


class Guard:
    def __init__(self, layout: Layout, kiosk_args: Sequence[str], *, trial_s: float = 180.0,
                 heartbeat_window_s: float = 900.0, clock: Callable[[], float] = time.time,
                 base_python: str = sys.executable) -> None:
        self.layout = layout
        self.kiosk_args = list(kiosk_args)
        self.trial_s = trial_s
        self.heartbeat_window_s = heartbeat_window_s
        self.clock = clock
        self.base_python = base_python
        self.child: subprocess.Popen | None = None
        self.stopping = False

    # -- state transitions -----------------------------------------------------------------

    def recover(self) -> None:
        """A trial left by a killed guard: the previous slot comes back."""
        state = UpdateState.load(self.layout.state_file)
        if state.trial is not None:
            self.rollback(state, "interrupted during the switch")

    def maybe_switch(self) -> dict[str, Any] | None:
        """Do the switch the agent asked for, if its slot is ready; the trial, or None."""
        request = read_json(self.layout.switch_request)
        if not request:
            return None
        version, rollout = str(request.get("version")), request.get("rollout")
        state = UpdateState.load(self.layout.state_file)
        current = self.layout.current_version()
        if (version == current or not self.layout.python(version).exists()
                or (version in state.refused and state.refused[version] == rollout)):
            log.warning("switch to %s not done (running %s, slot ready: %s)", version, current,
                        self.layout.python(version).exists())
            self.layout.switch_request.unlink(missing_ok=True)
            return None
        now = self.clock()
        state.trial = {"version": version, "previous": current, "rollout": rollout,
                       "started_at": now, "need_heartbeat": self._heartbeat_recent(now)}
        state.save(self.layout.state_file)  # first the trial, then the switch
        self.layout.point_current(version)
        self.layout.switch_request.unlink(missing_ok=True)
        log.info("switched from %s to %s; on trial for %.0f s", current, version, self.trial_s)
        return state.trial

    def _heartbeat_recent(self, now: float) -> bool:
        try:
            return now - self.layout.heartbeat_ok.stat().st_mtime <= self.heartbeat_window_s
        except FileNotFoundError:
            return False

    def commit(self, trial: dict[str, Any]) -> None:
        state = UpdateState.load(self.layout.state_file)
        state.trial, state.healthy = None, trial["version"]
        state.save(self.layout.state_file)
        remove_old_slots(self.layout, {trial["version"], trial["previous"]})
        log.info("version %s is healthy", trial["version"])

    def rollback(self, state: UpdateState, reason: str) -> None:
        trial = state.trial or {}
        previous = trial.get("previous", BASE)
        self.layout.point_current(previous)  # first the slot, then the state
        state.rolled_back = {"version": trial.get("version"), "reason": reason,
                             "at": self.clock(), "rollout": trial.get("rollout"),
                             "back_to": previous}
        state.refused[str(trial.get("version"))] = trial.get("rollout")
        state.trial = None
        state.save(self.layout.state_file)
        log.error("version %s rolled back to %s: %s", trial.get("version"), previous, reason)

    # -- the child -----------------------------------------------------------------------

    def command(self) -> list[str]:
        version = self.layout.current_version()
        python = self.base_python if version == BASE else str(self.layout.python(version))
        return [python, "-m", "kiosk", *self.kiosk_args]

    def run(self) -> int:
        self.layout.prepare()
        self.recover()
        # A short path (AF_UNIX allows 108 bytes): systemd's RuntimeDirectory, or /tmp.
        folder = os.environ.get("RUNTIME_DIRECTORY") or tempfile.mkdtemp(prefix="kiosk-guard-")
        relay = NotifyRelay(Path(folder) / "notify.sock")
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        try:
            while True:
                trial = self.maybe_switch()
                code = self.run_child(relay, trial)
                if self.stopping or code not in (RESTART, ROLLED_BACK):
                    return code
        finally:
            relay.close()

    def _on_term(self, signum: int, _frame: Any) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def run_child(self, relay: NotifyRelay, trial: dict[str, Any] | None) -> int:
        env = {**os.environ, "NOTIFY_SOCKET": str(relay.path),
               "KIOSK_UPDATE_ROOT": str(self.layout.root)}
        env.pop("WATCHDOG_PID", None)
        if self.layout.current_version() != BASE:
            env.pop("PYTHONPATH", None)  # a slot runs its own code, nothing from outside
        cmd = self.command()
        log.info("starting %s", " ".join(cmd))
        # cwd: ``python -m`` puts the working folder first on sys.path; the root holds no code.
        self.child = subprocess.Popen(cmd, env=env, cwd=self.layout.root)
        ready = False
        while True:
            message = relay.receive()
            if message:
                ready = ready or message.get("READY") == "1"
                relay.send_up(**message)
            code = self.child.poll()
            if trial is None:
                if code is not None:
                    return code
                continue
            if code is not None:
                return self._fail(trial, f"exited with code {code} before it was healthy")
            if ready and (not trial["need_heartbeat"] or self._heartbeat_from(trial)):
                self.commit(trial)
                trial = None
            elif self.clock() - trial["started_at"] > self.trial_s:
                self._stop_child()
                missing = "no READY=1" if not ready else "no successful heartbeat"
                return self._fail(trial, f"{missing} within {self.trial_s:.0f} s")

    def _heartbeat_from(self, trial: dict[str, Any]) -> bool:
        marker = self.layout.heartbeat_ok
        try:
            return (marker.stat().st_mtime >= trial["started_at"] - 1
                    and marker.read_text("utf-8").strip() == trial["version"])
        except OSError:
            return False

    def _fail(self, trial: dict[str, Any], reason: str) -> int:
        self._stop_child()
        self.rollback(UpdateState.load(self.layout.state_file), reason)
        return ROLLED_BACK

    def _stop_child(self) -> None:
        child = self.child
        if child is None or child.poll() is not None:
            return
        child.terminate()
        try:
            child.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="kiosk-update-guard", description=__doc__.split("\n")[0])
    p.add_argument("--root", required=True, help="the updates folder (updates.root)")
    p.add_argument("--trial-s", type=float, default=180.0)
    p.add_argument("--heartbeat-window-s", type=float, default=900.0)
    p.add_argument("kiosk_args", nargs=argparse.REMAINDER, help="-- then kiosk's arguments")
    args = p.parse_args(argv)
    kiosk_args = args.kiosk_args[1:] if args.kiosk_args[:1] == ["--"] else args.kiosk_args
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    guard = Guard(Layout(Path(args.root)), kiosk_args or ["run"], trial_s=args.trial_s,
                  heartbeat_window_s=args.heartbeat_window_s)
    return guard.run()


if __name__ == "__main__":
    sys.exit(main())
