"""file:///dev/NAME: a printer device file, write-only; paper is always unknown."""

from __future__ import annotations

import os
import select

from drivers.base import DeviceState, DeviceStatus
from drivers.escpos.transport.channel import WRITE_CHUNK, Channel, TransportError


class FileChannel(Channel):
    """A device file such as /dev/usb/lp0, through ``escpos.printer.File``; write-only."""

    can_read = False

    def write_only_status(self) -> DeviceStatus:
        # The kernel removes /dev/usb/lpN when the printer is unplugged or switched off.
        if not os.path.exists(self.address.path):
            raise TransportError(f"{self.address.uri}: device file is gone", DeviceState.NODEVICE)
        return super().write_only_status()

    def _make_transport(self):
        from escpos.printer import File

        return File(self.address.path, auto_flush=False)

    def _missing_state(self) -> DeviceState:
        return DeviceState.NODEVICE

    def open(self) -> None:
        # python-escpos opens with "wb", which would create a plain file where the device node
        # of an unplugged printer belongs, and "print" into it.
        if not os.path.exists(self.address.path):
            raise TransportError(f"{self.address.uri}: no such device file", DeviceState.NODEVICE)
        super().open()

    def _after_open(self) -> None:
        # Write through the descriptor, non-blocking, so a stalled printer cannot hang us.
        os.set_blocking(self.device.fileno(), False)

    def _close_device(self, device) -> None:
        device.close()

    def write(self, data: bytes) -> None:
        fd = self.device.fileno()
        view = memoryview(data)
        try:
            while view:
                _, ready, _ = select.select([], [fd], [], self.timeout)
                if not ready:
                    raise self._lost("printer stopped taking data", f"{self.timeout:g} s")
                try:
                    view = view[os.write(fd, view[:WRITE_CHUNK]) :]
                except BlockingIOError:
                    continue
        except OSError as exc:
            raise self._lost("device file failed while writing", exc) from None

    def read_byte(self, timeout: float) -> int | None:
        return None
