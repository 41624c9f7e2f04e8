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


# --- people's time: one zone for everything a person reads or hears ------------------------

DEFAULT_ZONE = "Asia/Shanghai"
# Before this the kiosk's clock cannot be right (the software is newer): a kiosk without a
# clock battery starts in 1970. Such a time is never shown to people as a date.
EARLIEST_PLAUSIBLE = dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp()


def zone(name: str) -> dt.tzinfo:
    """The ``zoneinfo`` zone ``name`` (an IANA name such as ``Asia/Shanghai``); raises
    ``TimeFormatError`` for a name the system's (or the tzdata package's) database lacks."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name or name.startswith(("/", ".")):
        raise TimeFormatError(f"{name!r} is not a time zone name")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise TimeFormatError(f"{name!r} is not a known time zone") from None


def is_zone(name: Any) -> bool:
    """True when ``name`` is a time zone ``zone`` can load."""
    try:
        zone(name)
    except TimeFormatError:
        return False
    return True


def is_plausible(ts: float | dt.datetime | None) -> bool:
    """False for a time before the software existed (a clock that was never set)."""
    if ts is None:
        return False
    seconds = ts.timestamp() if isinstance(ts, dt.datetime) else float(ts)
    return seconds >= EARLIEST_PLAUSIBLE


def people_time(ts: float | dt.datetime | None, zone_name: str = DEFAULT_ZONE, *,
                seconds: bool = False, unknown: str = "") -> str:
    """``ts`` as people read it, in the kiosk's zone: ``2026-12-03 01:15`` (``seconds``:
    ``2026-12-03 01:15:48``). The one formatter of every time on screen, on paper, in speech
    and in the technician's views; the process's ``TZ`` plays no part. A naive datetime is
    taken as UTC. A missing or implausible time (a clock in 1970) gives ``unknown``."""
    if not is_plausible(ts):
        return unknown
    when = ts if isinstance(ts, dt.datetime) else dt.datetime.fromtimestamp(ts, dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    local = when.astimezone(zone(zone_name))
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def people_clock(ts: float | dt.datetime, zone_name: str = DEFAULT_ZONE) -> str:
    """The time of day only (``01:15:48``) in the kiosk's zone, for today's events."""
    when = ts if isinstance(ts, dt.datetime) else dt.datetime.fromtimestamp(ts, dt.UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(zone(zone_name)).strftime("%H:%M:%S")
