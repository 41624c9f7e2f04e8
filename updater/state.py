"""The guard's state file (``state.json``, written by the guard only): what is on trial,
what rolled back and why, and the versions not to try again until an admin publishes them
again. The agent in the kiosk writes its own file (``agent.json``), so the two processes
never overwrite each other. Written whole (a power cut leaves the old or the new file)."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from contract.atomic import write_atomic

log = logging.getLogger(__name__)


@dataclass
class UpdateState:
    #: ``{"version", "previous", "rollout", "started_at", "need_heartbeat"}`` while a
    #: switched-to version has not yet proved healthy; found at a guard start, it means the
    #: guard was killed during the switch: the previous slot comes back.
    trial: dict[str, Any] | None = None
    #: The last rollback: ``{"version", "reason", "at", "rollout"}``.
    rolled_back: dict[str, Any] | None = None
    #: version -> the rollout id it failed in; that rollout is not tried again.
    refused: dict[str, Any] = field(default_factory=dict)
    #: The last version that proved healthy after a switch.
    healthy: str | None = None

    @classmethod
    def load(cls, path: Path) -> UpdateState:
        try:
            doc = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return cls()
        except (OSError, ValueError) as exc:
            log.error("%s unreadable (%s): starting from an empty update state", path, exc)
            return cls()
        known = {k: v for k, v in doc.items() if k in cls.__dataclass_fields__}
        return cls(**known)

    def save(self, path: Path) -> None:
        write_atomic(path, json.dumps(asdict(self), indent=1, sort_keys=True).encode())


def read_json(path: Path) -> dict[str, Any]:
    """A small JSON object file, or ``{}`` when absent or unreadable."""
    try:
        doc = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return doc if isinstance(doc, dict) else {}


def write_json(path: Path, doc: dict[str, Any]) -> None:
    write_atomic(path, json.dumps(doc, sort_keys=True).encode())
