"""The app shell: the main window, its devices, queue and workers, and ``kiosk run``."""

from __future__ import annotations

import logging
import signal
import sys

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, QtMsgType, Signal, qInstallMessageHandler
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from contract import menu as menu_mod
from drivers import registry
from kiosk.config import Config, load_config
from kiosk.shell.controller import Controller
from kiosk.shell.idle import IdleOverlay, IdleWatcher
from kiosk.shell.technician_mode import TechMode
from kiosk.shell.workers import CardReaderThread, LazyQueue
from kiosk.visit.session import Step
from screens import theme
from screens.router import Router
from screens.widgets.basic import button, label
from uplink.menu_store import load_running_menu

log = logging.getLogger(__name__)

PURGE_EVERY_MS = 10 * 60 * 1000
PRINTER_POLL_MS = 60 * 1000


class TopBar(QWidget):
    """Back and home on the left, the screen's title, the language switch on the right."""

    def __init__(self, ctl: Controller):
        super().__init__()
        self.setObjectName("topbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        row = QHBoxLayout(self)
        row.setContentsMargins(24, 8, 24, 8)
        row.setSpacing(18)
        self.back = button("", name="btn:back", role="nav", icon="back", icon_color="#ffffff",
                           on_click=ctl.back)
        self.home = button("", name="btn:home", role="nav", icon="home-nav",
                           icon_color="#ffffff", on_click=ctl.go_home)
        self.title = label(wrap=False, name="label:title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.lang = button("", name="btn:lang", role="nav", icon="globe", icon_color="#ffffff",
                           on_click=ctl.toggle_language)
        # A small, calm network state; residents are never asked to do anything about it.
        self.network = label(wrap=False, role="network", name="label:network")
        self.network.setMinimumWidth(200)
        row.addWidget(self.back)
        row.addWidget(self.home)
        row.addWidget(self.network)
        row.addWidget(self.title, 1)
        row.addWidget(self.lang)
        self._ctl = ctl

    def update_for(self, step: str) -> None:
        ctl = self._ctl
        in_visit = step not in (Step.HOME.value, "diagnostics")  # technicians: no resident nav
        self.back.setVisible(in_visit and step not in (Step.DONE.value, Step.ERROR.value))
        self.home.setVisible(in_visit)
        self.back.setText(ctl.tr("nav.back"))
        self.home.setText(ctl.tr("nav.home"))
        self.lang.setText(ctl.tr("lang.switch"))
        current = ctl.router.current
        self.title.setText(current.title() if current is not None else ctl.tr("app.name"))
        self.show_network(ctl.online)

    def show_network(self, online: bool | None) -> None:
        """None: an offline-only kiosk (no central), nothing to show."""
        on_home = self._ctl.session.step == Step.HOME
        self.network.setVisible(online is not None and on_home)
        if online is not None:
            key = "status.online" if online else "status.offline"
            self.network.setText(("● " if online else "○ ") + self._ctl.tr(key))


class KioskWindow(QMainWindow):
    def __init__(self, config: Config, menu: menu_mod.Menu):
        super().__init__()
        self.setObjectName("kiosk")
        self.setWindowTitle("便民服务自助终端")
        self.config = config
        self.locked = False
        self._key_guard = None
        # Devices first: a wrong URI stops start-up before anything is written.
        reader = registry.create_card_reader(config.devices.card_reader)
        printer = registry.create_printer(config.devices.printer,
                                          out_dir=config.kiosk.data_dir / "receipts",
                                          width_dots=config.devices.paper_width_dots)
        config.kiosk.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        printer.open()
        self.printer = printer
        self.ctl = Controller(config, menu, None, printer, config.devices.card_reader, self)
        self._queue = LazyQueue(config.queue_path, self.ctl.jobs.queue_executor,
                                key_file=config.kiosk.queue_key_file)
        self.ctl.queue = self._queue
        self.ctl.jobs.submit(self.ctl.jobs.device_executor, printer.status,
                             lambda s: self.ctl.on_device_status("printer", s),
                             lambda exc: log.warning("printer status: %s", exc))
        if self.ctl.reader_is_simulated:
            self.ctl.simulated_reader = reader

        root = QWidget()
        root.setObjectName("root")
        col = QVBoxLayout(root)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        self.topbar = TopBar(self.ctl)
        col.addWidget(self.topbar)
        self.stack = QStackedWidget()
        self.stack.setObjectName("stack")
        col.addWidget(self.stack, 1)
        self.setCentralWidget(root)
        self.router = Router(self.ctl, self.stack)
        self.ctl.router = self.router
        self.ctl.screenChanged.connect(self.topbar.update_for)
        self.ctl.localeChanged.connect(lambda _: self._refresh_chrome())

        self.overlay = IdleOverlay(root, self.ctl.tr)
        self.idle = IdleWatcher(self.overlay, config.kiosk.idle_timeout_s,
                                lambda: self.ctl.session.in_visit, self)
        self.idle.timedOut.connect(self._idle_timeout)
        self.tech = TechMode(self)  # the corner gesture, the PIN pad, diagnostics mode
        self.ctl.tech = self.tech

        self.reader_thread = CardReaderThread(reader, self)
        self.reader_thread.cardEvent.connect(self.ctl.on_card_event)
        self.reader_thread.statusChanged.connect(
            lambda s: self.ctl.on_device_status("card_reader", s))
        self.reader_thread.start()
        self.ctl.go_home()
        self._closed = False
        self.sync_worker = None
        self._sync_bridge = _SyncBridge(self)
        self._sync_bridge.statusChanged.connect(self._on_sync_status)
        self.menu_poller = None
        self._menu_bridge = _MenuBridge(self)
        self._menu_bridge.menuArrived.connect(self.ctl.offer_menu)
        if config.central.url:
            self.ctl.online = False  # until the first contact
        # Work that can wait for the first frame: the idle filter (its first events make
        # PySide build many enums) and opening the queue. A window that is never painted
        # (a test) gets them a second after start.
        self._first_paint = _FirstPaint(self.router.current, self._after_first_frame)
        QTimer.singleShot(1000, self._after_first_frame)

    def _after_first_frame(self) -> None:
        if self._closed or self._first_paint is None:
            return
        self._first_paint = None
        QApplication.instance().installEventFilter(self.idle)
        self.idle.start()
        self.tech.install()
        self._queue.open_soon()
        self._start_uplink()
        self._start_menu_updates()
        self._purge_timer = QTimer(self)
        self._purge_timer.timeout.connect(self._purge_personal)
        self._purge_timer.start(PURGE_EVERY_MS)
        self._purge_personal()
        self.tech.collector.start_snapshots()  # <data_dir>/status.json for `kiosk diag status`
        # The printer's state (paper low, cover open...) between receipts, for the heartbeat.
        self._printer_timer = QTimer(self)
        self._printer_timer.timeout.connect(self._poll_printer)
        self._printer_timer.start(PRINTER_POLL_MS)

    def _poll_printer(self) -> None:
        if self.ctl.submitting or not self.ctl.jobs.idle():
            return  # a receipt is on its way; its own status check will do
        self.ctl.jobs.submit(self.ctl.jobs.device_executor, self.printer.status,
                             lambda s: self.ctl.on_device_status("printer", s),
                             lambda exc: log.warning("printer status: %s", exc))

    def _start_uplink(self) -> None:
        """The sync worker uploads the queue and sends heartbeats on its own thread; its
        status reaches the GUI through a signal. Offline-only kiosks start none."""
        if not self.config.central.url:
            return
        from kiosk.central_link import make_worker

        def started(worker) -> None:
            if self._closed:
                return
            self.sync_worker = worker
            self.ctl.transactionStored.connect(lambda _id: worker.wake())
            worker.start()

        self.ctl.jobs.submit(
            self.ctl.jobs.queue_executor,
            lambda: make_worker(self.config, self._queue.get(), self.ctl.board,
                                on_status=self._sync_bridge.statusChanged.emit),
            started, lambda exc: log.error("upload not started: %s", exc))

    def _start_menu_updates(self) -> None:
        """The menu poller fetches, verifies and stores signed menus on its own thread; a
        new menu reaches the controller through a signal and shows from the next return
        home. Offline-only kiosks start none."""
        if not self.config.central.url:
            return
        from uplink.menu_poller import make_poller

        def started(poller) -> None:
            if self._closed:
                return
            self.menu_poller = poller
            poller.start()

        running = self.ctl.session.menu.version
        self.ctl.jobs.submit(
            self.ctl.jobs.queue_executor,
            lambda: make_poller(self.config, self.ctl.board, running,
                                on_menu=self._menu_bridge.menuArrived.emit),
            started, lambda exc: log.error("menu updates not started: %s", exc))

    def _on_sync_status(self, status) -> None:
        from kiosk.central_link import is_online

        self.ctl.board.set_sync(status)
        self.ctl.online = is_online(status)
        self.topbar.show_network(self.ctl.online)

    def _purge_personal(self) -> None:
        """Erase identity and answers of transactions delivered longer ago than retention."""
        retention_s = self.config.kiosk.retention_h * 3600
        rejected_s = self.config.kiosk.rejected_retention_d * 86400
        self.ctl.jobs.submit(self.ctl.jobs.queue_executor,
                             lambda: self._queue.get().purge_personal(
                                 retention_s, rejected_retention_s=rejected_s),
                             lambda n: n and log.info("purged personal data of %d", n),
                             lambda exc: log.error("purge failed: %s", exc))

    @property
    def sync_status(self):
        """The sync worker's latest status (``uplink.uploader.SyncStatus``), or None."""
        return self.ctl.board.sync()

    @property
    def queue(self):
        """The offline queue (blocks until it is open)."""
        return self._queue.get()

    def _refresh_chrome(self) -> None:
        self.topbar.update_for(self.ctl.session.step.value)

    def _idle_timeout(self) -> None:
        log.info("idle time-out: visit ended")
        self.ctl.submitting = False if self.ctl.jobs.idle() else self.ctl.submitting
        self.ctl.go_home()

    def lock_down(self, hide_cursor: bool) -> None:
        """Kiosk mode: frameless, on top, no way out by keyboard or close button."""
        self.locked = True
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        if hide_cursor:
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)
        self._key_guard = _KeyGuard(self)
        QApplication.instance().installEventFilter(self._key_guard)

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt API
        # Demo and development: keys 1-4 place a sample resident's card on the simulator.
        if self.ctl.reader_is_simulated and Qt.Key.Key_1 <= event.key() <= Qt.Key.Key_4:
            self.ctl.simulate_card(event.key() - Qt.Key.Key_1)
            return
        super().keyPressEvent(event)

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
        for timer in (getattr(self, "_purge_timer", None), getattr(self, "_printer_timer", None)):
            if timer is not None:
                timer.stop()
        QApplication.instance().removeEventFilter(self.idle)
        if self._key_guard is not None:
            QApplication.instance().removeEventFilter(self._key_guard)
        self.idle.stop()
        self.tech.shutdown()  # the audit log is written before the executors go
        self.reader_thread.stop()
        self.ctl.jobs.shutdown()  # after this, no sync worker can still be starting
        if self.sync_worker is not None:
            self.sync_worker.stop()
        if self.menu_poller is not None:
            self.menu_poller.stop()
        for closer in (self.printer.close, self._queue.close):
            try:
                closer()
            except Exception:  # noqa: BLE001 - shutting down: log and go on
                log.exception("closing failed")


