"""Where updates live on disk, under one root (``updates.root``, default
``<data_dir>/updates``)::

    cache/<sha256>            wheels, named by content (``.part`` while downloading)
    slots/<version>/venv      one virtual environment per installed version
    current -> slots/<v>      the slot the guard starts (absent: the base install)
    state.json                the guard's state (``updater.state``)
    agent.json                what the agent in the kiosk is doing (for the heartbeat)
    heartbeat-ok              touched by the running kiosk after each good heartbeat
    switch-request            the agent asks the guard to switch at the next start
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BASE = "base"  # the version name of "no slot": the install the guard itself runs from


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def slots(self) -> Path:
        return self.root / "slots"

    @property
    def current(self) -> Path:
        return self.root / "current"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    @property
    def agent_file(self) -> Path:
        return self.root / "agent.json"

    @property
    def heartbeat_ok(self) -> Path:
        return self.root / "heartbeat-ok"

    @property
    def switch_request(self) -> Path:
        return self.root / "switch-request"

    def slot(self, version: str) -> Path:
        return self.slots / version

    def python(self, version: str) -> Path:
        return self.slot(version) / "venv" / "bin" / "python"

    def prepare(self) -> None:
        for folder in (self.root, self.cache, self.slots):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)

    def current_version(self) -> str:
        """The version ``current`` points at, or ``BASE``."""
        try:
            target = os.readlink(self.current)
        except OSError:
            return BASE
        version = Path(target).name
        return version if self.python(version).exists() else BASE

    def point_current(self, version: str) -> None:
        """Make ``current`` name ``version`` (``BASE``: remove it) in one atomic rename."""
        if version == BASE:
            try:
                self.current.unlink()
            except FileNotFoundError:
                pass
        else:
            tmp = self.root / f".current-{os.getpid()}"
            try:
                tmp.unlink()
            except FileNotFoundError:
                pass
            os.symlink(os.path.join("slots", version), tmp)
            os.replace(tmp, self.current)
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
