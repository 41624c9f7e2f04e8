"""The one judgement of device health: a level for every device state and paper state of
the central API (section 3), by their spec strings. The kiosk's diagnostics and the central's
fleet page both judge with this table, so they never disagree about a kiosk. Qt-free.

A busy device is a warning (a state that lasts is worth a look), and so is paper the printer
cannot report: nobody knows whether the next receipt prints.
"""

from __future__ import annotations

OK, WARN, FAULT = "ok", "warn", "fault"
LEVELS = (OK, WARN, FAULT)  # best first

DEVICE_LEVELS = {
    "online": OK, "busy": WARN, "offline": FAULT, "hwerror": FAULT, "nodevice": FAULT,
    "usererror": FAULT,
}
PAPER_LEVELS = {"full": OK, "low": WARN, "unknown": WARN, "out": FAULT, "jammed": FAULT}

UNKNOWN_DEVICE_LEVEL = FAULT  # a state this software does not know: assume the worst
UNKNOWN_PAPER_LEVEL = WARN


def device_level(state: str) -> str:
    """The level of a device state (``DeviceState`` members are their spec strings)."""
    return DEVICE_LEVELS.get(str(state), UNKNOWN_DEVICE_LEVEL)


def paper_level(paper: str | None) -> str:
    """The level of a printer's paper state; None (not reported) counts as ``unknown``."""
    return PAPER_LEVELS.get("unknown" if paper is None else str(paper), UNKNOWN_PAPER_LEVEL)


def worst(*levels: str) -> str:
    """The worst of ``levels`` ("ok" for none)."""
    return max(levels, key=LEVELS.index, default=OK)
