"""The running app's status, collected off the GUI thread, for the diagnostics screen and
``<data_dir>/status.json`` (what ``kiosk diag status`` reads).

``collect_status`` runs on the queue's executor, since it reads the queue; what the app knows
(devices, sync, menu, notices) comes from the thread-safe ``StatusBoard`` there too. The live
probe of the central platform runs on the diagnostics executor and only its last answer is
used, so a slow network never holds up the queue or the screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QObject, QTimer

from kiosk.technician import status as status_mod

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 3.0
PROBE_EVERY_S = 15.0  # while the diagnostics screen is shown


class StatusCollector(QObject):
    def __init__(self, window, executor: ThreadPoolExecutor, parent: QObject | None = None):
        super().__init__(parent)
        self.window = window
        self.ctl = window.ctl
        self.executor = executor  # for the central probe
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
        self._snapshots.stop()

    def collect(self, on_ok: Callable[[dict], None],
                on_error: Callable[[BaseException], None]) -> None:
        """Collect the overview on the queue's executor; ``on_ok(status)`` on the GUI thread."""
        fn = self._collector()
        self.ctl.jobs.submit(self.ctl.jobs.queue_executor, fn, on_ok, on_error)

    def write_snapshot(self) -> None:
        if self.window._closed:
            return
        fn = self._collector()
        path = status_mod.snapshot_path(self.window.config)

        def job() -> None:
            status_mod.write_snapshot(path, fn())

        self.ctl.jobs.submit(self.ctl.jobs.queue_executor, job, lambda _: None,
                             lambda exc: log.warning("status snapshot not written: %s", exc))

    def probe_soon(self, force: bool = False) -> None:
        """Probe the central platform on the diagnostics executor unless a probe is under way
        or the last one is recent; the answer is used by the next ``collect``."""
        if not self.window.config.central.url or self._probing:
            return
        now = time.time()
        if not force and now - self._probed_at < PROBE_EVERY_S:
            return
        self._probing, self._probed_at = True, now
        config = self.window.config

        def done(result: dict) -> None:
            self._probing = False
            self.probe_result = result

        def failed(exc: BaseException) -> None:
            self._probing = False
            log.warning("central probe failed: %s", exc)

        self.ctl.jobs.submit(self.executor,
                             lambda: status_mod.probe_central(config, PROBE_TIMEOUT_S),
                             done, failed)

    def _collector(self) -> Callable[[], dict]:
        """A function for the queue's executor, with the probe's last answer taken now."""
        window, board, probe = self.window, self.ctl.board, self.probe_result
        config = window.config

        def collect() -> dict:
            try:
                queue = window.queue  # opens it if need be: we are on its executor
            except Exception as exc:  # noqa: BLE001 - the overview says so instead
                log.warning("queue not open for the status: %s", exc)
                queue = None
            return status_mod.collect_status(config, queue=queue, central_probe=probe,
                                             **status_mod.board_inputs(board))

        return collect
