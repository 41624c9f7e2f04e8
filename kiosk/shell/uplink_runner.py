"""The kiosk's link to the central platform inside the app: the sync worker and the menu
poller, each started off the GUI thread, their news carried to the GUI thread by signals.

Offline-only kiosks (no ``central.url``) start neither.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from kiosk.config import Config
from kiosk.shell.workers import Jobs, LazyQueue
from uplink.status_board import StatusBoard

log = logging.getLogger(__name__)


class UplinkRunner(QObject):
    """Starts and stops the sync worker and the menu poller of ``config``'s central."""

    statusChanged = Signal(object)  # uplink.uploader.SyncStatus, on the GUI thread
    menuArrived = Signal(object)  # contract.menu.Menu, verified and stored
    workerStarted = Signal(object)  # the SyncWorker, once it runs
    pollerStarted = Signal(object)  # the MenuPoller, once it runs

    def __init__(self, config: Config, jobs: Jobs, queue: LazyQueue, board: StatusBoard,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._config = config
        self._jobs = jobs
        self._queue = queue
        self._board = board
        self.sync_worker = None
        self.menu_poller = None
        self._stopped = False

    @property
    def enabled(self) -> bool:
        return bool(self._config.central.url)

    def start(self, running_menu_version: int) -> None:
        """Make the worker and the poller on the queue's executor (they read the queue and
        the menu store), then start them; ``workerStarted``/``pollerStarted`` say when."""
        if not self.enabled:
            return
        from kiosk.central_link import make_poller, make_worker
        from kiosk.technician.pin_gate import read_status

        config, board = self._config, self._board
        gate = config.kiosk.data_dir / "diagnostics"  # the PIN gate's lock-out, for the heartbeat
        self._jobs.submit(
            self._jobs.queue_executor,
            lambda: make_worker(config, self._queue.get(), board,
                                on_status=self.statusChanged.emit,
                                technician=lambda: read_status(gate)),
            self._worker_made, lambda exc: log.error("upload not started: %s", exc))
        self._jobs.submit(
            self._jobs.queue_executor,
            lambda: make_poller(config, board, running_menu_version,
                                on_menu=self.menuArrived.emit),
            self._poller_made, lambda exc: log.error("menu updates not started: %s", exc))

    def wake(self) -> None:
        """A transaction was stored: upload it now rather than at the next interval."""
        if self.sync_worker is not None:
            self.sync_worker.wake()

    def stop(self) -> None:
        """Stop both; call after the queue's executor has shut down, so that neither can
        still be starting."""
        self._stopped = True
        for runner in (self.sync_worker, self.menu_poller):
            if runner is not None:
                runner.stop()

    def _worker_made(self, worker) -> None:
        if self._stopped:
            return
        self.sync_worker = worker
        worker.start()
        self.workerStarted.emit(worker)

    def _poller_made(self, poller) -> None:
        if self._stopped:
            return
        self.menu_poller = poller
        poller.start()
        self.pollerStarted.emit(poller)
