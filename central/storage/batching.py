"""Group commit: writes from many request threads go to the database in shared batches.

Each caller hands its item to one writer thread and waits until the transaction holding it
has committed (so what a caller wrote can be read as soon as it returns); the writer takes
everything queued meanwhile into that one transaction. Under load, hundreds of heartbeats a
second become a few commits a second; alone, an item is written at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from ..errors import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")


class _Waiter:
    __slots__ = ("done", "error")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None


class BatchWriter(Generic[T]):
    """``submit(item)`` returns once ``write(batch)`` has stored a batch holding ``item``;
    if that write raised, ``submit`` raises the same error. ``close()`` ends the thread."""

    def __init__(self, write: Callable[[list[T]], None], name: str,
                 max_batch: int = 500) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[T, _Waiter]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, item: T) -> None:
        waiter = _Waiter()
        with self._cond:
            if self._closed:
                raise StoreError("the store is closed")
            self._queue.append((item, waiter))
            self._cond.notify()
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._queue or self._closed)
                if not self._queue:
                    return  # closed and drained
                batch = self._queue[:self._max_batch]
                del self._queue[:self._max_batch]
            error: BaseException | None = None
            try:
                self._write([item for item, _ in batch])
            except Exception as exc:  # noqa: BLE001 - handed to every caller of the batch
                log.debug("batched write failed", exc_info=True)
                error = exc
            for _, waiter in batch:
                waiter.error = error
                waiter.done.set()
