"""socket://HOST:PORT: raw TCP (port 9100), status read back over the same connection."""

from __future__ import annotations

import fcntl
import socket
import struct
import termios

from drivers.escpos.transport.channel import WRITE_CHUNK, Channel, wait_drained


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
            for start in range(0, len(view), WRITE_CHUNK):
                sock.sendall(view[start : start + WRITE_CHUNK])
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
            drained = wait_drained(unacknowledged, self.timeout)
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
