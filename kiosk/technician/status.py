"""The diagnostics overview, one source for the technician's screen and ``kiosk diag status``.

Qt-free. ``collect_status`` turns plain inputs (device statuses, the sync status, the queue,
the menu, a live probe of the central platform) into one JSON-ready dict with a level per
section: "ok", "warn" or "fault". The running app writes it every ``SNAPSHOT_EVERY_S`` to
``<data_dir>/status.json`` (``write_snapshot``); the CLI reads that for what only the app
knows (its devices, uptime, sync), since it cannot open a serial port the app holds.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract import health
from contract.atomic import write_atomic
from contract.clock import shared_clock
from contract.health import worst
from contract.times import parse_rfc3339, rfc3339
from drivers.base import DeviceState, DeviceStatus, Paper
from kiosk import __version__
from kiosk.config import Config
from kiosk.technician.status_text import status_lines
from uplink.heartbeat import UNKNOWN_PRINTER, UNKNOWN_READER

if TYPE_CHECKING:  # the HTTP stack stays unloaded in an offline-only kiosk
    from uplink.uploader import SyncStatus

log = logging.getLogger(__name__)

__all__ = ["board_inputs", "collect_status", "device_faults", "probe_central", "read_snapshot",
           "snapshot_inputs", "status_lines", "write_snapshot"]

LEVELS = health.LEVELS  # "ok", "warn", "fault"
# Thresholds (documented in README's diagnostics section).
QUEUE_OLD_S = 3600  # a pending transaction older than this: warn (uploads are not getting out)
QUEUE_STUCK_S = 24 * 3600  # older than this: fault
DISK_WARN_BYTES = 500 * 1024 * 1024
DISK_FAULT_BYTES = 100 * 1024 * 1024
SNAPSHOT_FILE = "status.json"
SNAPSHOT_EVERY_S = 30  # how often the app writes it
SNAPSHOT_MAX_AGE_S = 90  # older than this, the CLI does not trust it (the app is not running)
PROBE_BODY_BYTES = 64 * 1024

# --- the central platform, live ---------------------------------------------------------

def probe_central(config: Config, timeout_s: float = 5.0) -> dict:
    """Ask the central platform for this kiosk's menu (``If-None-Match: *``, so no menu is
    sent back) with the kiosk's token. Never raises.

    ``reachable``: an HTTP answer came (None when unknown: offline-only, or no token to
    send); ``token_accepted``: 200, 304 or 404 (no menu published) mean yes, 401/403 no, any
    other answer None; ``latency_ms`` of the request; ``error`` a short reason or None.
    """
    result: dict[str, Any] = {"reachable": None, "latency_ms": None, "token_accepted": None,
                              "error": None}
    if not config.central.url:
        return result
    from kiosk.central_link import make_client
    from uplink.client import ClockError, SyncError, TokenError

    try:
        client = make_client(config, connect_timeout=timeout_s, read_timeout=timeout_s,
                             max_body_bytes=PROBE_BODY_BYTES, body_timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - a probe reports, it never raises
        return {**result, "reachable": False, "error": f"{type(exc).__name__}: {exc}"}
    start = time.monotonic()
    try:
        response = client.get_menu("*")
    except TokenError as exc:
        return {**result, "token_accepted": False, "error": str(exc)}
    except ClockError as exc:  # the kiosk's clock, not the network
        return {**result, "problem": "clock", "error": str(exc)}
    except SyncError as exc:
        return {**result, "reachable": False, "error": str(exc)}
    except Exception as exc:  # noqa: BLE001
        return {**result, "reachable": False, "error": f"{type(exc).__name__}: {exc}"}
    finally:
        client.close()
    result.update(reachable=True, latency_ms=round((time.monotonic() - start) * 1000))
    if response.status in (200, 304, 404):
        result["token_accepted"] = True
    elif response.status in (401, 403):
        result.update(token_accepted=False,
                      error=f"HTTP {response.status}: the central platform refused the token")
    else:
        result["error"] = f"HTTP {response.status}"
    return result


# --- the overview -----------------------------------------------------------------------

def collect_status(config: Config, *, devices: dict[str, DeviceStatus],
                   device_since: dict[str, float], sync: SyncStatus | None,
                   queue: Any | None, menu_version: int, menu_rejected: dict | None,
                   started_at: float | None, central_probe: dict | None,
                   notices: list[str] | None = None, now: float | None = None) -> dict:
    """The overview as a JSON-ready dict (see the diagnostics section of README).

    ``queue`` is an ``OfflineQueue`` or None when it is not open; ``central_probe`` is what
    ``probe_central`` returned, or None to judge the central from ``sync`` alone.
    """
    now = time.time() if now is None else now
    status = {
        "level": "ok",
        "time": rfc3339(now),
        "kiosk": _kiosk(config, started_at, notices or [], now),
        "devices": {
            "card_reader": _device(config.devices.card_reader,
                                   devices.get("card_reader", UNKNOWN_READER),
                                   device_since.get("card_reader")),
            "printer": _device(config.devices.printer, devices.get("printer", UNKNOWN_PRINTER),
                               device_since.get("printer"), printer=True),
        },
        "central": _central(config, sync, central_probe),
        "queue": _queue(queue, now),
        "menu": {"version": menu_version, "last_rejected": menu_rejected,
                 "level": "warn" if menu_rejected else "ok"},
        "disk": _disk(config.kiosk.data_dir, queue),
    }
    sections = [status["kiosk"], *status["devices"].values(), status["central"],
                status["queue"], status["menu"], status["disk"]]
    status["level"] = worst(*(s["level"] for s in sections))
    return status


def device_faults(status: dict) -> list[str]:
    """The names of the devices in a fault state (what ``kiosk diag status`` exits 1 for)."""
    return [name for name, d in status.get("devices", {}).items() if d.get("level") == "fault"]


def _kiosk(config: Config, started_at: float | None, notices: list[str], now: float) -> dict:
    return {
        "id": config.kiosk.id,
        "app_version": __version__,
        "config_path": None if config.source is None else str(config.source),
        "data_dir": str(config.kiosk.data_dir),
        "uptime_s": None if started_at is None else max(0, round(now - started_at)),
        "timezone": config.kiosk.timezone,
        "clock": shared_clock().status(),
        "notices": list(notices),
        "level": "warn" if notices else "ok",
    }


def _device(uri: str, status: DeviceStatus, since: float | None, printer: bool = False) -> dict:
    out = {"uri": uri, "state": str(status.state), "detail": status.detail,
           "since": None if since is None else rfc3339(since)}
    level = health.device_level(status.state)  # one table with the central's fleet page
    if printer:
        paper = status.paper or Paper.UNKNOWN
        out["paper"] = str(paper)
        level = worst(level, health.paper_level(paper))
    out["level"] = level
    return out


def _central(config: Config, sync: SyncStatus | None, probe: dict | None) -> dict:
    out = {"url": config.central.url, "reachable": None, "latency_ms": None,
           "token_accepted": None,
           "last_sync": _time(sync.last_success_at) if sync else None,
           "last_heartbeat": _time(sync.last_heartbeat_at) if sync else None,
           "last_error": (sync.last_error or sync.heartbeat_error) if sync else None,
           "level": "ok"}
    if not config.central.url:  # offline-only by configuration: nothing to reach
        return out
    if probe is not None:
        out.update(reachable=probe.get("reachable"), latency_ms=probe.get("latency_ms"),
                   token_accepted=probe.get("token_accepted"))
        if probe.get("error"):
            out["last_error"] = probe["error"]
    elif sync is not None:
        contact = sync.online or (sync.last_heartbeat_at is not None
                                  and not sync.heartbeat_error)
        out["reachable"] = True if contact else (False if sync.last_attempt_at else None)
        out["token_accepted"] = False if sync.auth_failed else (True if contact else None)
    clock_problem = _clock_problem(sync, probe)
    if clock_problem:  # a certificate "not yet valid" by our clock: not a network failure
        out.update(problem="clock", last_error=clock_problem, level="fault")
    elif out["reachable"] is False or out["token_accepted"] is False:
        out["level"] = "fault"
    elif out["reachable"] is None or out["token_accepted"] is None:
        out["level"] = "warn"
    return out


def _clock_problem(sync: SyncStatus | None, probe: dict | None) -> str | None:
    """Why the kiosk's clock is to blame for the central's silence, or None."""
    if probe is not None and probe.get("problem") == "clock":
        return probe.get("error") or "the kiosk's clock looks wrong"
    if probe is None and sync is not None and sync.state == "clock":
        return sync.last_error or "the kiosk's clock looks wrong"
    return None


def _queue(queue: Any | None, now: float) -> dict:
    out: dict[str, Any] = {"pending": None, "sent": None, "rejected": None,
                           "oldest_pending_s": None, "level": "warn"}
    if queue is None:
        return {**out, "error": "the queue is not open"}
    from offline_queue import QueueError

    try:
        counts, oldest = queue.counts(), queue.oldest_pending_age_s(now)
    except QueueError as exc:
        return {**out, "level": "fault", "error": str(exc)}
    out.update(pending=counts.get("pending", 0), sent=counts.get("sent", 0),
               rejected=counts.get("rejected", 0),
               oldest_pending_s=None if oldest is None else round(oldest))
    level = "ok"
    if oldest is not None and oldest > QUEUE_STUCK_S:
        level = "fault"
    elif (oldest is not None and oldest > QUEUE_OLD_S) or out["rejected"]:
        level = "warn"
    notices = queue.notices()
    if notices:  # a corrupt queue file lost rows: until a technician clears the notices
        out["unreadable"] = notices
        level = worst(level, "warn")
    out["level"] = level
    return out


def disk_full(queue: Any | None) -> bool:
    """True while the queue found the disk full and space has not come back."""
    space = getattr(queue, "space", None)
    return bool(getattr(space, "disk_full", False))


def _disk(data_dir: Path, queue: Any | None = None) -> dict:
    out: dict[str, Any] = {"path": str(data_dir), "free_bytes": None, "total_bytes": None,
                           "full": disk_full(queue)}
    if out["full"]:  # said first: a confirm may fail now
        out["state"] = "disk full"
    existing = data_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent  # not made yet: the filesystem it will be made on
    try:
        usage = shutil.disk_usage(existing)
    except OSError as exc:
        return {**out, "level": "warn", "error": exc.strerror or str(exc)}
    out.update(free_bytes=usage.free, total_bytes=usage.total)
    out["level"] = ("fault" if out["full"] or usage.free < DISK_FAULT_BYTES
                    else "warn" if usage.free < DISK_WARN_BYTES else "ok")
    return out


def _time(ts: float | None) -> str | None:
    return None if ts is None else rfc3339(ts)


# --- the snapshot the app writes and the CLI reads ------------------------------------

def snapshot_path(config: Config) -> Path:
    return config.kiosk.data_dir / SNAPSHOT_FILE


def write_snapshot(path: Path, status: dict) -> None:
    """Write ``status`` atomically (readers see the old or the new one, never half)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    write_atomic(Path(path), json.dumps(status, ensure_ascii=False).encode("utf-8"), 0o600)


