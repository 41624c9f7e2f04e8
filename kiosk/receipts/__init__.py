"""Receipts: rendering to a 1-bit image (``render``) and keeping unprinted ones (``reprints``)."""

from kiosk.errors import KioskError


class ReceiptError(KioskError):
    """A receipt could not be rendered (no usable font, bad data)."""
