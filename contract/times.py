"""RFC 3339 times as the central API writes them: UTC, to the second, with a ``Z`` suffix
(``2026-11-24T09:30:00Z``). The one formatter and parser of the kiosk, the central and the
admin tool. Qt-free."""

from __future__ import annotations

import datetime as dt
import re
import time
from typing import Any

from contract.errors import ContractError

_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Fractions of a second are accepted when read, never written.
_RFC3339_Z = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?Z$")


class TimeFormatError(ContractError, ValueError):
    """A text that is not an RFC 3339 time; a ValueError too, for callers that catch that."""


def rfc3339(ts: float | dt.datetime) -> str:
    """``ts`` (epoch seconds, or an aware datetime) as ``YYYY-MM-DDTHH:MM:SSZ`` in UTC."""
    when = ts if isinstance(ts, dt.datetime) else dt.datetime.fromtimestamp(ts, dt.UTC)
    if when.tzinfo is None:
        raise TimeFormatError(f"{when!r} has no time zone; give an aware datetime")
    return when.astimezone(dt.UTC).strftime(_FORMAT)


def utc_now() -> str:
    """The current time as ``rfc3339`` writes it."""
    return rfc3339(time.time())


def is_rfc3339_z(value: Any) -> bool:
    """True for an RFC 3339 UTC time with a ``Z`` suffix naming a real instant (what the
    central API requires of the times a kiosk sends)."""
    if not isinstance(value, str):
        return False
    m = _RFC3339_Z.match(value)
    if not m:
        return False
    try:
        dt.datetime(*(int(g) for g in m.groups()[:6]))
    except ValueError:
        return False
    return True


def parse_rfc3339(text: str) -> float:
    """Epoch seconds of an RFC 3339 time (``Z`` or a numeric offset, as a peer may send);
    raises ``TimeFormatError`` for anything else, including a time without a zone."""
    if not isinstance(text, str):
        raise TimeFormatError(f"{text!r} is not an RFC 3339 time")
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise TimeFormatError(f"{text!r} is not an RFC 3339 time") from None
    if when.tzinfo is None:
        raise TimeFormatError(f"{text!r} is not an RFC 3339 time with a zone")
    return when.timestamp()
