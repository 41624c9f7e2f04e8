"""The kiosk's main window: the top bar, the screens' stack, the idle overlay and the
technician's mode, over the parts the composition root (``kiosk.app``) built and passed in."""

from __future__ import annotations

import logging

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from drivers.base import Printer
from kiosk.config import Config
from kiosk.shell.controller import Controller
from kiosk.shell.housekeeping import Housekeeping
from kiosk.shell.idle import IdleOverlay, IdleWatcher, SleepPlan
from kiosk.shell.look import Look
from kiosk.shell.speaker import OverlayWatch, Speaker
from kiosk.shell.technician_mode import TechMode
from kiosk.shell.topbar import TopBar
from kiosk.shell.uplink_runner import UplinkRunner
from kiosk.shell.workers import CardReaderThread, Jobs, LazyQueue
from screens.base import Screen, screen_class
from screens.router import Router

log = logging.getLogger(__name__)

FIRST_FRAME_FALLBACK_MS = 1000  # a window that is never painted (a test) starts anyway


class KioskWindow(QMainWindow):
    """Shows the controller's screens; starts the background parts after the first frame
    and stops them all in ``shutdown``."""

    def __init__(self, config: Config, ctl: Controller, jobs: Jobs, queue: LazyQueue,
                 printer: Printer, reader_thread: CardReaderThread, uplink: UplinkRunner,
                 housekeeping: Housekeeping, *, speaker: Speaker):
        super().__init__()
        self.setObjectName("kiosk")
        self.setWindowTitle("便民服务自助终端")
        self.config = config
        self.ctl = ctl
        self.printer = printer
        self.reader_thread = reader_thread
        self.uplink = uplink
        self.locked = False
        self._jobs, self._queue, self._housekeeping = jobs, queue, housekeeping
        self._key_guard: _KeyGuard | None = None
        self._closed = False
        self.speaker = speaker
        for part in (ctl, jobs, reader_thread, uplink, housekeeping, speaker):
            part.setParent(self)
        self._build_chrome()
        self.tech = TechMode(self, ctl, jobs, config, queue)  # gesture, PIN pad, diagnostics
        self.fleet = _fleet_commands(self, uplink, jobs)
        self._connect()
        if config.central.url:
            ctl.online = False  # until the first contact
        housekeeping.poll_printer()
        reader_thread.start()
        ctl.go_home()
        # Work that can wait for the first frame: the idle filter (its first events make
        # PySide build many enums), opening the queue, the uplink.
        self._first_paint: _FirstPaint | None = _FirstPaint(self.router.current,
                                                            self._after_first_frame)
        QTimer.singleShot(FIRST_FRAME_FALLBACK_MS, self._after_first_frame)

    def _build_chrome(self) -> None:
        self.look = Look(QApplication.instance(), self.config.kiosk.panel_inches)
        root = QWidget()
        root.setObjectName("root")
        col = QVBoxLayout(root)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        self.stack = QStackedWidget()
        self.stack.setObjectName("stack")
        self.router = Router(self.stack, self._build_screen)
        self.topbar = TopBar(self.ctl, self.router, self.speaker)
        col.addWidget(self.topbar)
        col.addWidget(self.stack, 1)
        self.setCentralWidget(root)
        self.overlay = IdleOverlay(root, self.ctl.tr)
        k = self.config.kiosk
        self.idle = IdleWatcher(self.overlay, k.idle_timeout_s,
                                # elder mode chosen at home is a visit begun: prompt, then end it
                                lambda: self.ctl.session.in_visit or self.ctl.session.elder,
                                self, sleep=SleepPlan(k.screen_sleep_after_s,
                                                      k.screen_sleep_hours, k.timezone))
        self.speaker.screen = lambda: self.router.current
        self.speaker.quiet = self.overlay.isVisible
        OverlayWatch(self.overlay, self.speaker)

    def _connect(self) -> None:
        ctl, router = self.ctl, self.router
        ctl.screenChanged.connect(router.show)  # the screen first, then its title
        ctl.screenChanged.connect(self.topbar.update_for)
        ctl.refreshNeeded.connect(router.refresh)
        ctl.fieldRejected.connect(router.show_field_error)
        ctl.elderChanged.connect(self.look.set_elder)  # restyle before the screen re-renders
        ctl.elderChanged.connect(self.idle.set_elder)
        ctl.localeChanged.connect(lambda _: self.topbar.update_for(ctl.session.step.value))
        self.idle.timedOut.connect(self._idle_timeout)
        self.reader_thread.cardEvent.connect(ctl.on_card_event)
        self.reader_thread.statusChanged.connect(
            lambda s: ctl.on_device_status("card_reader", s))
        self.uplink.statusChanged.connect(self._on_sync_status)
        self.uplink.menuArrived.connect(ctl.offer_menu)
        ctl.transactionStored.connect(lambda _id: self.uplink.wake())
        # Speech after the screen and the top bar: it says what is now shown.
        ctl.screenChanged.connect(self.speaker.on_screen)
        ctl.refreshNeeded.connect(self.speaker.on_refresh)
        ctl.fieldRejected.connect(self.speaker.on_field_error)
        self.uplink.menuArrived.connect(self.speaker.offer_menu)

    def _build_screen(self, name: str) -> Screen:
        cls = screen_class(name)
        if name == "diagnostics":
            from screens.diagnostics.actions import DiagActions

            actions = DiagActions(self.tech, self.ctl, self._jobs, self._queue, self.uplink,
                                  self.config, speaker=self.speaker)
            return cls(self.ctl, self.tech, actions)
        return cls(self.ctl)

    @property
    def started(self) -> bool:
        """The first frame's work is done: the idle and gesture filters watch, the queue is
        opening, the uplink is starting."""
        return self._first_paint is None

    def _after_first_frame(self) -> None:
        if self._closed or self._first_paint is None:
            return
        self._first_paint = None
        QApplication.instance().installEventFilter(self.idle)
        self.idle.start()
        self.tech.install()
        self._queue.open_soon()
        self.ctl.recover_unprinted()  # receipts owed after a crash (opens the queue, qrcode, PIL)
        self.uplink.start(self.ctl.session.menu.version)
        self._housekeeping.start()
        self.tech.collector.start_snapshots()  # <data_dir>/status.json for `kiosk diag status`
        # Last installed, so first to see a touch (the idle filter may swallow it): any
        # touch silences the voice.
        QApplication.instance().installEventFilter(self.speaker)
        self.speaker.start(self.ctl.session.menu)

    def _on_sync_status(self, status) -> None:
        from kiosk.central_link import is_online

        self.ctl.board.set_sync(status)
        self.ctl.online = is_online(status)
        self.topbar.show_network(self.ctl.online)

    @property
    def sync_worker(self):
        """The running sync worker (``uplink.sync_worker.SyncWorker``), or None."""
        return self.uplink.sync_worker

    @property
    def menu_poller(self):
        """The running menu poller (``uplink.menu_poller.MenuPoller``), or None."""
        return self.uplink.menu_poller

    @property
    def sync_status(self):
        """The sync worker's latest status (``uplink.uploader.SyncStatus``), or None."""
        return self.ctl.board.sync()

    @property
    def queue(self):
        """The offline queue (blocks until it is open)."""
        return self._queue.get()

    def _idle_timeout(self) -> None:
        log.info("idle time-out: visit ended")
        self.ctl.submitting = False if self._jobs.idle() else self.ctl.submitting
        self.ctl.go_home()

    def lock_down(self, hide_cursor: bool) -> None:
        """Kiosk mode: frameless, on top, no way out by keyboard or close button."""
        self.locked = True
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        if hide_cursor:
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
        self._key_guard = _KeyGuard(self)
        QApplication.instance().installEventFilter(self._key_guard)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        if self.overlay.isVisible():
            self.overlay.setGeometry(self.overlay.parentWidget().rect())

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.locked:
            event.ignore()  # Alt+F4 and friends do nothing on a kiosk
            return
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop workers and close devices and the queue; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._housekeeping.stop()
        app = QApplication.instance()
        app.removeEventFilter(self.idle)
        app.removeEventFilter(self.speaker)
        if self._key_guard is not None:
            app.removeEventFilter(self._key_guard)
        self.idle.stop()
        self.tech.shutdown()  # the audit log is written before the executors go
        if self.fleet is not None:
            self.fleet.shutdown()
        self.speaker.shutdown()
        self.reader_thread.stop()
        self._jobs.shutdown()  # after this, no sync worker can still be starting
        self.uplink.stop()
        for closer in (self.printer.close, self._queue.close):
            try:
                closer()
            except Exception:  # noqa: BLE001 - shutting down: log and go on
                log.exception("closing failed")


