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


class QueueDecryptError(QueueError):
    """A transaction's personal data cannot be decrypted: the key file is not the one it was
    encrypted with, or the stored value was altered. ``tx_id`` names the transaction."""

    def __init__(self, tx_id: str, problem: str) -> None:
        super().__init__(f"cannot decrypt transaction {tx_id}: {problem}")
        self.tx_id = tx_id
        self.problem = problem


class QueueDiskFullError(QueueWriteError):
    """The filesystem is full: even after the queue gave up its reserve and everything that
    may give way did, the write found no room. Nothing of it was stored."""
