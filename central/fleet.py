"""The state of every kiosk at a glance, from its last heartbeats (the admins' fleet page).

A kiosk is stale when its last heartbeat is older than three heartbeat intervals; the
interval is the gap between its last two heartbeats (60 s while there is only one). Devices
and paper are judged by ``contract.health``, the table the kiosk's own diagnostics use, so
the fleet page and the kiosk never disagree (a kiosk's "fault" is the page's "bad").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from contract import health
from contract.times import rfc3339

from .kiosks import Kiosk

if TYPE_CHECKING:
    from .server import CentralServer

DEFAULT_INTERVAL_S = 60.0
MIN_INTERVAL_S = 10.0  # a restart sends a heartbeat early; that gap is not the interval
MAX_INTERVAL_S = 86400.0
STALE_INTERVALS = 3
OLD_PENDING_S = 3600  # a queue that has not drained for an hour needs a look

OK, WARN, BAD, NEVER = "ok", "warn", "bad", "never"
_RANK = {BAD: 0, WARN: 1, OK: 2, NEVER: 3}
_FROM_HEALTH = {health.OK: OK, health.WARN: WARN, health.FAULT: BAD}


def device_level(state: str) -> str:
    """The fleet level of a device state, as the kiosk itself judges it."""
    return _FROM_HEALTH[health.device_level(state)]


def paper_level(paper: str | None) -> str:
    """The fleet level of a printer's paper state (None: not reported, so unknown)."""
    return _FROM_HEALTH[health.paper_level(paper)]


PER_PAGE = 100
MAX_PER_PAGE = 500
LEVELS = (OK, WARN, BAD, NEVER)


