"""Errors raised by the offline queue; all derive from ``QueueError``."""

from __future__ import annotations


class QueueError(Exception):
    """Base of every queue error; the message is for technicians and logs."""


class QueueWriteError(QueueError):
    """A write did not reach the disk (disk full, read-only, I/O error, queue closed).

    ``enqueue`` raises it so the caller can refuse to show the success screen: a transaction
    the resident was told is saved must really be saved.
    """


class QueueSchemaError(QueueError):
    """The database's schema cannot be used: written by newer code, or a migration failed."""
