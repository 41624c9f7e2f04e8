"""Which receipts were printed: one empty marker file per transaction id, no personal data.

Qt-free. After a crash between storing a transaction and printing its receipt, the kiosk
looks for recent transactions without a marker and prints them at once (the shell's
``recovery``). Markers older than ``KEEP_S`` are removed: only the last minutes matter.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path

log = logging.getLogger(__name__)

KEEP_S = 3600


class PrintedLedger:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, transaction_id: str) -> Path:
        safe = "".join(ch for ch in transaction_id if ch.isalnum() or ch == "-")
        return self.folder / safe

    def mark(self, transaction_id: str) -> None:
        """Note that ``transaction_id``'s receipt is on paper (fsynced: a crash right after
        printing must not print it twice)."""
        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self._path(transaction_id), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def printed(self, transaction_id: str) -> bool:
        return self._path(transaction_id).exists()

    def prune(self, now: float | None = None) -> int:
        """Remove markers older than ``KEEP_S``; returns how many went."""
        now = time.time() if now is None else now
        removed = 0
        try:
            paths = list(self.folder.iterdir())
        except OSError:
            return 0
        for path in paths:
            try:
                if now - path.stat().st_mtime > KEEP_S:
                    path.unlink()
                    removed += 1
            except OSError as exc:
                log.debug("printed marker %s: %s", path.name, exc)
        return removed