def fleet_report(central: CentralServer, now: float,
                 query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The fleet at ``now``: counts by level and by group over every kiosk, then one page
    of the kiosks that match ``query`` (``status``, ``group``, ``version``, ``q`` a part of
    the kiosk id; ``page``, ``per_page``), worst first, with the newest published menus."""
    from .fleet_releases import rollouts
    from .fleet_view import level_at  # it builds on this module

    wanted = _filters(query or {})
    glances = central.fleet_view.glances()
    summary: dict[str, int] = {"kiosks": 0, **{level: 0 for level in LEVELS}, "stale": 0}
    groups: dict[str, dict[str, int]] = {}
    buckets: dict[str, list[Kiosk]] = {level: [] for level in LEVELS}
    serving_version = _serving_versions(central)
    filtering = any(wanted[k] is not None for k in ("status", "group", "version", "q"))
    # One pass over the fleet, allocating next to nothing (a page must not set off the
    # garbage collector over every heartbeat in memory). Kiosks come in id order.
    for kiosk in central.kiosks.all():
        seen = glances.get(kiosk.id)
        level, stale = level_at(seen, serving_version(kiosk), now)
        summary[level] += 1
        summary["stale"] += stale
        group = groups.get(kiosk.group)
        if group is None:
            group = groups[kiosk.group] = {"kiosks": 0, **dict.fromkeys(LEVELS, 0)}
        group["kiosks"] += 1
        group[level] += 1
        if not filtering or _matches(wanted, kiosk, level, seen):
            buckets[level].append(kiosk)
    summary["kiosks"] = sum(summary[level] for level in LEVELS)
    matching = [k for level in sorted(LEVELS, key=_RANK.__getitem__) for k in buckets[level]]
    per_page, page = wanted["per_page"], wanted["page"]
    pages = max(1, -(-len(matching) // per_page))
    page = min(page, pages)
    shown = matching[(page - 1) * per_page:page * per_page]
    beats = central.store.recent_heartbeats([k.id for k in shown], per_kiosk=2) if shown else {}
    rows = []
    for kiosk in shown:
        version = serving_version(kiosk)
        row = kiosk_status(kiosk, beats.get(kiosk.id, []), version, now)
        _, source = central.catalog.source_for(kiosk)
        row["menu_source"] = None if version is None else str(source or "server menu")
        rows.append(row)
    menus = [{"target": t.as_dict(), "version": m.version, "etag": m.etag}
             for t, m in sorted(central.catalog.newest().items(),
                                key=lambda item: (item[0].kind, item[0].value))]
    fallback = central.menus.current()
    return {"generated_at": rfc3339(now), "summary": summary,
            "groups": [{"group": g or None, **c} for g, c in sorted(groups.items())],
            "filters": {k: wanted[k] for k in ("status", "group", "version", "q")},
            "page": {"page": page, "per_page": per_page, "pages": pages,
                     "matching": len(matching)},
            "kiosks": rows, "menus": menus,
            "fallback_menu": None if fallback is None else fallback.version,
            "rollouts": rollouts(central)}


def _serving_versions(central: CentralServer) -> Callable[[Kiosk], int | None]:
    """The menu version each kiosk is served, asked of the catalog once a group (and once
    for each kiosk a menu was published for by name)."""
    named = {t.value for t in central.catalog.newest() if t.kind == "kiosk"}
    by_group: dict[str, int | None] = {}

    def version(kiosk: Kiosk) -> int | None:
        if kiosk.id not in named and kiosk.group in by_group:
            return by_group[kiosk.group]
        serving, _ = central.catalog.source_for(kiosk)
        found = None if serving is None else serving.version
        if kiosk.id not in named:
            by_group[kiosk.group] = found
        return found

    return version


def _filters(query: Mapping[str, str]) -> dict[str, Any]:
    def number(name: str, default: int, top: int) -> int:
        value = query.get(name, "")
        return min(top, max(1, int(value))) if value.isdigit() else default

    status = query.get("status") or None
    return {"status": status if status in LEVELS else None,
            "group": query.get("group") or None, "version": query.get("version") or None,
            "q": (query.get("q") or "").strip()[:64] or None,
            "page": number("page", 1, 10**6),
            "per_page": number("per_page", PER_PAGE, MAX_PER_PAGE)}


def _matches(wanted: dict[str, Any], kiosk: Kiosk, level: str, seen: Any) -> bool:
    if wanted["status"] is not None and level != wanted["status"]:
        return False
    if wanted["group"] is not None and kiosk.group != wanted["group"]:
        return False
    if wanted["q"] is not None and wanted["q"].lower() not in kiosk.id.lower():
        return False
    if wanted["version"] is not None:
        return seen is not None and seen.app_version == wanted["version"]
    return True


def heartbeat_interval(received: list[float]) -> float:
    """The heartbeat interval from the receive times of the last heartbeats, newest first."""
    if len(received) < 2:
        return DEFAULT_INTERVAL_S
    return min(MAX_INTERVAL_S, max(MIN_INTERVAL_S, received[0] - received[1]))


def kiosk_status(kiosk: Kiosk, heartbeats: list[tuple[float, dict[str, Any]]],
                 serving_version: int | None, now: float) -> dict[str, Any]:
    """One kiosk's row: ``heartbeats`` are ``(received_at, body)``, newest first;
    ``serving_version`` is the menu version the central gives it now."""
    row: dict[str, Any] = {
        "kiosk_id": kiosk.id, "group": kiosk.group or None, "level": NEVER, "problems": [],
        "last_heartbeat_at": None, "last_heartbeat_age_s": None,
        "heartbeat_interval_s": None, "stale": False, "app_version": None,
        "menu_version": None, "menu_serving": serving_version, "menu_lagging": False,
        "menu_rejected": None, "queue": None, "card_reader": None, "printer": None,
        "sync": None,
    }
    if not heartbeats:
        return row
    received, body = heartbeats[0]
    interval = heartbeat_interval([r for r, _ in heartbeats])
    age = max(0.0, now - received)
    row.update({
        "last_heartbeat_at": rfc3339(received), "last_heartbeat_age_s": int(age),
        "heartbeat_interval_s": int(interval), "stale": age > STALE_INTERVALS * interval,
        "app_version": _text(body.get("app_version")),
        "menu_version": _int(body.get("menu_version")),
        "menu_rejected": _rejected(body.get("menu_rejected")),
        "queue": _queue(body.get("queue")),
        "card_reader": _device(body.get("devices"), "card_reader"),
        "printer": _device(body.get("devices"), "printer"),
        "sync": _sync(body.get("sync")),
        "technician": body.get("technician") if isinstance(body.get("technician"), dict) else None,
    })
    version = row["menu_version"]
    row["menu_lagging"] = (serving_version is not None and version is not None
                           and version < serving_version)
    problems = _problems(row)
    row["problems"] = [{"level": level, "text": text} for level, text in problems]
    row["level"] = min((level for level, _ in problems), key=_RANK.__getitem__, default=OK)
    return row


def _problems(row: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if row["stale"]:
        found.append((BAD, f"no heartbeat for {duration(row['last_heartbeat_age_s'])}"))
    if row["menu_rejected"] is not None:
        found.append((BAD, f"rejected menu v{row['menu_rejected']['version']}: "
                      f"{row['menu_rejected']['reason']}"))
    if row["menu_lagging"]:
        found.append((WARN, f"menu behind: runs v{row['menu_version']}, "
                      f"v{row['menu_serving']} is published"))
    sync = row["sync"]
    if sync is not None and sync.get("auth_failed"):
        found.append((BAD, "the central refuses its token"))
    queue = row["queue"]
    if queue is not None:
        oldest = queue.get("oldest_pending_s")
        if queue.get("pending") and oldest is not None and oldest > OLD_PENDING_S:
            found.append((WARN, f"{queue['pending']} waiting to upload, oldest "
                          f"{duration(oldest)}"))
        if queue.get("rejected"):
            n = queue["rejected"]
            found.append((WARN, f"{n} transaction{'s' * (n != 1)} rejected by the central"))
        for notice in queue.get("unreadable") or ():
            lost = "an unknown number" if notice["unreadable"] is None else notice["unreadable"]
            found.append((BAD, f"queue was corrupt: {lost} transactions unreadable in "
                          f"{notice['file']}; a technician must clear it"))
    tech = row.get("technician") or {}
    if isinstance(tech.get("locked_until"), str):  # too many wrong technician PINs
        n = _int(tech.get("lockouts")) or 1
        found.append((BAD, f"technician PIN entry locked until {_text(tech['locked_until'], 40)}"
                      f" ({n} lock-out{'s' * (n != 1)} in a row)"))
    elif tech.get("damaged") is True:
        found.append((BAD, "technician PIN state damaged: entry locked"))
    elif _int(tech.get("failures")):
        found.append((WARN, f"{tech['failures']} wrong technician PIN(s)"))
    for name, label in (("card_reader", "card reader"), ("printer", "printer")):
        device = row[name]
        if device is None:
            continue
        level = device_level(device["state"])
        if level != OK:
            found.append((level, f"{label} {device['state']}"))
        if name == "printer":  # as the kiosk does: a printer that reports no paper is unknown
            paper = device.get("paper") or "unknown"
            if paper_level(paper) != OK:
                found.append((paper_level(paper), f"paper {paper}"))
    return found


def _rejected(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {"version": _int(value.get("version")), "reason": _text(value.get("reason")) or "?"}


def _queue(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    found: dict[str, Any] = {
        key: _int(value.get(key)) for key in ("pending", "oldest_pending_s", "rejected")}
    notices = value.get("unreadable")
    unreadable = [
        {"file": _text(n.get("file")) or "?", "unreadable": _int(n.get("unreadable"))}
        for n in (notices if isinstance(notices, list) else []) if isinstance(n, dict)]
    if unreadable:  # a corrupt queue file a technician has not cleared yet
        found["unreadable"] = unreadable
    return found


def _device(devices: Any, name: str) -> dict[str, Any] | None:
    device = devices.get(name) if isinstance(devices, dict) else None
    if not isinstance(device, dict):
        return None
    found = {"state": _text(device.get("state")) or "?", "detail": _text(device.get("detail"))}
    if "paper" in device:
        found["paper"] = _text(device.get("paper"))
    return found


def _sync(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    return {"state": _text(value.get("state")), "auth_failed": value.get("auth_failed") is True,
            "last_error": _text(value.get("last_error"))}


def _text(value: Any, limit: int = 200) -> str | None:
    """A heartbeat's string, cut to ``limit``: a kiosk's text is shown, never trusted."""
    return value[:limit] if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def duration(seconds: float | None) -> str:
    """``seconds`` in the largest whole unit: "45 s", "12 min", "3 h", "2 d"."""
    if seconds is None:
        return "?"
    seconds = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"
