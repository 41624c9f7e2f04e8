"""usb://VID:PID: USB bulk endpoints; status over the IN endpoint when the printer has one,
else treated like a write-only device."""

from __future__ import annotations

import errno
import logging

from drivers.base import DeviceState
from drivers.escpos.transport.address import PrinterAddress
from drivers.escpos.transport.channel import Channel, TransportError

logger = logging.getLogger(__name__)


class UsbChannel(Channel):
    """USB bulk endpoints, through ``escpos.printer.Usb`` (needs pyusb and libusb)."""

    _CHUNK = 4096

    def __init__(self, address: PrinterAddress, timeout: float):
        super().__init__(address, timeout)
        self._pending = bytearray()

    def _make_transport(self):
        from escpos.printer import Usb

        # Checked before constructing: without pyusb even Usb.close() (run by __del__) raises.
        if not Usb.is_usable():
            raise TransportError(
                f"{self.address.uri}: USB printing needs pyusb (pip install pyusb) and libusb",
                DeviceState.NODEVICE,
            )
        return Usb(
            self.address.vendor_id,
            self.address.product_id,
            timeout=round(self.timeout * 1000),  # pyusb counts milliseconds
            in_ep=self.address.in_ep,
            out_ep=self.address.out_ep,
        )

    def _missing_state(self) -> DeviceState:
        return DeviceState.NODEVICE

    def _close_device(self, device) -> None:
        import usb.util

        usb.util.dispose_resources(device)

    def write(self, data: bytes) -> None:
        import usb.core

        ms = round(self.timeout * 1000)
        try:
            for start in range(0, len(data), self._CHUNK):
                self.device.write(self.address.out_ep, data[start : start + self._CHUNK], ms)
        except usb.core.USBTimeoutError:
            raise self._lost("printer stopped taking data", f"{self.timeout:g} s") from None
        except usb.core.USBError as exc:
            raise self._lost("USB transfer failed", exc) from None

    def read_byte(self, timeout: float) -> int | None:
        import usb.core

        if not self._pending and self.can_read:
            try:
                packet = self.device.read(self.address.in_ep, 64, max(1, round(timeout * 1000)))
            except usb.core.USBTimeoutError:
                return None
            except usb.core.USBError as exc:
                if exc.errno in (errno.ENODEV, errno.EIO):
                    raise self._lost("USB device gone", exc) from None
                # No usable IN endpoint: a write-only printer from now on.
                logger.warning("%s: cannot read status (%s); paper unknown", self.address.uri, exc)
                self.can_read = False
                return None
            self._pending.extend(bytes(packet))
        if not self._pending:
            return None
        return self._pending.pop(0)

    def discard_input(self) -> None:
        self._pending.clear()
        while self.can_read and self.read_byte(0.005) is not None:
            self._pending.clear()
