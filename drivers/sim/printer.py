"""The simulated receipt printer behind the ``sim:`` URI: saves each receipt as a PNG."""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from drivers.base import DeviceConfigError, DeviceState, DeviceStatus, Paper, Printer, PrinterError

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class SimPrinter(Printer):
    """Records what it was asked to print and writes it to ``out_dir``.

    Tests set ``fault`` to a DeviceStatus (paper out, cover open...) to make ``status`` report it
    and ``print_image`` fail with it. Without ``out_dir``, receipts go to a folder under the
    system's temporary directory.
    """

    def __init__(self, uri: str = "sim:", out_dir: Path | None = None, width_dots: int = 384):
        if not uri.startswith("sim:"):
            raise DeviceConfigError(f"not a simulated printer URI: {uri!r}")
        self.uri = uri
        self.width_dots = width_dots
        self.out_dir = (
            Path(out_dir) if out_dir else Path(tempfile.gettempdir()) / "kiosk-sim-printer"
        )
        # ``sim:?paper=out`` (or low, jammed) starts with that paper state, for demos and CLI
        # tests; ``low`` still prints, as a real printer does near the end of the roll.
        self.fault: DeviceStatus | None = _fault_from_uri(uri)
        self.printed: list[tuple[str, Path]] = []
        self.last_path: Path | None = None
        self.last_image: Image.Image | None = None
        self._lock = threading.Lock()
        self._open = False

    def open(self) -> None:
        with self._lock:
            self._open = True

    def close(self) -> None:
        with self._lock:
            self._open = False

    def status(self) -> DeviceStatus:
        fault = self.fault
        if fault is not None:
            return fault
        return DeviceStatus(DeviceState.ONLINE, "simulated printer", paper=Paper.FULL)

    def print_image(self, image: Image.Image, *, name: str = "") -> None:
        with self._lock:
            if not self._open:
                raise PrinterError(
                    f"{self.uri}: printer is not open",
                    DeviceStatus(DeviceState.OFFLINE, "not open"),
                )
            fault = self.fault
            if fault is not None and (fault.state != DeviceState.ONLINE
                                      or fault.paper in (Paper.OUT, Paper.JAMMED)):
                raise PrinterError(f"{self.uri}: simulated fault: {_describe(fault)}", fault)
            if image.width > self.width_dots:
                # Real printers refuse images wider than the paper; so does the simulator.
                raise PrinterError(
                    f"{self.uri}: image is {image.width} dots wide, paper takes {self.width_dots}"
                )
            path = self._free_path(name)
            try:
                self.out_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
                # 0600: a receipt image is personal data in the kiosk's data folder
                with open(path, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as out:
                    image.save(out, format="PNG")
            except OSError as exc:
                raise PrinterError(f"{self.uri}: cannot save {path}: {exc}") from exc
            self.printed.append((name, path))
            self.last_path = path
            self.last_image = image.copy()
        logger.info("simulated printer saved %s (%dx%d)", path, image.width, image.height)

    def _free_path(self, name: str) -> Path:
        stem = _UNSAFE_NAME.sub("_", name).strip("._") if name else ""
        if not stem:
            stem = "receipt-" + datetime.now().strftime("%Y%m%d-%H%M%S-%f")
        path = self.out_dir / f"{stem}.png"
        counter = 2
        while path.exists():
            path = self.out_dir / f"{stem}-{counter}.png"
            counter += 1
        return path


def _describe(status: DeviceStatus) -> str:
    parts = [str(status.state)]
    if status.paper is not None:
        parts.append(f"paper {status.paper}")
    if status.detail:
        parts.append(status.detail)
    return ", ".join(parts)


def _fault_from_uri(uri: str) -> DeviceStatus | None:
    from urllib.parse import parse_qs, urlsplit

    paper = parse_qs(urlsplit(uri).query).get("paper", [""])[0]
    if not paper:
        return None
    try:
        level = Paper(paper)
    except ValueError:
        raise DeviceConfigError(f"{uri!r}: paper must be one of full, low, out, jammed") from None
    if level == Paper.FULL:
        return None
    state = DeviceState.ONLINE if level == Paper.LOW else DeviceState.USERERROR
    return DeviceStatus(state, f"simulated paper {level}", level)
