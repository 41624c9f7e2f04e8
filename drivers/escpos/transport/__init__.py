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

from drivers.escpos.transport.address import (
    DEFAULT_BAUDRATE,
    DEFAULT_TCP_PORT,
    PrinterAddress,
    parse_printer_uri,
)
from drivers.escpos.transport.channel import Channel, TransportError
from drivers.escpos.transport.file import FileChannel
from drivers.escpos.transport.serial import SerialChannel
from drivers.escpos.transport.socket import SocketChannel
from drivers.escpos.transport.usb import UsbChannel

CHANNELS: dict[str, type[Channel]] = {
    "socket": SocketChannel,
    "serial": SerialChannel,
    "usb": UsbChannel,
    "file": FileChannel,
}


def channel_for(address: PrinterAddress, timeout: float) -> Channel:
    return CHANNELS[address.scheme](address, timeout)


__all__ = [
    "CHANNELS",
    "DEFAULT_BAUDRATE",
    "DEFAULT_TCP_PORT",
    "Channel",
    "FileChannel",
    "PrinterAddress",
    "SerialChannel",
    "SocketChannel",
    "TransportError",
    "UsbChannel",
    "channel_for",
    "parse_printer_uri",
]