class _SyncBridge(QObject):
    """Carries the sync worker's status from its thread to the GUI thread."""

    statusChanged = Signal(object)


class _MenuBridge(QObject):
    """Carries a new verified menu from the menu poller's thread to the GUI thread."""

    menuArrived = Signal(object)


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


def _quiet_qt_messages(kind, context, message) -> None:
    # The offscreen platform (tests, tour) warns on every window resize; nothing to act on.
    if "propagateSizeHints" in message:
        return
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING}.get(kind, logging.ERROR)
    logging.getLogger("qt").log(level, "%s", message)


def setup_application(app: QApplication) -> None:
    qInstallMessageHandler(_quiet_qt_messages)
    font = QFont()
    font.setFamilies(theme.FONT_FAMILIES)
    font.setPixelSize(theme.BODY_PX)
    app.setFont(font)
    app.setStyleSheet(theme.STYLESHEET)


def create_window(config_path: str | None = None, config: Config | None = None) -> KioskWindow:
    """The main window with devices, queue and workers, not yet shown.

    Needs a QApplication. Closing the window stops its workers.
    """
    app = QApplication.instance()
    if app is None:
        raise RuntimeError("create_window needs a QApplication")
    config = config or load_config(config_path)
    menu = load_running_menu(config)
    setup_application(app)
    window = KioskWindow(config, menu)
    window.resize(1920, 1080)
    return window


def run(config_path: str | None, windowed: bool) -> int:
    """``kiosk run``: fullscreen and locked down unless ``windowed``."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    return _run_window(app, load_config(config_path), windowed)


def run_demo_window(config: Config) -> int:
    """``kiosk demo`` on a display: a normal window on simulated devices."""
    app = QApplication.instance() or QApplication(sys.argv[:1])
    return _run_window(app, config, windowed=True)


def _run_window(app: QApplication, config: Config, windowed: bool) -> int:
    from kiosk.logs import setup_logging

    setup_logging(config.kiosk.data_dir)
    window = create_window(config=config)
    if windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.lock_down(config.kiosk.hide_cursor)
        window.showFullScreen()
    _quit_on_signals(app, window)
    code = app.exec()
    window.shutdown()
    return code


def _quit_on_signals(app: QApplication, window: KioskWindow) -> None:
    """SIGTERM (systemd stop) and SIGINT end the app cleanly, even in kiosk mode."""

    def stop(signum, _frame) -> None:
        log.info("signal %s: stopping", signum)
        window.locked = False
        app.quit()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    # Python runs signal handlers only between bytecodes; wake the interpreter now and then.
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)
