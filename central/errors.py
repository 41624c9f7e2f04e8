"""Errors of the reference central server; all derive from ``CentralError``."""

from __future__ import annotations


class CentralError(Exception):
    """Base of every central error; the message is one line for an operator."""


class ConfigError(CentralError):
    """A kiosks file, menu file or signing key that cannot be used."""


class SignatureError(CentralError):
    """A menu bundle that is malformed or whose signature does not verify."""


class VersionTaken(CentralError):
    """A menu version already kept for its target (the store's unique key): another
    central process published it first."""


class StoreError(CentralError):
    """The database cannot be used: closed, or written by a newer version."""


class StoreBusy(StoreError):
    """No database connection came free within the store's wait: the central is saturated
    (answered 503 with ``Retry-After``, never a wait into the kiosk's time-out)."""
