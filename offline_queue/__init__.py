"""Durable offline queue of confirmed transactions (SQLite, Qt-free)."""

from .errors import (
    QueueDecryptError,
    QueueDiskFullError,
    QueueError,
    QueueSchemaError,
    QueueWriteError,
)
from .queue import OfflineQueue
from .schema import STATES
from .transaction import Transaction

__all__ = [
    "STATES",
    "OfflineQueue",
    "QueueDecryptError",
    "QueueDiskFullError",
    "QueueError",
    "QueueSchemaError",
    "QueueWriteError",
    "Transaction",
]
