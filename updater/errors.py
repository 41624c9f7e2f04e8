"""The one exception base of ``updater``."""

from __future__ import annotations


class UpdateError(Exception):
    """Base of every updater error; the message is one line for a technician."""


class ReleaseRefused(UpdateError):
    """A release the kiosk will not install (signature, version, hash); ``reason`` is what
    the heartbeat reports."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class DownloadError(UpdateError):
    """A wheel could not be fetched now; what was fetched is kept, the next try resumes."""


class SlotError(UpdateError):
    """A slot could not be built; the running slot is untouched."""