def read_snapshot(path: Path, max_age_s: float = SNAPSHOT_MAX_AGE_S,
                  now: float | None = None) -> dict | None:
    """The snapshot at ``path`` if it is at most ``max_age_s`` old (by its own ``time``, so a
    copied file does not look fresh), else None. A snapshot from the future by more than
    ``max_age_s`` (a clock set back) is not trusted either."""
    now = time.time() if now is None else now
    try:
        data = json.loads(Path(path).read_text("utf-8"))
        written = _parse_time(data["time"])
        data["devices"]["card_reader"]["state"]
        data["devices"]["printer"]["state"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("status snapshot %s unusable (%s)", path, type(exc).__name__)
        return None
    if abs(now - written) > max_age_s:
        return None
    return data


def board_inputs(board) -> dict:
    """What the running app knows, from its ``status_board.StatusBoard``, as ``collect_status``
    keyword arguments (the app adds queue, central_probe and now)."""
    devices, menu_version, menu_rejected = board.snapshot()
    return {"devices": devices, "device_since": board.devices_since(), "sync": board.sync(),
            "menu_version": menu_version, "menu_rejected": menu_rejected,
            "started_at": board.started_at, "notices": board.notices()}


def snapshot_inputs(snapshot: dict) -> dict:
    """What the app knew, from its snapshot, as ``collect_status`` keyword arguments:
    devices, device_since, sync, menu_version, menu_rejected, started_at, notices."""
    devices, since = {}, {}
    for name, d in snapshot["devices"].items():
        try:
            state = DeviceState(d["state"])
        except ValueError:
            state = DeviceState.HWERROR
        paper = None
        if "paper" in d:
            paper = Paper(d["paper"]) if d["paper"] in set(Paper) else Paper.UNKNOWN
        devices[name] = DeviceStatus(state, str(d.get("detail", "")), paper)
        if d.get("since"):
            since[name] = _parse_time(d["since"])
    from uplink.uploader import SyncStatus

    central = snapshot.get("central", {})
    sync = SyncStatus(
        online=bool(central.get("reachable")) and central.get("token_accepted") is not False,
        last_success_at=_maybe_time(central.get("last_sync")),
        last_heartbeat_at=_maybe_time(central.get("last_heartbeat")),
        last_error=central.get("last_error"),
        auth_failed=central.get("token_accepted") is False,
    )
    kiosk, menu = snapshot.get("kiosk", {}), snapshot.get("menu", {})
    written, uptime = _parse_time(snapshot["time"]), kiosk.get("uptime_s")
    return {
        "devices": devices, "device_since": since, "sync": sync,
        "menu_version": int(menu.get("version") or 0),
        "menu_rejected": menu.get("last_rejected"),
        "started_at": None if uptime is None else written - uptime,
        "notices": list(kiosk.get("notices") or []),
    }


def _parse_time(text: str) -> float:
    return parse_rfc3339(text)


def _maybe_time(text: str | None) -> float | None:
    try:
        return None if not text else _parse_time(text)
    except (TypeError, ValueError):
        return None
