"""Room for the queue when the disk is full (Qt-free).

The queue keeps a small preallocated file, ``queue.reserve``, beside its database. When a
write fails because the filesystem is full (SQLITE_FULL, ENOSPC), the things that may give way
(the caller's ``make_room`` callables: old logs, receipts kept for reprint, status files) are
asked to, the reserve is deleted, and the write is tried once more: so a resident's confirm
still commits on a full disk. When space is back the reserve is made again and the queue
says the disk is no longer full. SQLite rolls a failed write back whole: nothing half-written
is left.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from .errors import QueueDiskFullError, QueueWriteError

log = logging.getLogger(__name__)

RESERVE_BYTES = 256 * 1024  # a few dozen transactions, with their -wal pages
SQLITE_FULL = 13
T = TypeVar("T")


def is_disk_full(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the filesystem has no room left."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, sqlite3.Error):
            code = getattr(exc, "sqlite_errorcode", -1) & 0xFF
            if code == SQLITE_FULL or "disk is full" in str(exc):
                return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class SpaceReserve:
    """The reserve file and the disk-full state of one queue."""

    def __init__(self, path: Path, make_room: Sequence[Callable[[], object]] = (),
                 size: int = RESERVE_BYTES) -> None:
        self.path = Path(path)
        self.size = size
        self._make_room = list(make_room)
        #: True from a write that found the disk full until space is back.
        self.disk_full = False
        self.ensure()

    def ensure(self) -> bool:
        """Make the reserve if it is missing; False when there is no room for it."""
        with contextlib.suppress(OSError):
            if self.path.stat().st_size >= self.size:
                return True
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, self.size)
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            self.path.unlink(missing_ok=True)  # a part-made reserve would only mislead
            if not is_disk_full(exc):
                log.warning("queue reserve %s cannot be made: %s", self.path.name, exc)
            return False
        return True

    def write(self, operation: str, attempt: Callable[[], T]) -> T:
        """``attempt()`` (one committed queue write); on a full disk, make room, give up the
        reserve and try once more. ``QueueDiskFullError`` when even that finds no room."""
        try:
            result = attempt()
        except QueueWriteError as exc:
            if not is_disk_full(exc):
                raise
            self._give_way(operation)
            try:
                result = attempt()
            except QueueWriteError as again:
                if is_disk_full(again):
                    raise QueueDiskFullError(f"{operation}: the disk is full") from again
                raise
            log.warning("%s committed on the queue's reserve; the disk is full", operation)
            return result
        if self.disk_full or not self.path.exists():
            self.recover()
        return result

    def recover(self) -> bool:
        """Remake the reserve; when that works the disk is no longer full."""
        if self.ensure():
            if self.disk_full:
                log.warning("disk space is back; the queue's reserve is made again")
            self.disk_full = False
            return True
        return False

    def _give_way(self, operation: str) -> None:
        if not self.disk_full:
            log.error("%s: the disk is full; logs and kept receipts give way first", operation)
        self.disk_full = True
        for make_room in self._make_room:
            try:
                make_room()
            except Exception as exc:  # one that cannot give way must not stop the others
                log.warning("making room: %s", exc)
        self.path.unlink(missing_ok=True)
