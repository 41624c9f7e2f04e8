"""The running app's status, collected off the GUI thread, for the diagnostics screen and
``<data_dir>/status.json`` (what ``kiosk diag status`` reads).

``collect_status`` runs on the queue's executor, since it reads the queue; what the app knows
(devices, sync, menu, notices) comes from the thread-safe ``StatusBoard`` there too. The live
probe of the central platform runs on an executor of its own and only its last answer is
used, so a slow network (an unbounded DNS lookup) never holds up the queue, the screen, the
audit log's writes or shutdown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

from PySide6.QtCore import QObject, QTimer

from kiosk.config import Config
from kiosk.shell.workers import Jobs, LazyQueue
from kiosk.technician import status as status_mod
from uplink.status_board import StatusBoard

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0
PROBE_EVERY_S = 15.0  # while the diagnostics screen is shown


class StatusCollector(QObject):
    def __init__(self, config: Config, jobs: Jobs, queue: LazyQueue, board: StatusBoard,
                 parent: QObject | None = None):
        super().__init__(parent)
        self._config = config
        self._jobs = jobs
        self._queue = queue
        self._board = board
        self.probe_executor = ProbeThreads()
        self._stopped = False
        self.probe_result: dict | None = None
        self._probing = False
        self._probed_at = 0.0
        self._snapshots = QTimer(self)
        self._snapshots.timeout.connect(self.write_snapshot)

    def start_snapshots(self, every_s: float = status_mod.SNAPSHOT_EVERY_S) -> None:
        """Write ``status.json`` now and every ``every_s`` seconds."""
        self._snapshots.start(int(every_s * 1000))
        self.write_snapshot()

    def stop(self) -> None:
        """No more snapshots or probes. A probe under way is left to finish on its own
        (daemon) thread: neither shutdown nor the process's exit waits for the network."""
        self._stopped = True
        self._snapshots.stop()

    def collect(self, on_ok: Callable[[dict], None],
                on_error: Callable[[BaseException], None]) -> None:
        """Collect the overview on the queue's executor; ``on_ok(status)`` on the GUI thread."""
        fn = self._collector()
        self._jobs.submit(self._jobs.queue_executor, fn, on_ok, on_error)

    def write_snapshot(self) -> None:
        if self._stopped:
            return
        fn = self._collector()
        path = status_mod.snapshot_path(self._config)

        def job() -> None:
            status_mod.write_snapshot(path, fn())

        self._jobs.submit(self._jobs.queue_executor, job, lambda _: None,
                             lambda exc: log.warning("status snapshot not written: %s", exc))

    def probe_soon(self, force: bool = False) -> None:
        """Probe the central platform on the probe's executor unless a probe is under way
        or the last one is recent; the answer is used by the next ``collect``."""
        if not self._config.central.url or self._probing or self._stopped:
            return
        now = time.time()
        if not force and now - self._probed_at < PROBE_EVERY_S:
            return
        self._probing, self._probed_at = True, now
        config = self._config

        def done(result: dict) -> None:
            self._probing = False
            self.probe_result = result

        def failed(exc: BaseException) -> None:
            self._probing = False
            log.warning("central probe failed: %s", exc)

        self._jobs.submit(self.probe_executor,
                             lambda: status_mod.probe_central(config, PROBE_TIMEOUT_S),
                             done, failed)

    def _collector(self) -> Callable[[], dict]:
        """A function for the queue's executor, with the probe's last answer taken now."""
        lazy_queue, board, probe = self._queue, self._board, self.probe_result
        config = self._config

        def collect() -> dict:
            try:
                queue = lazy_queue.get()  # opens it if need be: we are on its executor
            except Exception as exc:  # noqa: BLE001 - the overview says so instead
                log.warning("queue not open for the status: %s", exc)
                queue = None
            return status_mod.collect_status(config, queue=queue, central_probe=probe,
                                             **status_mod.board_inputs(board))

        return collect


class ProbeThreads:
    """An executor for the central probe: each call on a daemon thread of its own, so that
    a lookup that never returns holds up no other work, no shutdown and no exit. The
    collector runs one probe at a time."""

    def submit(self, fn: Callable[[], dict]) -> Future:
        future: Future = Future()

        def run() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                future.set_result(fn())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's on_error
                future.set_exception(exc)

        threading.Thread(target=run, name="central-probe", daemon=True).start()
        return future
