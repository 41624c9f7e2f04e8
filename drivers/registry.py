"""Device URIs to backends, through one explicit table per device family.

Backends are imported only when chosen, so start-up pays for the one in use.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from urllib.parse import urlsplit

from drivers.base import CardReader, DeviceConfigError, Printer

# scheme -> "module:Class"; a scheme missing here is a configuration error naming the URI.
CARD_READERS = {
    "sim": "drivers.sim.reader:SimCardReader",
    "serial": "drivers.ga467.reader:Ga467Reader",  # serial:///dev/ttyUSB0?protocol=ga467
    "pcsc": "drivers.pcsc.reader:PcscReader",  # pcsc:?reader=SUBSTRING&profile=uid|beid
}
PRINTERS = {
    "sim": "drivers.sim.printer:SimPrinter",
    "socket": "drivers.escpos.printer:EscposPrinter",
    "serial": "drivers.escpos.printer:EscposPrinter",
    "usb": "drivers.escpos.printer:EscposPrinter",
    "file": "drivers.escpos.printer:EscposPrinter",
}


def scheme_of(uri: str) -> str:
    scheme = urlsplit(uri).scheme if ":" in uri else ""
    if not scheme:
        raise DeviceConfigError(f"{uri!r}: not a device URI (expected e.g. \"sim:\")")
    return scheme.lower()


def _backend(table: dict[str, str], uri: str, family: str):
    scheme = scheme_of(uri)
    target = table.get(scheme)
    if target is None:
        known = ", ".join(f"{s}:" for s in table)
        raise DeviceConfigError(f"{uri!r}: no {family} backend for {scheme}: (known: {known})")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)


def create_card_reader(uri: str) -> CardReader:
    return _backend(CARD_READERS, uri, "card reader")(uri)


def create_printer(uri: str, *, out_dir: Path, width_dots: int = 384) -> Printer:
    """``out_dir`` is where a simulated printer keeps the receipts it renders."""
    cls = _backend(PRINTERS, uri, "printer")
    if scheme_of(uri) == "sim":
        return cls(uri, out_dir=out_dir, width_dots=width_dots)
    return cls(uri, width_dots=width_dots)
