"""serial:///dev/NAME?baudrate=N&flow=F: a serial line, status read back over it."""

from __future__ import annotations

import logging
import termios

from drivers.base import DeviceState
from drivers.escpos.transport.channel import Channel, wait_drained

logger = logging.getLogger(__name__)


class SerialChannel(Channel):
    """A serial line, through ``escpos.printer.Serial`` (pyserial)."""

    def _make_transport(self):
        from escpos.printer import Serial

        return Serial(
            self.address.path,
            baudrate=self.address.baudrate,
            timeout=self.timeout,
            xonxoff=self.address.flow == "xonxoff",
            dsrdtr=False,  # pyserial has no DSR/DTR flow control on Linux anyway
        )

    def _missing_state(self) -> DeviceState:
        return DeviceState.NODEVICE

    @property
    def _chunk(self) -> int:
        return max(64, self.address.baudrate // 40)  # about 0.25 s of line time

    def in_flight_allowance(self, nbytes: int) -> float:
        # out_waiting sees the UART's own buffer, not what a USB serial adapter or a pty holds
        # (a pty buffers about 20 KB): allow the line time of what may still be queued.
        return min(10.0, min(nbytes, 65536) * 10 / self.address.baudrate)

    def _after_open(self) -> None:
        port = self.device
        if self.address.flow == "rtscts":
            port.rtscts = True  # python-escpos offers no RTS/CTS switch
        port.write_timeout = self.timeout + 0.25

    def _close_device(self, port) -> None:
        try:
            port.reset_output_buffer()  # else close() may wait for a stalled printer
        except (OSError, ValueError, termios.error) as exc:
            logger.debug("%s: discarding output: %s", self.address.uri, exc)
        port.close()

    def write(self, data: bytes) -> None:
        from serial import SerialException, SerialTimeoutException

        port = self.device
        try:
            for start in range(0, len(data), self._chunk):
                port.write(data[start : start + self._chunk])
        except SerialTimeoutException:
            raise self._lost("printer stopped taking data", f"{self.timeout:g} s") from None
        except (SerialException, OSError) as exc:
            raise self._lost("serial line failed while sending", exc) from None

    def wait_sent(self) -> None:
        from serial import SerialException

        port = self.device
        try:
            drained = wait_drained(lambda: port.out_waiting, self.timeout)
        except (SerialException, OSError) as exc:
            raise self._lost("serial line failed", exc) from None
        if not drained:
            raise self._lost("printer stopped taking data", f"{self.timeout:g} s")

    def read_byte(self, timeout: float) -> int | None:
        from serial import SerialException

        port = self.device
        port.timeout = max(timeout, 0.001)
        try:
            data = port.read(1)
        except (SerialException, OSError) as exc:
            raise self._lost("serial line failed", exc) from None
        return data[0] if data else None

    def discard_input(self) -> None:
        from serial import SerialException

        try:
            self.device.reset_input_buffer()
        except (SerialException, OSError) as exc:
            raise self._lost("serial line failed", exc) from None
