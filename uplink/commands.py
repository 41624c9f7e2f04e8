"""Commands from the fleet (central-api.md section 3), free of Qt: what a heartbeat's answer
asks, which of those this kiosk has already taken, and the results for the next heartbeat.

The central sends a command with every heartbeat answer until the kiosk reports it; the
kiosk runs each id once. ``CommandBook`` remembers the ids it took and the results not yet
reported in one small file in the data folder, so neither is lost to a restart (the
``restart`` command reports after the kiosk is back).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.atomic import write_atomic
from uplink.errors import UploadRefused

log = logging.getLogger(__name__)

DONE, REFUSED, FAILED = "done", "refused", "failed"
SEEN_KEPT = 500  # ids remembered: far more than a central keeps open for one kiosk


@dataclass(frozen=True)
class Command:
    id: str
    type: str
    args: dict[str, Any] = field(default_factory=dict)


def parse_commands(doc: Any) -> list[Command]:
    """The ``commands`` of a heartbeat's answer; an entry without an id cannot be answered
    and is logged and left out, one of an unknown or missing type is kept (refused later)."""
    found = doc.get("commands") if isinstance(doc, dict) else None
    if not isinstance(found, list):
        return []
    out = []
    for item in found:
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            log.warning("a command without an id is ignored")
            continue
        kind = item.get("type") if isinstance(item.get("type"), str) else ""
        args = item.get("args") if isinstance(item.get("args"), dict) else {}
        out.append(Command(item["id"][:64], kind, args))
    return out


class CommandBook:
    """The ids taken (with their outcome once known) and the results waiting for a
    heartbeat, kept in ``path``. Safe from any thread; nothing is read before first use."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._seen: dict[str, dict[str, str] | None] | None = None  # id -> its result
        self._results: list[dict[str, str]] = []

    def take(self, command: Command) -> bool:
        """True the first time this id is seen (the kiosk runs it now), False after; a
        repeat of a finished command reports its result again (the central missed it)."""
        with self._lock:
            seen = self._load()
            if command.id in seen:
                known = seen[command.id]
                if known is not None and all(r["id"] != command.id for r in self._results):
                    self._results.append(dict(known))
                    self._save()
                return False
            seen[command.id] = None
            for old in list(seen)[:-SEEN_KEPT]:
                del seen[old]
            self._save()
            return True

    def finish(self, command_id: str, status: str, detail: str = "") -> None:
        """Keep ``status`` (done, refused, failed) for the next heartbeat."""
        result = {"id": command_id, "status": status, "detail": detail[:500]}
        with self._lock:
            self._load()[command_id] = result
            self._results = [r for r in self._results if r["id"] != command_id]
            self._results.append(dict(result))
            self._save()
        log.info("command %s: %s%s", command_id, status, f" ({detail})" if detail else "")

    def unreported(self) -> list[dict[str, str]]:
        with self._lock:
            self._load()
            return [dict(r) for r in self._results]

    def reported(self, ids: set[str]) -> None:
        """The central has these results (a heartbeat carrying them was answered 2xx)."""
        if not ids:
            return
        with self._lock:
            self._load()
            self._results = [r for r in self._results if r["id"] not in ids]
            self._save()

    def _load(self) -> dict[str, dict[str, str] | None]:
        if self._seen is not None:
            return self._seen
        self._seen = {}
        try:
            doc = json.loads(self.path.read_text("utf-8"))
            self._seen = {str(k): v for k, v in dict(doc.get("seen", {})).items()}
            self._results = [r for r in doc.get("results", [])
                             if isinstance(r, dict) and {"id", "status"} <= set(r)]
        except FileNotFoundError:
            pass
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            log.error("%s is unreadable (%s): commands already run may run again", self.path,
                      type(exc).__name__)
        return self._seen

    def _save(self) -> None:
        doc = {"seen": self._seen, "results": self._results}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(self.path, json.dumps(doc).encode("utf-8"))
        except OSError as exc:  # a full disk: the book still works until the restart
            log.error("cannot write %s: %s", self.path, exc)


class CommandExchange:
    """The heartbeat's half: results into the payload, commands out of the answer."""

    def __init__(self, book: CommandBook, on_commands: Callable[[list[Command]], None]):
        self.book = book
        self._on_commands = on_commands

    def add_results(self, payload: dict) -> dict:
        results = self.book.unreported()
        if results:
            payload["command_results"] = results
        return payload

    def answered(self, payload: dict, status: int, doc: Any) -> None:
        """A heartbeat was answered ``status`` with the JSON ``doc`` (None: no body)."""
        if not 200 <= status < 300:
            return
        self.book.reported({r["id"] for r in payload.get("command_results", ())})
        commands = parse_commands(doc)
        if commands:
            self._on_commands(commands)


class FileSender:
    """Uploads a command's file to its ``upload_path`` with a client of its own, made on
    first use by ``make_client()`` (one thread uses it: the fleet commands' executor)."""

    def __init__(self, make_client: Callable[[], Any]) -> None:
        self._make_client = make_client
        self._client: Any = None

    def __call__(self, path: str, data: bytes, content_type: str) -> str:
        if self._client is None:
            self._client = self._make_client()
        response = self._client.post_upload(path, data, content_type)
        if not 200 <= response.status < 300:
            raise UploadRefused(f"upload answered HTTP {response.status}: "
                                f"{response.text(200)}")
        return f"{len(data)} bytes uploaded"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
