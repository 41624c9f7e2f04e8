"""``kiosk diag status [--json]``: the diagnostics overview on the command line. Qt-free.

The running app owns the devices (a serial port cannot be opened twice), so their states,
since when, the sync state and the uptime come from its ``status.json`` when that is fresh;
without one the devices are opened briefly here. The queue and the central platform are
always checked live. Exit status: 0 when no device is in a fault state, 1 when one is.
``gather_status`` collects the overview; ``kiosk diag export`` bundles the same.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time

from kiosk.config import Config, load_config
from kiosk.technician import status as st
from offline_queue import QueueError

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 5.0


def diag_status(config_path: str | None, as_json: bool) -> int:
    quiet_logs()
    status = gather_status(load_config(config_path))
    if as_json:
        print(json.dumps(status, ensure_ascii=False))
    else:
        for line in st.status_lines(status, _terminal_locale()):
            print(line)
    faults = st.device_faults(status)
    if faults:
        details = "; ".join(_fault_text(name, status["devices"][name]) for name in faults)
        print(f"kiosk: device fault: {details}", file=sys.stderr)
        return 1
    return 0


def quiet_logs() -> None:
    """Warnings of the drivers and the queue are what the reports show; on stderr they would
    only break the rule of one line there."""
    logging.getLogger().setLevel(logging.ERROR)


def gather_status(config: Config, now: float | None = None) -> dict:
    """The overview that ``kiosk diag status`` prints and ``kiosk diag export`` bundles.

    Devices, sync, menu and uptime come from the app's fresh ``status.json`` when it runs,
    else the devices are opened briefly here; the queue and the central are checked live.
    ``status["kiosk"]["app_running"]`` says which it was.
    """
    now = time.time() if now is None else now
    snapshot = st.read_snapshot(st.snapshot_path(config), st.SNAPSHOT_MAX_AGE_S, now)
    if snapshot is not None:
        inputs = st.snapshot_inputs(snapshot)
    else:
        from kiosk.technician.device_checks import device_statuses

        version, rejected = running_menu(config)
        inputs = {"devices": device_statuses(config), "device_since": {}, "sync": None,
                  "menu_version": version, "menu_rejected": rejected, "started_at": None,
                  "notices": []}
    probe = st.probe_central(config, PROBE_TIMEOUT_S)
    queue = _open_queue(config)
    try:
        status = st.collect_status(config, queue=queue, central_probe=probe, now=now, **inputs)
    finally:
        close = getattr(queue, "close", None)
        if close is not None:
            close()
    status["kiosk"]["app_running"] = snapshot is not None
    return status


def running_menu(config: Config) -> tuple[int, dict | None]:
    """The menu version the kiosk would start with and its last rejected menu, read from
    disk (the app's snapshot says it better while the app runs)."""
    from contract.menu import MenuError
    from kiosk.central_link import load_running_menu, menu_store

    rejected = menu_store(config).rejection()
    try:
        return load_running_menu(config).version, rejected
    except MenuError as exc:
        return 0, {"version": None, "reason": f"the menu cannot be loaded: {exc}", "at": None}


class _NoQueue:
    """The queue before the kiosk has ever stored anything: not created just to be read."""

    def counts(self) -> dict[str, int]:
        return {"pending": 0, "sent": 0, "rejected": 0}

    def oldest_pending_age_s(self, now: float | None = None) -> float | None:
        return None

    def notices(self) -> list[dict]:
        return []


class _BrokenQueue:
    """A queue that failed to open: collect_status reports the error as a fault."""

    def __init__(self, error: str):
        self.error = error

    def counts(self) -> dict[str, int]:
        raise QueueError(self.error)

    def oldest_pending_age_s(self, now: float | None = None) -> float | None:
        raise QueueError(self.error)


def _open_queue(config: Config):
    from offline_queue import OfflineQueue

    if not config.queue_path.exists():
        return _NoQueue()
    try:
        return OfflineQueue(config.queue_path, key_file=config.kiosk.queue_key_file)
    except (QueueError, OSError) as exc:
        return _BrokenQueue(f"cannot open {config.queue_path}: {exc}")


def _terminal_locale() -> str:
    lang = os.environ.get("LC_ALL") or os.environ.get("LC_MESSAGES") or os.environ.get("LANG")
    return "zh_CN" if (lang or "").startswith("zh") else "en"


def _fault_text(name: str, device: dict) -> str:
    paper = f", paper {device['paper']}" if device.get("paper") in ("out", "jammed") else ""
    return f"{name.replace('_', ' ')} {device['state']}{paper} ({device['detail']})"
