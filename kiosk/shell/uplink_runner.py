"""The kiosk's link to the central platform inside the app: the sync worker and the menu
poller, each started off the GUI thread, their news carried to the GUI thread by signals.

Offline-only kiosks (no ``central.url``) start neither.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from kiosk.config import Config
from kiosk.shell.workers import Jobs, LazyQueue
from uplink.status_board import StatusBoard

if TYPE_CHECKING:
    from uplink.commands import CommandBook

log = logging.getLogger(__name__)


class UplinkRunner(QObject):
    """Starts and stops the sync worker and the menu poller of ``config``'s central."""

    statusChanged = Signal(object)  # uplink.uploader.SyncStatus, on the GUI thread
    menuArrived = Signal(object)  # contract.menu.Menu, verified and stored
    workerStarted = Signal(object)  # the SyncWorker, once it runs
    pollerStarted = Signal(object)  # the MenuPoller, once it runs
    switchWanted = Signal()  # a release's slot is ready and its time has come (updates)
    commandsArrived = Signal(object)  # list[uplink.commands.Command], from a heartbeat answer

    def __init__(self, config: Config, jobs: Jobs, queue: LazyQueue, board: StatusBoard,
                 book: CommandBook | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.book = book  # the fleet commands taken and their results
        self._config = config
        self._jobs = jobs
        self._queue = queue
        self._board = board
        self.sync_worker = None
        self.menu_poller = None
        self.update_loop = None  # kiosk.updates.UpdateLoop, when updates are enabled
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
        from uplink.commands import CommandExchange

        config, board = self._config, self._board
        gate = config.kiosk.data_dir / "diagnostics"  # the PIN gate's lock-out, for the heartbeat
        report = self._start_updates()
        commands = (None if self.book is None
                    else CommandExchange(self.book, self.commandsArrived.emit))
        self._jobs.submit(
            self._jobs.queue_executor,
            lambda: make_worker(config, self._queue.get(), board,
                                on_status=self.statusChanged.emit,
                                technician=lambda: read_status(gate), updates=report,
                                commands=commands),
            self._worker_made, lambda exc: log.error("upload not started: %s", exc))
        self._jobs.submit(
            self._jobs.queue_executor,
            lambda: make_poller(config, board, running_menu_version,
                                on_menu=self.menuArrived.emit),
            self._poller_made, lambda exc: log.error("menu updates not started: %s", exc))

    def _start_updates(self):
        """The update loop (issue #15) when ``[updates] enabled``; its heartbeat report."""
        from kiosk import updates

        if not updates.enabled(self._config):
            return None
        try:
            agent = updates.make_agent(self._config)
        except OSError as exc:
            log.error("updates not started: %s", exc)
            return None
        u = self._config.updates
        self.update_loop = updates.UpdateLoop(agent, u.check_s, u.window,
                                              self.switchWanted.emit)
        self.update_loop.start()
        return updates.UpdateReport(self._config, self.update_loop)

    def request_switch(self) -> bool:
        """Ask the update guard to switch to the ready slot at the next start."""
        return self.update_loop is not None and self.update_loop.agent.request_switch()

    def wake(self) -> None:
        """A transaction was stored: upload it now rather than at the next interval."""
        if self.sync_worker is not None:
            self.sync_worker.wake()

    def stop(self) -> None:
        """Stop both; call after the queue's executor has shut down, so that neither can
        still be starting."""
        self._stopped = True
        for runner in (self.sync_worker, self.menu_poller, self.update_loop):
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
