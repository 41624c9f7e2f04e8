"""What every printer connection shares: the bounded-I/O ``Channel`` and its error.

Also points python-escpos at one capabilities folder before anything of ours imports it.
"""

from __future__ import annotations

import abc
import logging
import os
import time

from drivers.base import DeviceState, DeviceStatus, Paper, PrinterError
from drivers.escpos.transport.address import PrinterAddress

logger = logging.getLogger(__name__)

WRITE_CHUNK = 4096  # bytes per write call: each must make progress within the timeout


def _prepare_escpos() -> None:
    """python-escpos writes its capabilities pickle on first import into a fresh temporary
    folder per process unless told where: keep one folder, made here, reused across runs.
    Every module of ours that imports python-escpos imports this one first."""
    import tempfile

    folder = os.environ.setdefault(
        "ESCPOS_CAPABILITIES_PICKLE_DIR",
        os.path.join(tempfile.gettempdir(), "kiosk-escpos-capabilities"))
    os.makedirs(folder, exist_ok=True)


_prepare_escpos()


class TransportError(PrinterError):
    """The connection could not be made, or broke; ``status`` says what that means."""

    def __init__(self, message: str, state: DeviceState = DeviceState.OFFLINE):
        super().__init__(message, DeviceStatus(state, message, Paper.UNKNOWN))


def wait_drained(pending, timeout: float) -> bool:
    """Poll ``pending()`` (bytes not yet taken by the printer) until 0.

    False when it made no progress for ``timeout`` seconds: the printer stopped taking data.
    """
    last = pending()
    deadline = time.monotonic() + timeout
    while last:
        time.sleep(0.005)
        now = pending()
        if now < last:
            last, deadline = now, time.monotonic() + timeout
        elif time.monotonic() > deadline:
            return False
    return True


class Channel(abc.ABC):
    """An open connection to a printer: bounded writes, byte reads with a deadline."""

    can_read = True
    # Kept open between calls, or closed after each status request or job.
    keep_open = True

    def __init__(self, address: PrinterAddress, timeout: float):
        self.address = address
        self.timeout = timeout
        self._transport = None  # the python-escpos printer object once open

    @property
    def device(self):
        """The opened device of the python-escpos transport (socket, serial port, ...)."""
        # _device, not .device: python-escpos's property opens the device when read.
        return self._transport._device if self._transport is not None else None

    def open(self) -> None:
        """Connect; TransportError (with an offline/nodevice status) when that fails."""
        from escpos.exceptions import DeviceNotFoundError

        transport = self._make_transport()
        try:
            transport.open()
        except DeviceNotFoundError as exc:
            transport._device = False  # nothing for python-escpos's __del__ to close
            message = str(exc).replace("\n", " ")
            raise TransportError(f"{self.address.uri}: {message}", self._missing_state()) from None
        self._transport = transport
        self._after_open()

    def close(self) -> None:
        """Drop the connection without waiting for unsent data."""
        transport, self._transport = self._transport, None
        if transport is None or not transport._device:
            return
        try:
            self._close_device(transport._device)
        except Exception as exc:  # closing must never fail the caller
            logger.debug("%s: closing: %s", self.address.uri, exc)
        transport._device = False  # keeps python-escpos's own close()/__del__ from blocking

    def _missing_state(self) -> DeviceState:
        return DeviceState.OFFLINE

    def _after_open(self) -> None:
        """Adjust the freshly opened device (timeouts, blocking mode)."""
        return None

    @abc.abstractmethod
    def _make_transport(self): ...

    @abc.abstractmethod
    def _close_device(self, device) -> None: ...

    @abc.abstractmethod
    def write(self, data: bytes) -> None:
        """Send all of ``data``; TransportError when the printer stops taking it."""

    @abc.abstractmethod
    def read_byte(self, timeout: float) -> int | None:
        """The next byte from the printer, or None after ``timeout`` seconds of silence."""

    def discard_input(self) -> None:
        """Throw away bytes already received (late replies)."""
        return None

    def wait_sent(self) -> None:
        """Return once written data has left the computer, so a status reply is not queued
        behind it; TransportError when the printer stops taking data for ``timeout``."""
        return None

    def in_flight_allowance(self, nbytes: int) -> float:
        """Extra seconds the first reply after a job of ``nbytes`` may take, for data still
        queued ahead of the request where ``wait_sent`` cannot see it."""
        return 0.0

    def write_only_status(self) -> DeviceStatus:
        """What a transport that cannot read knows: the device is there to write to."""
        return DeviceStatus(
            DeviceState.ONLINE, "write-only connection: paper and cover unknown", Paper.UNKNOWN
        )

    def _lost(self, what: str, exc: BaseException | str) -> TransportError:
        return TransportError(f"{self.address.uri}: {what}: {exc}")
