"""Errors of talking to the central platform; all derive from ``UplinkError``."""

from __future__ import annotations


class UplinkError(Exception):
    """Base of every uplink error; messages are short, for technicians and logs, and never
    hold the token or personal data."""


class SyncError(UplinkError):
    """Base of the errors of one exchange with the central platform."""


class TransportError(SyncError):
    """No usable HTTP answer: connection refused or reset, DNS, timeout, TLS, broken framing."""


class TokenError(SyncError):
    """The bearer token cannot be read from the token file (missing, unreadable, empty or
    malformed). The uploader treats it as an authentication failure."""


class UploadRefused(SyncError):
    """The central did not take a file a fleet command uploads (its status and message)."""


class MenuStoreError(UplinkError):
    """The stored menu cannot be used; the message is one line for a technician."""


class ClockError(TransportError):
    """TLS refused the central's certificate as "not yet valid" by the kiosk's own clock:
    a clock problem, reported as such, not as a network failure."""
