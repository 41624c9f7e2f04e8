"""Removing abandoned wheel uploads (issue #15): an admin's upload that stopped part way
leaves chunks in the store that no release can use. Once no piece of such an upload came
for ``max_age_s`` (``kiosk-central serve --upload-max-age``, default 24 h), its chunks are
removed; an admin publishing it later uploads it again from the start.

The check runs on the release endpoints' own requests (kiosks asking for their release, an
admin's wheel upload), at most once per ``every_s`` in each process, so no thread of its
own is needed and every worker of ``serve --workers`` does the same harmless deletes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_UPLOAD_MAX_AGE_S = 24 * 3600.0
CHECK_EVERY_S = 3600.0


class UploadJanitor:
    def __init__(self, store: Callable[[], Any], clock: Callable[[], float],
                 max_age_s: float | None = DEFAULT_UPLOAD_MAX_AGE_S,
                 every_s: float = CHECK_EVERY_S) -> None:
        self.store, self.clock = store, clock  # ``store()``: the central's open store
        self.max_age_s, self.every_s = max_age_s, every_s
        self._last = float("-inf")
        self._lock = threading.Lock()

    def maybe_run(self) -> None:
        """Remove abandoned uploads when the last check is ``every_s`` old."""
        if self.max_age_s is None:
            return
        now = self.clock()
        with self._lock:
            if now - self._last < self.every_s:
                return
            self._last = now
        self.run(now)

    def run(self, now: float | None = None) -> int:
        """Remove the uploads abandoned for ``max_age_s``; how many."""
        if self.max_age_s is None:
            return 0
        now = self.clock() if now is None else now
        removed = self.store().remove_abandoned_uploads(now - self.max_age_s, now=now)
        if removed:
            log.info("removed %d wheel uploads abandoned for %.0f s", removed, self.max_age_s)
        return removed
