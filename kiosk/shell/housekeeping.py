"""The kiosk's periodic chores: erasing old personal data and asking the printer how it is."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer

from drivers.base import Printer
from kiosk.shell.controller import Controller
from kiosk.shell.workers import Jobs, LazyQueue

log = logging.getLogger(__name__)

PURGE_EVERY_MS = 10 * 60 * 1000
PRINTER_POLL_MS = 60 * 1000


class Housekeeping(QObject):
    """Two timers, started after the first frame: the retention purge of the queue and the
    printer's state between receipts (paper low, cover open...) for the heartbeat."""

    def __init__(self, ctl: Controller, jobs: Jobs, queue: LazyQueue, printer: Printer,
                 retention_h: int, rejected_retention_d: int,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._ctl = ctl
        self._jobs = jobs
        self._queue = queue
        self._printer = printer
        self._retention_s = retention_h * 3600
        self._rejected_retention_s = rejected_retention_d * 86400
        self._purge_timer = QTimer(self)
        self._purge_timer.timeout.connect(self.purge_personal)
        self._printer_timer = QTimer(self)
        self._printer_timer.timeout.connect(self.poll_printer)

    def start(self) -> None:
        self._purge_timer.start(PURGE_EVERY_MS)
        self._printer_timer.start(PRINTER_POLL_MS)
        self.purge_personal()

    def stop(self) -> None:
        self._purge_timer.stop()
        self._printer_timer.stop()

    def poll_printer(self) -> None:
        """Ask the printer for its state on its own thread, unless a receipt is on its way
        (its own status check will do)."""
        if self._ctl.submitting or not self._jobs.idle():
            return
        self._jobs.submit(self._jobs.device_executor, self._printer.status,
                          lambda s: self._ctl.on_device_status("printer", s),
                          lambda exc: log.warning("printer status: %s", exc))

    def purge_personal(self) -> None:
        """Delete transactions delivered longer ago than the retention, and rejected ones
        older than theirs."""
        retention_s, rejected_s = self._retention_s, self._rejected_retention_s
        self._jobs.submit(self._jobs.queue_executor,
                          lambda: self._queue.get().purge_personal(
                              retention_s, rejected_retention_s=rejected_s),
                          lambda n: n and log.info("purged %d transactions", n),
                          lambda exc: log.error("purge failed: %s", exc))
