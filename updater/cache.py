"""Keeping the wheel cache small: only the wheels of the running slot, the previous slot
(the one a rollback goes back to, and the copy a later slot may start from) and the
release being prepared stay; an in-progress download (``<sha256>.part``) is never
touched."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from contract.release import ReleaseError, parse_version

from .layout import Layout
from .slots import read_record

log = logging.getLogger(__name__)


def previous_slot(layout: Layout, running: str, refused: Iterable[str]) -> str | None:
    """The newest built slot older than ``running`` that is not refused: where a rollback
    of ``running`` goes back to (the guard keeps exactly the current and previous slot)."""
    skip = set(refused)
    older = []
    for slot in layout.slots.iterdir() if layout.slots.is_dir() else ():
        name = slot.name
        if name.startswith(".") or name in skip or not layout.python(name).exists():
            continue
        try:
            if parse_version(name) < parse_version(running):
                older.append((parse_version(name), name))
        except ReleaseError:
            continue
    return max(older)[1] if older else None


def prune_cache(layout: Layout, keep_slots: Iterable[str | None],
                keep_sha256: Iterable[str] = ()) -> int:
    """Remove cached wheels no slot in ``keep_slots`` was built from and not in
    ``keep_sha256``; the number removed."""
    keep = set(keep_sha256)
    for version in keep_slots:
        if version is not None:
            keep.update(w["sha256"] for w in read_record(layout.slot(version)) or [])
    removed = 0
    for path in layout.cache.iterdir() if layout.cache.is_dir() else ():
        if path.name.endswith(".part") or path.name in keep:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    if removed:
        log.info("wheel cache: %d wheels no slot needs removed", removed)
    return removed
