"""Commands from the fleet, run on the GUI thread (central-api.md section 3).

The sync worker hands the heartbeat answer's commands over ``UplinkRunner.commandsArrived``;
each id runs once (``uplink.commands.CommandBook``, kept in the data folder) and its result
goes out with the next heartbeat. What a command may show of the screen or the data folder
is what a technician could take away: a screenshot only of the home screen (never while a
resident's visit, the PIN pad or diagnostics is on screen), the diagnostics bundle that is
already masked. Files go up on an executor of their own, never on the GUI thread.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from kiosk.shell.technician_mode import RESTART_EXIT_CODE
from kiosk.shell.workers import Jobs
from uplink.commands import DONE, FAILED, REFUSED, Command, CommandBook

log = logging.getLogger(__name__)

VISIT_ON_SCREEN = "visit on screen"

#: ``on_check_update(command, done)``: the updater's seam. It checks (off the GUI thread)
#: and calls ``done(status, detail)`` once, on any thread; unset, the command is refused.
CheckUpdate = Callable[[Command, Callable[[str, str], None]], None]


class FleetCommands(QObject):
    """Runs the fleet's commands against ``window`` (the ``KioskWindow``)."""

    finished = Signal(str, str, str)  # command id, status, detail (after it is kept)
    _done = Signal(str, str, str)  # from the upload thread to the GUI thread

    def __init__(self, window, book: CommandBook, jobs: Jobs,
                 upload: Callable[[str, bytes, str], str], parent: QObject | None = None):
        super().__init__(parent)
        self._window = window
        self._book = book
        self._jobs = jobs
        self._upload = upload  # (upload_path, bytes, content type) -> detail; raises
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="fleet-command")
        self.on_check_update: CheckUpdate | None = None
        #: How the restart ends the event loop (``kiosk run`` then exits with the code).
        self.exit: Callable[[int], None] = lambda code: QApplication.instance().exit(code)
        self._restart: Command | None = None
        self._handlers = {"sync_now": self._sync_now, "screenshot": self._screenshot,
                          "upload_diagnostics": self._diagnostics, "restart": self._restart_cmd,
                          "check_update": self._check_update}
        self._done.connect(self._finish)
        # After the router has shown the new screen (it is connected later): next turn.
        window.ctl.screenChanged.connect(lambda _: QTimer.singleShot(0, self._maybe_restart))

    def run(self, commands: list[Command]) -> None:
        """Run each command not run before (by id)."""
        for command in commands:
            if not self._book.take(command):
                log.debug("command %s was taken before: not run again", command.id)
                continue
            log.info("fleet command %s: %s", command.id, command.type or "(no type)")
            handler = self._handlers.get(command.type)
            if handler is None:
                self._finish(command.id, REFUSED, f"unknown command type {command.type!r}")
                continue
            try:
                handler(command)
            except Exception as exc:  # noqa: BLE001 - reported, never a crash of the kiosk
                log.exception("fleet command %s failed", command.id)
                self._finish(command.id, FAILED, f"{type(exc).__name__}: {exc}")

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    @property
    def restart_waiting(self) -> bool:
        """A restart was asked for and waits for the visit on screen to end."""
        return self._restart is not None

    @property
    def resident_on_screen(self) -> bool:
        """A visit, the PIN pad or diagnostics is on screen (or a receipt is being made)."""
        win, ctl = self._window, self._window.ctl
        current = win.router.current
        return (ctl.session.in_visit or ctl.submitting or win.tech.active or win.tech.pad_open
                or current is None or current.name != "home")

    # -- the commands -------------------------------------------------------------------------
    def _sync_now(self, command: Command) -> None:
        worker = self._window.uplink.sync_worker
        if worker is None:
            self._finish(command.id, FAILED, "the upload worker is not running")
            return
        self._finish(command.id, DONE, "")  # which runs the sync worker's round now

    def _screenshot(self, command: Command) -> None:
        if self.resident_on_screen:
            self._finish(command.id, REFUSED, VISIT_ON_SCREEN)
            return
        path = _upload_path(command)
        picture = self._window.grab()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        picture.save(buffer, "PNG")
        png, size = bytes(data.data()), f"{picture.width()}x{picture.height()}"
        self._window.tech.record("fleet-screenshot", "ok", command=command.id)
        self._in_background(command, lambda: self._upload(path, png, "image/png") + f", {size}")

    def _diagnostics(self, command: Command) -> None:
        """The technician's bundle (masked), made on the queue's executor (it reads the
        queue for the values to mask), uploaded on ours."""
        path = _upload_path(command)
        win = self._window
        from kiosk.technician.export import export_bundle
        from kiosk.technician.rejections import personal_values

        config, audit = win.config, win.tech.audit

        def zipped(status: dict) -> bytes:
            # in the data folder (mode 0700), never /tmp: masked, but still the kiosk's
            with tempfile.TemporaryDirectory(prefix=".fleet-diag-",
                                             dir=config.kiosk.data_dir) as folder:
                made = export_bundle(Path(folder), config=config, status=status, audit=audit,
                                     personal=personal_values(win.queue))
                return made.read_bytes()

        def failed(exc: BaseException) -> None:
            self._finish(command.id, FAILED, str(exc) or type(exc).__name__)

        def upload(data: bytes) -> None:
            self._in_background(command, lambda: self._upload(path, data, "application/zip"))

        win.tech.record("fleet-diagnostics", "ok", command=command.id)
        win.tech.collector.collect(
            lambda status: self._jobs.submit(self._jobs.queue_executor,
                                             lambda: zipped(status), upload, failed), failed)

    def _restart_cmd(self, command: Command) -> None:
        self._restart = command
        self._maybe_restart()

    def _maybe_restart(self) -> None:
        """Restart now if a restart waits and no resident is on screen."""
        if self._restart is None or self.resident_on_screen:
            if self._restart is not None:
                log.info("restart waits for the visit on screen to end")
            return
        command, self._restart = self._restart, None
        self._finish(command.id, DONE, "restarted between visits")  # reported once back
        self._window.tech.record("fleet-restart", "ok", command=command.id)
        log.info("restarting for the fleet's command %s", command.id)
        self._window.locked = False
        self.exit(RESTART_EXIT_CODE)

    def _check_update(self, command: Command) -> None:
        if self.on_check_update is None:
            self._finish(command.id, REFUSED, "unsupported: no updater in this build")
            return
        self.on_check_update(command, lambda status, detail: self._done.emit(
            command.id, status, detail))

    # -- helpers ------------------------------------------------------------------------------
    def _in_background(self, command: Command, work: Callable[[], str]) -> None:
        """``work()`` off the GUI thread; its text is the detail of ``done``, an exception
        makes the command ``failed``."""
        def run() -> None:
            try:
                detail = work()
            except Exception as exc:  # noqa: BLE001 - the result says what went wrong
                log.warning("fleet command %s failed: %s", command.id, exc)
                self._done.emit(command.id, FAILED, str(exc) or type(exc).__name__)
            else:
                self._done.emit(command.id, DONE, detail)

        self.executor.submit(run)

    def _finish(self, command_id: str, status: str, detail: str) -> None:
        self._book.finish(command_id, status, detail)
        self.finished.emit(command_id, status, detail)
        worker = self._window.uplink.sync_worker
        if worker is not None:
            worker.sync_now()  # a heartbeat reports it now, not in a minute


def _upload_path(command: Command) -> str:
    path = command.args.get("upload_path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError("the command names no upload_path")
    return path
