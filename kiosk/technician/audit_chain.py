"""The audit log's hash chain, and its check (``kiosk diag audit-verify``). Qt-free.

Each entry carries ``prev``, the ``hash`` of the entry before it (across day files; ``""``
for the very first entry), and its own ``hash``: SHA-256 of its canonical JSON without the
``hash`` member. The first entry of a day file also names the day file it follows
(``prev_day``), so pruning (days older than ``keep_days`` are removed) leaves a chain that
still checks: the oldest remaining file may start from a hash nobody holds any more, but only
if the day it follows was old enough to be pruned. A line that is not JSON at all is a write a
power cut tore: noted, and the chain goes on past it. Entries written before the chain
existed (no ``hash``) are counted as ``unchained`` while no chained entry came before them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

GENESIS = ""


def entry_hash(entry: dict) -> str:
    """SHA-256 (hex) of ``entry``'s canonical JSON without its ``hash`` member."""
    body = {k: v for k, v in entry.items() if k != "hash"}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def seal(entry: dict, prev: str) -> dict:
    """``entry`` with ``prev`` and its own ``hash`` added."""
    entry = {**entry, "prev": prev}
    entry["hash"] = entry_hash(entry)
    return entry


def last_entry(path: Path) -> dict | None:
    """The last whole chained entry of one day file (torn and unchained lines skipped)."""
    try:
        lines = path.read_bytes().splitlines()
    except FileNotFoundError:
        return None
    for raw in reversed(lines):
        item = _parse(raw)
        if item is not None and isinstance(item.get("hash"), str):
            return item
    return None


@dataclass
class Verdict:
    """What ``verify`` found: ``intact``, or ``broken_at`` (file, line from 1, problem)."""

    intact: bool = True
    files: int = 0
    entries: int = 0
    unchained: int = 0
    torn: list[dict] = field(default_factory=list)
    broken_at: dict | None = None

    def as_dict(self) -> dict:
        return {"intact": self.intact, "files": self.files, "entries": self.entries,
                "unchained": self.unchained, "torn": self.torn, "broken_at": self.broken_at}


def verify(files: list[tuple[dt.date, Path]], today: dt.date, keep_days: int) -> Verdict:
    """Check the chain through ``files`` (day, path), oldest first; stops at the first break."""
    verdict = Verdict(files=len(files))
    prev: str | None = None  # None: the oldest remaining file's start is accepted
    last_day: dt.date | None = None
    for day, path in files:
        try:
            lines = path.read_bytes().splitlines()
        except OSError as exc:
            return _broken(verdict, path, 0, f"cannot be read ({exc.strerror})")
        first = True
        for number, raw in enumerate(lines, 1):
            entry = _parse(raw)
            if entry is None:
                if raw.strip():
                    verdict.torn.append({"file": path.name, "line": number})
                continue
            if prev is None and "hash" not in entry:
                verdict.unchained += 1  # written before the chain existed
                continue
            problem = _check(entry, prev, first, last_day, today, keep_days)
            if problem:
                return _broken(verdict, path, number, problem)
            prev, first = entry["hash"], False
            verdict.entries += 1
        if not first:
            last_day = day
    return verdict


def _check(entry: dict, prev: str | None, first: bool, last_day: dt.date | None,
           today: dt.date, keep_days: int) -> str:
    if not isinstance(entry.get("hash"), str) or not isinstance(entry.get("prev"), str):
        return "the entry carries no hash chain (prev, hash)"
    if entry_hash(entry) != entry["hash"]:
        return "the entry was altered: its content does not match its hash"
    if first != ("prev_day" in entry):
        return ("the day file's first entry is missing (deleted)" if first else
                "an entry marked as a day's first is not first: entries were moved")
    if prev is not None:
        if entry["prev"] != prev:
            return ("the entry does not follow the one before it: an entry before it was "
                    "deleted, altered or moved")
        if first and entry.get("prev_day") != (last_day.isoformat() if last_day else None):
            return "the day file does not follow the one before it"
        return ""
    return _check_start(entry, today, keep_days)


def _check_start(entry: dict, today: dt.date, keep_days: int) -> str:
    """The oldest remaining file's first entry: the very first, or one after a pruned day."""
    if entry["prev"] == GENESIS and entry.get("prev_day") is None:
        return ""
    try:
        before = dt.date.fromisoformat(str(entry.get("prev_day")))
    except ValueError:
        return "the first entry names no valid day before it"
    if before >= today - dt.timedelta(days=keep_days):
        return (f"the day file of {before.isoformat()} it follows is missing but was not old "
                f"enough to be pruned")
    return ""


def _broken(verdict: Verdict, path: Path, line: int, problem: str) -> Verdict:
    verdict.intact = False
    verdict.broken_at = {"file": str(path), "line": line, "problem": problem}
    return verdict


def _parse(raw: bytes) -> dict | None:
    try:
        item = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    return item if isinstance(item, dict) else None
