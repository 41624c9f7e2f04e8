"""Printer URIs to python-escpos transports, with bounded reads and writes.

python-escpos opens the connection (``Network``, ``Serial``, ``Usb``, ``File``); the kiosk then
writes and reads through the opened device itself, because the library's own ``_raw`` and
``_read`` can block far longer than a kiosk may wait: ``Network`` defaults to a 60 s timeout and
``sendall`` applies it to a whole image, ``Serial`` writes with no write timeout and its
``close()`` drains the output without a limit, ``Usb`` defaults to no timeout at all, and
``File`` writes block while a printer is stalled. Here every chunk of a write must make
progress within ``timeout`` seconds and every read has a deadline.

What status each transport can know:
  socket://, serial://  real-time status (DLE EOT) read back over the same connection.
  usb://                the same over the bulk IN endpoint when the printer has one; a printer
                        without it is treated like a write-only device.
  file://               write-only (python-escpos opens it "wb"): "online" means the device
                        file opens for writing; paper is always "unknown".
"""

from __future__ import annotations

import abc
import errno
import fcntl
import logging
import os
import select
import socket
import struct
import termios
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from drivers.base import DeviceConfigError, DeviceState, DeviceStatus, Paper, PrinterError

logger = logging.getLogger(__name__)


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

DEFAULT_TCP_PORT = 9100
DEFAULT_BAUDRATE = 9600
_SERIAL_FLOW = ("none", "rtscts", "xonxoff")
_SOCKET_CHUNK = 4096


class TransportError(PrinterError):
    """The connection could not be made, or broke; ``status`` says what that means."""

    def __init__(self, message: str, state: DeviceState = DeviceState.OFFLINE):
        super().__init__(message, DeviceStatus(state, message, Paper.UNKNOWN))


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


def _wait_drained(pending, timeout: float) -> bool:
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


class SocketChannel(Channel):
    """Raw TCP (port 9100), through ``escpos.printer.Network``.

    Connected for each status request or job only: many network printers serve one client at
    a time (a kept connection would lock out ``kiosk diag`` and service tools), and some drop
    idle connections without telling.
    """

    keep_open = False

    def _make_transport(self):
        from escpos.printer import Network

        return Network(self.address.host, self.address.port, timeout=self.timeout)

    def _after_open(self) -> None:
        # Status requests are 3 bytes: without this, Nagle holds them back behind the job's
        # unacknowledged tail until the printer's delayed ACK (about 40 ms on Linux).
        self.device.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _close_device(self, sock: socket.socket) -> None:
        # Read what is left first: closing with unread data sends a reset instead of a FIN.
        sock.setblocking(False)
        try:
            while sock.recv(4096):
                pass
        except OSError:
            pass
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        sock.close()

    def write(self, data: bytes) -> None:
        sock = self.device
        sock.settimeout(self.timeout)
        view = memoryview(data)
        try:
            # sendall's timeout covers the whole call: chunks make it a "no progress" limit.
            for start in range(0, len(view), _SOCKET_CHUNK):
                sock.sendall(view[start : start + _SOCKET_CHUNK])
        except TimeoutError:
            raise self._lost("printer stopped taking data", f"{self.timeout:g} s") from None
        except OSError as exc:
            raise self._lost("connection lost while sending", exc) from None

    def wait_sent(self) -> None:
        # Data sendall() handed to the kernel may still wait for the printer's window; a status
        # reply would queue behind it. Linux reports unacknowledged bytes with SIOCOUTQ.
        fd = self.device.fileno()

        def unacknowledged() -> int:
            return struct.unpack("i", fcntl.ioctl(fd, termios.TIOCOUTQ, b"\0\0\0\0"))[0]

        try:
            drained = _wait_drained(unacknowledged, self.timeout)
        except OSError:  # no SIOCOUTQ here: the status deadline has to do
            return
        if not drained:
            raise self._lost("printer stopped taking data", f"{self.timeout:g} s")

    def read_byte(self, timeout: float) -> int | None:
        sock = self.device
        sock.settimeout(max(timeout, 0.001))
        try:
            data = sock.recv(1)
        except TimeoutError:
            return None
        except OSError as exc:
            raise self._lost("connection lost", exc) from None
        if not data:
            raise self._lost("connection lost", "closed by the printer")
        return data[0]

    def discard_input(self) -> None:
        sock = self.device
        sock.setblocking(False)
        try:
            while True:
                data = sock.recv(4096)
                if not data:
                    raise self._lost("connection lost", "closed by the printer")
        except BlockingIOError:
            pass
        except OSError as exc:
            raise self._lost("connection lost", exc) from None
        finally:
            sock.settimeout(self.timeout)


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
            drained = _wait_drained(lambda: port.out_waiting, self.timeout)
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
                    view = view[os.write(fd, view[:_SOCKET_CHUNK]) :]
                except BlockingIOError:
                    continue
        except OSError as exc:
            raise self._lost("device file failed while writing", exc) from None

    def read_byte(self, timeout: float) -> int | None:
        return None


CHANNELS: dict[str, type[Channel]] = {
    "socket": SocketChannel,
    "serial": SerialChannel,
    "usb": UsbChannel,
    "file": FileChannel,
}


def channel_for(address: PrinterAddress, timeout: float) -> Channel:
    return CHANNELS[address.scheme](address, timeout)
