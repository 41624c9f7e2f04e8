"""The heartbeat body of the central API (section 3), built from plain values, free of Qt."""

from __future__ import annotations

import time

from contract.times import rfc3339 as rfc3339  # re-exported for its importers
from drivers.base import DeviceState, DeviceStatus, Paper

UNKNOWN_READER = DeviceStatus(DeviceState.OFFLINE, "no status yet")
UNKNOWN_PRINTER = DeviceStatus(DeviceState.OFFLINE, "no status yet", Paper.UNKNOWN)


def build_heartbeat(*, kiosk_id: str, app_version: str, menu_version: int,
                    counts: dict[str, int],
                    oldest_pending_s: float | None, devices: dict[str, DeviceStatus],
                    menu_rejected: dict | None = None, sync: dict | None = None,
                    queue_notices: list[dict] | None = None, now: float | None = None,
                    technician: dict | None = None) -> dict:
    """One heartbeat. ``sync`` adds the upload state (auth failures show here); the spec
    leaves extra keys to the implementer and the reference central keeps them.

    ``technician`` is the diagnostics PIN gate: ``{"locked_until": epoch s | None,
    "failures": n, "lockouts": k}`` (``damaged: true`` when its state cannot be read); sent
    as ``"technician": {"locked_until": RFC 3339 | null, "failures": n, "lockouts": k}``.
    """
    reader = devices.get("card_reader", UNKNOWN_READER)
    printer = devices.get("printer", UNKNOWN_PRINTER)
    body = {
        "kiosk_id": kiosk_id,
        "time": rfc3339(time.time() if now is None else now),
        "app_version": app_version,
        "menu_version": menu_version,
        "menu_rejected": menu_rejected,
        "queue": {
            "pending": counts.get("pending", 0),
            "oldest_pending_s": None if oldest_pending_s is None else int(oldest_pending_s),
            "rejected": counts.get("rejected", 0),
        },
        "devices": {
            "card_reader": reader.as_dict(),
            "printer": {**printer.as_dict(), "paper": str(printer.paper or Paper.UNKNOWN)},
        },
    }
    if queue_notices:  # corrupt queue files with rows that could not be salvaged, until a
        body["queue"]["unreadable"] = queue_notices  # technician clears them
    if sync is not None:
        body["sync"] = sync
    if technician is not None:
        body["technician"] = _technician(technician)
    return body


def _technician(state: dict) -> dict:
    until = state.get("locked_until")
    found = {"locked_until": None if until is None else rfc3339(float(until)),
             "failures": int(state.get("failures") or 0),
             "lockouts": int(state.get("lockouts") or 0)}
    if state.get("damaged"):
        found["damaged"] = True
    return found
