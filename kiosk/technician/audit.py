"""The technicians' audit log: every diagnostics entry, failed PIN, lock-out and action.

Qt-free. One JSON object per line, one file per UTC day (``audit-YYYY-MM-DD.jsonl``) under
``<data_dir>/diagnostics/audit/``, each line flushed and fsynced before ``record`` returns;
days older than ``keep_days`` are removed. Every entry names the technician (``null`` before
a PIN said who) and is hash-chained to the one before (``kiosk.technician.audit_chain``);
the app and the command line append under one ``flock``, so the chain holds across
processes. Detail strings pass through the log masking, so an ID or mobile number that
slips into a detail is never written whole.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from contract.times import rfc3339
from kiosk.logs import mask_text
from kiosk.technician import audit_chain

log = logging.getLogger(__name__)

KEEP_DAYS = 90
EVENTS = frozenset({"entry", "pin-failed", "lockout", "test-print", "test-read", "sync-now",
                    "reprint", "export", "restart", "leave", "auto-leave", "rejected", "logs",
                    "test-voice", "clear-notices", "fleet-screenshot", "fleet-diagnostics",
                    "fleet-restart"})
_FILE = re.compile(r"audit-(\d{4}-\d{2}-\d{2})\.jsonl")


class AuditLog:
    """Appends audit entries; safe to call from several threads."""

    def __init__(self, folder: Path, keep_days: int = KEEP_DAYS,
                 clock: Callable[[], float] = time.time):
        if keep_days < 1:
            raise ValueError("keep_days must be at least 1")
        self.folder = Path(folder)
        self.keep_days = keep_days
        self._clock = clock
        self._lock = threading.Lock()
        self._pruned_for: str | None = None  # the day prune last ran for

    @classmethod
    def for_data_dir(cls, data_dir: Path, **kwargs) -> AuditLog:
        return cls(Path(data_dir) / "diagnostics" / "audit", **kwargs)

    def record(self, event: str, outcome: str, *, technician: str | None = None,
               **detail: Any) -> dict:
        """Append one entry, done by ``technician`` (None: not known, e.g. a wrong PIN), and
        return it. An I/O failure is logged, not raised: the technician's work goes on, and
        the log line keeps the trace."""
        if not isinstance(event, str) or not event:
            raise ValueError("event must be a non-empty string")
        if event not in EVENTS:
            log.debug("audit event %r is not one of the documented ones", event)
        now = self._clock()
        when = dt.datetime.fromtimestamp(now, dt.UTC)
        entry = {"time": rfc3339(when), "event": event, "outcome": mask_text(str(outcome)),
                 "technician": None if technician is None else mask_text(str(technician)),
                 "detail": _masked(detail)}
        entry = json.loads(json.dumps(entry, ensure_ascii=False, default=str))
        day = when.strftime("%Y-%m-%d")
        with self._lock:
            try:
                self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
                entry = self._append(day, entry)
            except OSError as exc:
                log.error("audit entry %s/%s not written (%s)", event, entry["outcome"], exc)
                return entry
            if self._pruned_for != day:
                self._pruned_for = day
                self._prune(when.date())
        return entry

    def _append(self, day: str, entry: dict) -> dict:
        """Chain ``entry`` to the last one written (by any process) and append it."""
        lock_fd = os.open(self.folder / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX)
            path = self.folder / f"audit-{day}.jsonl"
            last = audit_chain.last_entry(path)
            if last is None:  # the day's first entry: it names the day file it follows
                before = [(d, p) for d, p in self._days() if d.isoformat() < day]
                last = audit_chain.last_entry(before[-1][1]) if before else None
                entry["prev_day"] = before[-1][0].isoformat() if before else None
            entry = audit_chain.seal(entry, last["hash"] if last else audit_chain.GENESIS)
            data = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = b"\n" + data  # end a line a power cut tore, keep ours whole
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            return entry
        finally:
            os.close(lock_fd)  # releases the flock

    def verify(self) -> audit_chain.Verdict:
        """Whether the chain through the remaining day files is intact, and where not."""
        today = dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()
        with self._lock:
            return audit_chain.verify(self._days(), today, self.keep_days)

    def prune(self) -> int:
        """Remove the files of days older than ``keep_days``; returns how many went."""
        today = dt.datetime.fromtimestamp(self._clock(), dt.UTC).date()
        with self._lock:
            return self._prune(today)

    def files(self) -> list[Path]:
        """The day files, oldest first."""
        return [path for _, path in self._days()]

    def recent(self, n: int = 50) -> list[dict]:
        """The last ``n`` entries, newest last. Lines that are not JSON (a write cut short by
        a power failure) are skipped."""
        if n <= 0:
            return []
        entries: list[dict] = []
        for _, path in reversed(self._days()):
            try:
                lines = path.read_text("utf-8", errors="replace").splitlines()
            except OSError as exc:
                log.warning("audit file %s cannot be read (%s)", path.name, exc.strerror)
                continue
            parsed = []
            for text in lines:
                try:
                    item = json.loads(text)
                except ValueError:
                    continue
                if isinstance(item, dict):
                    parsed.append(item)
            entries = parsed[-(n - len(entries)):] + entries
            if len(entries) >= n:
                break
        return entries

    # --- plumbing -----------------------------------------------------------------------

    def _days(self) -> list[tuple[dt.date, Path]]:
        try:
            names = os.listdir(self.folder)
        except OSError:
            return []
        days = []
        for name in names:
            match = _FILE.fullmatch(name)
            if match is None:
                continue
            try:
                days.append((dt.date.fromisoformat(match.group(1)), self.folder / name))
            except ValueError:
                continue
        return sorted(days)

    def _prune(self, today: dt.date) -> int:
        oldest_kept = today - dt.timedelta(days=self.keep_days)
        removed = 0
        for day, path in self._days():
            if day < oldest_kept:
                try:
                    path.unlink()
                    removed += 1
                except OSError as exc:
                    log.warning("old audit file %s not removed (%s)", path.name, exc.strerror)
        if removed:
            log.info("removed %d audit files older than %d days", removed, self.keep_days)
        return removed


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {str(k): _masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    return mask_text(str(value))
