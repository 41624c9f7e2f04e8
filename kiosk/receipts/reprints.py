"""Receipts that could not be printed, kept (masked, as on paper) until a reprint succeeds.

Qt-free. One small JSON file per transaction under ``<data_dir>/reprints/``; a receipt holds
only what the paper shows, so nothing here is more personal than the receipt itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import json
import logging
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.receipts.render import ReceiptData

log = logging.getLogger(__name__)

GIVE_UP_AFTER_S = 7 * 24 * 3600  # a receipt nobody reprinted in a week is given up


class ReprintStore:
    def __init__(self, folder: Path):
        self.folder = folder

    def _path(self, transaction_id: str) -> Path:
        safe = "".join(ch for ch in transaction_id if ch.isalnum() or ch == "-")
        return self.folder / f"{safe}.json"

    def save(self, data: ReceiptData) -> bool:
        """Keep ``data`` until ``remove``; written atomically with mode 0600. False when the
        disk has no room: the receipt is printed all the same, just not kept for a reprint."""
        record = dataclasses.asdict(data)
        record["created_at"] = data.created_at and data.created_at.isoformat()
        record["answers"] = [list(pair) for pair in data.answers]
        path = self._path(data.transaction_id)
        tmp = path.with_suffix(".tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(record, f, ensure_ascii=False)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            tmp.unlink(missing_ok=True)
            log.warning("disk full: receipt %s is not kept for a reprint", data.transaction_id)
            return False
        return True

    def give_way(self) -> int:
        """The disk is full: drop every kept receipt (the queue matters more); returns how
        many went."""
        paths = list(self.folder.glob("*.json")) + list(self.folder.glob("*.tmp"))
        for path in paths:
            path.unlink(missing_ok=True)
        if paths:
            log.warning("disk full: %d receipts kept for reprint were dropped", len(paths))
        return len(paths)

    def remove(self, transaction_id: str) -> None:
        self._path(transaction_id).unlink(missing_ok=True)

    def load(self, transaction_id: str) -> ReceiptData | None:
        path = self._path(transaction_id)
        try:
            record = json.loads(path.read_text("utf-8"))
            if record["created_at"] is not None:
                record["created_at"] = dt.datetime.fromisoformat(record["created_at"])
            record["answers"] = tuple(tuple(pair) for pair in record["answers"])
            from kiosk.receipts.render import ReceiptData

            return ReceiptData(**record)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError, KeyError) as exc:
            log.error("reprint %s unreadable (%s); giving it up", path.name, exc)
            path.unlink(missing_ok=True)
            return None

    def pending(self) -> list[str]:
        """Transaction ids waiting for a reprint, oldest first; gives up stale ones."""
        if not self.folder.is_dir():
            return []
        now = time.time()
        waiting = []
        for path in sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime):
            if now - path.stat().st_mtime > GIVE_UP_AFTER_S:
                log.warning("reprint %s given up after a week", path.stem)
                path.unlink(missing_ok=True)
            else:
                waiting.append(path.stem)
        return waiting
