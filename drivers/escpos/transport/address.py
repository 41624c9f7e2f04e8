"""Printer URIs (socket, serial, usb, file) parsed into a ``PrinterAddress``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from drivers.base import DeviceConfigError

DEFAULT_TCP_PORT = 9100
DEFAULT_BAUDRATE = 9600
_SERIAL_FLOW = ("none", "rtscts", "xonxoff")
_SOCKET_CHUNK = 4096


@dataclass(frozen=True)
class PrinterAddress:
    """A parsed printer URI: the scheme, where the printer is, and the scheme's options."""

    uri: str
    scheme: str
    host: str = ""
    port: int = DEFAULT_TCP_PORT
    path: str = ""
    baudrate: int = DEFAULT_BAUDRATE
    flow: str = "none"
    vendor_id: int = 0
    product_id: int = 0
    in_ep: int = 0x82  # python-escpos's defaults; many printers use others (see lsusb -v)
    out_ep: int = 0x01


def _int(uri: str, name: str, text: str, base: int = 10) -> int:
    try:
        value = int(text, base)
    except ValueError:
        raise DeviceConfigError(f"{uri!r}: {name} {text!r} is not a number") from None
    if value < 0:
        raise DeviceConfigError(f"{uri!r}: {name} {text!r} is negative")
    return value


def _options(uri: str, query: str, allowed: tuple[str, ...]) -> dict[str, str]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise DeviceConfigError(f"{uri!r}: malformed query {query!r}") from None
    options = dict(pairs)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        known = ", ".join(allowed) or "none"
        raise DeviceConfigError(f"{uri!r}: unknown option {unknown[0]!r} (known: {known})")
    return options


def parse_printer_uri(uri: str) -> PrinterAddress:
    """Parse a printer URI of the spec (socket, serial, usb, file); DeviceConfigError if bad."""
    if not isinstance(uri, str) or "://" not in uri:
        raise DeviceConfigError(f"{uri!r}: not an ESC/POS printer URI (e.g. socket://HOST:9100)")
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme == "socket":
        _options(uri, parts.query, ())
        if parts.path not in ("", "/") or not parts.hostname:
            raise DeviceConfigError(f"{uri!r}: expected socket://HOST or socket://HOST:PORT")
        try:
            port = parts.port
        except ValueError:
            raise DeviceConfigError(f"{uri!r}: bad TCP port") from None
        return PrinterAddress(uri, scheme, host=parts.hostname, port=port or DEFAULT_TCP_PORT)
    if scheme == "serial":
        opts = _options(uri, parts.query, ("baudrate", "flow", "protocol"))
        if parts.netloc or not parts.path.startswith("/"):
            raise DeviceConfigError(f"{uri!r}: expected serial:///dev/NAME?baudrate=N")
        if opts.get("protocol", "escpos") != "escpos":
            raise DeviceConfigError(f"{uri!r}: printers speak protocol=escpos")
        baudrate = _int(uri, "baudrate", opts.get("baudrate", str(DEFAULT_BAUDRATE)))
        flow = opts.get("flow", "none")
        if flow not in _SERIAL_FLOW or baudrate == 0:
            raise DeviceConfigError(
                f"{uri!r}: baudrate must be positive, flow one of {', '.join(_SERIAL_FLOW)}"
            )
        return PrinterAddress(uri, scheme, path=parts.path, baudrate=baudrate, flow=flow)
    if scheme == "usb":
        opts = _options(uri, parts.query, ("in_ep", "out_ep"))
        vid, sep, pid = parts.netloc.partition(":")
        if not sep or not vid or not pid or parts.path not in ("", "/"):
            raise DeviceConfigError(f"{uri!r}: expected usb://VID:PID (hex, e.g. 0x0416:0x5011)")
        return PrinterAddress(
            uri,
            scheme,
            vendor_id=_int(uri, "vendor id", vid, 16),
            product_id=_int(uri, "product id", pid, 16),
            in_ep=_int(uri, "in_ep", opts.get("in_ep", "0x82"), 16),
            out_ep=_int(uri, "out_ep", opts.get("out_ep", "0x01"), 16),
        )
    if scheme == "file":
        _options(uri, parts.query, ())
        if parts.netloc or not parts.path.startswith("/"):
            raise DeviceConfigError(f"{uri!r}: expected file:///dev/NAME")
        return PrinterAddress(uri, scheme, path=parts.path)
    raise DeviceConfigError(f"{uri!r}: no ESC/POS transport for {scheme or '(none)'}:")
