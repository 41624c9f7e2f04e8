"""Checks of the kiosk configuration beyond one value's type: the transport rule for
``central.url`` and the technicians table (kiosk-interfaces.md). ``ConfigError`` lives here so
``kiosk.config`` and these checks share it; ``kiosk.config`` re-exports it."""

from __future__ import annotations

import ipaddress
import logging
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.errors import KioskError

log = logging.getLogger("kiosk.config")


class ConfigError(KioskError):
    """A configuration that cannot be used; the message is one line for a technician."""


def check_transport(path: Path, central: dict[str, Any]) -> None:
    """kiosk-interfaces.md: ``central.url`` is https://; plain http:// only to a loopback host
    or with ``allow_insecure_http = true``, which is warned about at every start."""
    url = central["url"]
    if not url.startswith("http://") or is_loopback_url(url):
        return
    if not central["allow_insecure_http"]:
        raise ConfigError(
            f"{path}: [central] url: expected an https:// URL (plain http:// only to a loopback "
            f"host, or with [central] allow_insecure_http = true), got {describe(url)}")
    log.warning("[central] url http://%s is plain http:// (allow_insecure_http = true): the "
                "token and residents' data are sent unencrypted unless the link below is (a "
                "VPN)", urlsplit(url).netloc.rpartition("@")[2])  # never a password in a URL


def is_loopback_url(url: str) -> bool:
    """True when ``url``'s host is ``localhost``, in 127.0.0.0/8 or ``::1``."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_technicians(path: Path, technicians: dict) -> None:
    for name, pin_hash in technicians.items():
        if not re.fullmatch(r"[^\x00-\x1f\x7f]{1,40}", name):
            raise ConfigError(f"{path}: [diagnostics.technicians] {name!r}: expected a name of "
                              "1 to 40 printable characters")
        if not isinstance(pin_hash, str) or not pin_hash.startswith("scrypt$"):
            raise ConfigError(f'{path}: [diagnostics.technicians] {name}: expected "scrypt$..." '
                              "made by `kiosk diag hash-pin`")


def describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", dict: "table",
            list: "array"}.get(type(value), type(value).__name__)
    if isinstance(value, bool):
        text = "true" if value else "false"  # as written in TOML
    else:
        text = repr(value) if not isinstance(value, str) else f'"{value}"'
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind})"


_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$")


def parse_hours(text: str) -> tuple[int, int] | None:
    """``"22:00-06:00"`` as minutes after midnight ``(1320, 360)``; a span may cross
    midnight. ``""`` is None (every hour); anything else raises ``ConfigError``."""
    if text == "":
        return None
    m = _HOURS.match(text)
    if m is None or m.group(1, 2) == m.group(3, 4):
        raise ConfigError(f'{text!r}: expected "HH:MM-HH:MM" with two different times')
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    return h1 * 60 + m1, h2 * 60 + m2


def in_hours(span: tuple[int, int] | None, minute_of_day: int) -> bool:
    """True when ``minute_of_day`` is inside ``span`` (start included, end not)."""
    if span is None:
        return True
    start, end = span
    if start < end:
        return start <= minute_of_day < end
    return minute_of_day >= start or minute_of_day < end


def is_hours(text: str) -> bool:
    try:
        parse_hours(text)
    except ConfigError:
        return False
    return True


def check_value(where: str, spec: Any, value: Any) -> None:
    """One value against its ``kiosk.config.Key`` (type, check, what is expected)."""
    # bool is a subclass of int in Python: an int key must not accept true/false.
    wrong_type = not isinstance(value, spec.type) or (spec.type is int and isinstance(value, bool))
    if wrong_type or (spec.check is not None and not spec.check(value)):
        raise ConfigError(f"{where}: expected {spec.expected}, got {describe(value)}")
