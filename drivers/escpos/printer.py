"""ESC/POS receipt printers over raw TCP, a serial line, USB or a device file.

The receipt arrives as a 1-bit image; python-escpos turns it into ``GS v 0`` raster commands
and a cut. The connection is made on first use, on the caller's (device) thread, and made again
after it breaks, so a printer switched on after the kiosk, or power-cycled, just comes back;
TCP printers are connected only for each status request or job.
Every wait is bounded: ``timeout`` seconds without progress while connecting or sending, and
``status_timeout`` seconds for each status reply.

Status is checked before a job (a job is refused unless the printer is online with paper) and
after it (a failure during the job is reported). A real-time status request is answered when
the printer receives it, not when it has printed everything before it: a paper end in the last
centimetres of a receipt can go unnoticed until the next status check.
"""

from __future__ import annotations

import copy
import functools
import logging
import threading
import time
from typing import TYPE_CHECKING

from drivers.base import DeviceConfigError, DeviceState, DeviceStatus, Paper, Printer, PrinterError
from drivers.escpos.status import STATUS_TIMEOUT, decide, printable, query
from drivers.escpos.transport import Channel, TransportError, channel_for, parse_printer_uri

if TYPE_CHECKING:
    from PIL import Image

logger = logging.getLogger(__name__)

INITIALIZE = b"\x1b@"  # ESC @: drop any half-received settings of an earlier, broken job


@functools.lru_cache(maxsize=8)
def _profile_data(width_dots: int) -> dict:
    """python-escpos's default profile (it can cut) with the paper width set to ours.

    The named profiles of the right width are no good: the 384-dot ones (POS-5890, ZJ-5870...)
    declare no cutter, so ``cut()`` would send no cut at all; and the default profile's
    "Unknown" width makes ``image()`` print a warning on stdout.
    """
    from escpos.capabilities import get_profile

    data = copy.deepcopy(get_profile("default").profile_data)
    data["media"]["width"]["pixels"] = width_dots
    return data


def build_job(image: Image.Image, width_dots: int) -> bytes:
    """The bytes of one receipt: initialise, the image as ``GS v 0`` raster, feed and cut."""
    from escpos.printer import Dummy
    from PIL import Image

    if image.mode != "1":
        image = image.convert("1")
    if image.width < width_dots:  # centre it here: python-escpos drops center= on tall images
        padded = Image.new("1", (width_dots, image.height), 1)
        padded.paste(image, ((width_dots - image.width) // 2, 0))
        image = padded
    job = Dummy()
    job.profile.profile_data = _profile_data(width_dots)
    job._raw(INITIALIZE)
    job.image(image, impl="bitImageRaster")
    job.cut()
    return job.output


def describe(status: DeviceStatus) -> str:
    parts = [str(status.state)]
    if status.paper is not None:
        parts.append(f"paper {status.paper}")
    if status.detail:
        parts.append(status.detail)
    return ", ".join(parts)


class EscposPrinter(Printer):
    """A receipt printer speaking ESC/POS, at a ``socket://``, ``serial://``, ``usb://`` or
    ``file://`` URI. Blocking; meant for one device thread (calls are serialised anyway)."""

    def __init__(
        self,
        uri: str,
        width_dots: int = 384,
        timeout: float = 3.0,
        status_timeout: float = STATUS_TIMEOUT,
    ):
        self.address = parse_printer_uri(uri)
        if not isinstance(width_dots, int) or not 8 <= width_dots <= 2048:
            raise DeviceConfigError(f"{uri!r}: paper width {width_dots!r} dots is not sensible")
        if not timeout > 0 or not status_timeout > 0:
            raise DeviceConfigError(f"{uri!r}: timeouts must be positive")
        self.uri = uri
        self.width_dots = width_dots
        self.timeout = timeout
        self.status_timeout = status_timeout
        self.last_job_bytes = 0  # size of the last job sent, for diagnostics
        self._lock = threading.Lock()
        self._open = False
        self._channel: Channel | None = None

    def open(self) -> None:
        """Make the printer usable. No I/O: the app calls this on its GUI thread, so the
        connection is made by the first ``status()`` or ``print_image()``."""
        with self._lock:
            self._open = True

    def close(self) -> None:
        with self._lock:
            self._open = False
            self._disconnect()

    def status(self) -> DeviceStatus:
        with self._lock:
            if not self._open:
                return DeviceStatus(DeviceState.OFFLINE, "not open", Paper.UNKNOWN)
            try:
                return self._status()
            finally:
                self._release()

    def print_image(self, image: Image.Image, *, name: str = "") -> None:
        label = f"receipt {name}" if name else "receipt"
        with self._lock:
            if not self._open:
                raise PrinterError(
                    f"{self.uri}: printer is not open",
                    DeviceStatus(DeviceState.OFFLINE, "not open", Paper.UNKNOWN),
                )
            if image.width > self.width_dots:
                raise PrinterError(
                    f"{self.uri}: image is {image.width} dots wide, paper takes {self.width_dots}"
                )
            job = build_job(image, self.width_dots)
            try:
                started = self._print(job, label)
            finally:
                self._release()
        logger.info(
            "%s: printed %s (%dx%d, %d bytes) in %.2f s",
            self.uri,
            label,
            image.width,
            image.height,
            len(job),
            time.perf_counter() - started,
        )

    def _print(self, job: bytes, label: str) -> float:
        """Check, send ``job``, check again; return when sending started."""
        before = self._status()
        channel = self._channel
        if channel is None or not printable(before, channel.can_read):
            raise PrinterError(f"{self.uri}: {label} not printed: {describe(before)}", before)
        started = time.perf_counter()
        try:
            channel.write(job)
            self.last_job_bytes = len(job)
            channel.wait_sent()
            after = self._ask(channel, channel.in_flight_allowance(len(job)))
        except TransportError as exc:
            self._disconnect()
            raise PrinterError(f"{label} not printed: {exc}", exc.status) from None
        if not printable(after, channel.can_read):
            raise PrinterError(
                f"{self.uri}: {label} may be incomplete: {describe(after)} after it was sent",
                after,
            )
        return started

    # --- connection -------------------------------------------------------------------------

    def _connect(self) -> Channel:
        """The open channel, made if needed; TransportError when it cannot be made."""
        if self._channel is None:
            channel = channel_for(self.address, self.timeout)
            channel.open()
            self._channel = channel
            logger.debug("%s: connected", self.uri)
        return self._channel

    def _release(self) -> None:
        """After a call: close a connection that is not meant to be kept."""
        if self._channel is not None and not self._channel.keep_open:
            self._disconnect()

    def _disconnect(self) -> None:
        channel, self._channel = self._channel, None
        if channel is not None:
            channel.close()

    def _status(self) -> DeviceStatus:
        """Status, connecting if needed; a kept connection that went stale is made again once."""
        while True:
            fresh = self._channel is None
            try:
                return self._ask(self._connect())
            except TransportError as exc:
                self._disconnect()
                if fresh:
                    return exc.status
                logger.debug("%s: connection went stale (%s); reconnecting", self.uri, exc)

    def _ask(self, channel: Channel, allowance: float = 0.0) -> DeviceStatus:
        """Ask over ``channel``, allowing ``allowance`` more seconds for the first reply; a
        silent printer is disconnected so that the next call connects again."""
        if not channel.can_read:
            return channel.write_only_status()
        replies = query(channel, self.status_timeout, self.status_timeout + allowance)
        if not channel.can_read:  # a USB printer without an IN endpoint, found out just now
            return channel.write_only_status()
        if replies.printer is None:
            self._disconnect()
        return decide(replies)