def _fleet_commands(window: KioskWindow, uplink: UplinkRunner, jobs: Jobs):
    """The runner of the fleet's commands (``kiosk.shell.fleet_commands``), when the kiosk
    has a central and a command book."""
    if uplink.book is None or not uplink.enabled:
        return None
    from kiosk.central_link import make_client
    from kiosk.shell.fleet_commands import FleetCommands
    from uplink.commands import FileSender

    config = window.config
    fleet = FleetCommands(window, uplink.book, jobs,
                          FileSender(lambda: make_client(config, read_timeout=60.0)), window)
    uplink.commandsArrived.connect(fleet.run)

    def check_update(command, done) -> None:  # the updater, when [updates] enabled
        loop = uplink.update_loop
        if loop is None:
            done("refused", "unsupported: updates are off in this kiosk's config")
        else:
            loop.check_now(switch_now=bool(command.args.get("switch_now")), done=done)

    fleet.on_check_update = check_update
    return fleet


class _FirstPaint(QObject):
    """Calls ``then`` on the event loop turn after ``widget`` was first painted."""

    def __init__(self, widget: QWidget, then):
        super().__init__(widget)
        self._then = then
        widget.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Paint:
            obj.removeEventFilter(self)
            QTimer.singleShot(0, self._then)
        return False


class _KeyGuard(QObject):
    """Eats Escape, Alt+F4 and context-menu requests application-wide in kiosk mode."""

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.ContextMenu:
            return True
        if event.type() in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride):
            key = event.key()
            alt = event.modifiers() & Qt.KeyboardModifier.AltModifier
            if key in (Qt.Key.Key_Escape, Qt.Key.Key_Menu) or (alt and key == Qt.Key.Key_F4):
                return True
        return False
