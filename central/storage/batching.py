"""Group commit: writes from many request threads go to the database in shared batches.

Each caller hands its item to one writer thread and waits until the transaction holding it
has committed (so what a caller wrote can be read as soon as it returns); the writer takes
everything queued meanwhile into that one transaction. Under load, hundreds of heartbeats a
second become a few commits a second; alone, an item is written at once.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ..errors import StoreError

log = logging.getLogger(__name__)

T = TypeVar("T")
#: PostgreSQL rows of heartbeats given as three arrays (kiosk ids, times, bodies as JSON)
HB_ROWS = ("SELECT k, r, b::jsonb FROM unnest(%s::text[], %s::float8[], %s::text[]) "
           "AS u(k, r, b)")


class _Waiter:
    """A caller waiting for its batch: a thread (an event) or a coroutine (a future of
    ``loop``, settled on that loop)."""

    __slots__ = ("done", "error", "future", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.loop = loop
        self.future = None if loop is None else loop.create_future()

    def finish(self, error: BaseException | None) -> None:
        self.error = error
        self.done.set()
        if self.loop is not None:
            try:
                self.loop.call_soon_threadsafe(_settle, self.future, error)
            except RuntimeError:  # the loop is closed: no one waits any more
                pass


def _settle(future: asyncio.Future, error: BaseException | None) -> None:
    if not future.done():
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


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
        waiter = self._enqueue(item, _Waiter())
        waiter.done.wait()
        if waiter.error is not None:
            raise waiter.error

    async def submit_async(self, item: T) -> None:
        """``submit`` for a coroutine: it waits on its event loop, not on a thread (a
        hand-over to a thread and back per item cost more CPU than the item's write)."""
        waiter = self._enqueue(item, _Waiter(asyncio.get_running_loop()))
        await waiter.future  # type: ignore[misc]

    def _enqueue(self, item: T, waiter: _Waiter) -> _Waiter:
        with self._cond:
            if self._closed:
                raise StoreError("the store is closed")
            self._queue.append((item, waiter))
            self._cond.notify()
        return waiter

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
                waiter.finish(error)


class AsyncHeartbeats:
    """A store whose heartbeats go through a ``BatchWriter`` (``_heartbeat_writer`` of
    ``(kiosk id, received at, body as JSON)``): the web layer awaits the write on its event
    loop instead of handing ``add_heartbeat`` to a thread."""

    _heartbeat_writer: BatchWriter[tuple[str, float, str]]

    async def add_heartbeat_async(self, kiosk_id: str, body: dict[str, Any], now: float
                                  ) -> None:
        """``add_heartbeat``, awaited: returns once the batch holding it has committed."""
        await self._heartbeat_writer.submit_async(
            (kiosk_id, now, json.dumps(body, ensure_ascii=False)))
