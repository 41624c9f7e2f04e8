"""Background work for the app shell: results come back to the GUI thread only as signals.

- ``Jobs`` runs a function on a given single-worker executor and calls back on the GUI thread
  (the pattern of Anki's QueryOp): one executor for the queue (its only writer), one for
  the printer.
- ``CardReaderThread`` waits for card events on its own thread and emits them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from drivers.base import CardReader, DeviceError, DeviceState, DeviceStatus

log = logging.getLogger(__name__)


class Jobs(QObject):
    _finished = Signal(object)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._finished.connect(self._deliver)
        self.queue_executor = ThreadPoolExecutor(1, thread_name_prefix="queue")
        self.device_executor = ThreadPoolExecutor(1, thread_name_prefix="printer")
        self._pending: set[Future] = set()

    def submit(self, executor: ThreadPoolExecutor, fn: Callable[[], Any],
               on_ok: Callable[[Any], None], on_error: Callable[[BaseException], None]) -> Future:
        future = executor.submit(fn)
        self._pending.add(future)
        # The done-callback runs on the worker; the signal hops to the GUI thread.
        future.add_done_callback(lambda f: self._finished.emit((f, on_ok, on_error)))
        return future

    def _deliver(self, item) -> None:
        future, on_ok, on_error = item
        self._pending.discard(future)
        exc = future.exception()
        if exc is not None:
            on_error(exc)
        else:
            on_ok(future.result())

    def idle(self) -> bool:
        return not self._pending

    def shutdown(self) -> None:
        for ex in (self.queue_executor, self.device_executor):
            ex.shutdown(wait=True, cancel_futures=False)


class LazyQueue:
    """The offline queue, opened on the queue's executor once the first frame is up.

    Opening imports sqlite-utils and runs ``PRAGMA quick_check``: work that can wait until
    the home screen shows. ``get()`` blocks until it is open (or opens it right away).
    """

    def __init__(self, path, executor: ThreadPoolExecutor, key_file=None, make_room=()):
        self._path = path
        self._key_file = key_file
        self._make_room = tuple(make_room)  # what gives way before the queue on a full disk
        self._executor = executor
        self._future: Future | None = None
        self._lock = threading.Lock()

    def open_soon(self) -> None:
        with self._lock:
            if self._future is None:
                self._future = self._executor.submit(self._open)

    def _open(self):
        from contract.clock import shared_clock
        from offline_queue import OfflineQueue

        clock = shared_clock()  # created_at by the corrected clock; "unknown" when it is
        return OfflineQueue(self._path, key_file=self._key_file, make_room=self._make_room,
                            clock=clock.now, clock_known=clock.known)

    def get(self):
        with self._lock:
            if self._future is None:  # not scheduled yet: open here and now
                self._future = Future()
                self._future.set_result(self._open())
        return self._future.result()

    def close(self) -> None:
        with self._lock:
            future = self._future
        if future is not None and future.exception() is None:
            future.result().close()


class CardReaderThread(QThread):
    """Owns the reader: opens it, waits for events, reopens it after a failure."""

    cardEvent = Signal(object)  # drivers.base.CardEvent
    statusChanged = Signal(object)  # drivers.base.DeviceStatus

    POLL_S = 0.2
    RETRY_S = 2.0

    def __init__(self, reader: CardReader, parent: QObject | None = None):
        super().__init__(parent)
        self.reader = reader
        self._stop = False

    def stop(self) -> None:
        self._stop = True
        self.wait(5000)

    def run(self) -> None:
        opened = False
        while not self._stop:
            try:
                if not opened:
                    self.reader.open()
                    opened = True
                    self.statusChanged.emit(self.reader.status())
                event = self.reader.wait_event(self.POLL_S)
                if event is not None and not self._stop:
                    self.cardEvent.emit(event)
            except DeviceError as exc:
                log.warning("card reader %s: %s", self.reader.uri, exc)
                status = self._status_after_error()
                if status is None or status.state == DeviceState.ONLINE:
                    status = DeviceStatus(DeviceState.OFFLINE, str(exc))
                self.statusChanged.emit(status)  # e.g. hwerror for a SAM fault
                opened = self._close_quietly()
                self.msleep(int(self.RETRY_S * 1000))
            except Exception:  # a driver bug must not kill the reader for good
                log.exception("card reader %s failed", self.reader.uri)
                self.statusChanged.emit(DeviceStatus(DeviceState.HWERROR, "driver error"))
                opened = self._close_quietly()
                self.msleep(int(self.RETRY_S * 1000))
        if opened:
            self._close_quietly()

    def _status_after_error(self) -> DeviceStatus | None:
        try:
            return self.reader.status()
        except Exception:  # noqa: BLE001 - a broken driver: fall back to "offline"
            return None

    def _close_quietly(self) -> bool:
        try:
            self.reader.close()
        except Exception:  # noqa: BLE001 - closing a broken device may fail too
            log.debug("closing reader failed", exc_info=True)
        return False
