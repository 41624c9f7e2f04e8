"""What a technician clears after a corrupt queue was salvaged: the queue's notices.

Qt-free, shared by the diagnostics screen's "Clear queue notices" and ``kiosk diag
clear-notices``. A notice says how many transactions of a corrupt queue file could not be read
(``OfflineQueue.notices()``); the heartbeat reports it as ``queue.unreadable`` and the fleet
page shows it until it is cleared. Clearing forgets the notices and deletes the moved-aside
files they name (``OfflineQueue.clear_notices()``).
"""

from __future__ import annotations

from typing import Any


def clear_queue_notices(queue: Any) -> dict[str, Any]:
    """Clear ``queue``'s notices (an ``OfflineQueue``, on its writer's thread) and say what
    they were: ``{"cleared": n, "notices": [{"file", "unreadable", "salvaged", "at"}]}``."""
    notices = [_plain(n) for n in queue.notices()]
    cleared = queue.clear_notices()
    return {"cleared": cleared, "notices": notices}


def notice_line(notice: dict[str, Any]) -> str:
    """One notice in a line: the moved file, what was lost and what was saved."""
    if notice.get("problem"):
        return str(notice["problem"])
    lost = notice.get("unreadable")
    lost_text = "an unknown number" if lost is None else str(lost)
    return (f"{notice.get('file') or '?'}: {lost_text} unreadable, "
            f"{notice.get('salvaged', 0)} salvaged ({notice.get('at') or '?'})")


def _plain(notice: Any) -> dict[str, Any]:
    if not isinstance(notice, dict):
        return {"problem": str(notice)}
    keys = ("file", "unreadable", "salvaged", "at", "problem")
    return {k: notice[k] for k in keys if k in notice}
