"""The composition root: builds the devices, the queue, the controller and the background
parts, hands them to the main window, and runs ``kiosk run``."""

from __future__ import annotations

import logging
import signal
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, QtMsgType, qInstallMessageHandler
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from drivers import registry
from kiosk.config import Config, ConfigError, load_config
from kiosk.shell.controller import Controller
from kiosk.shell.housekeeping import Housekeeping
from kiosk.shell.speaker import Speaker
from kiosk.shell.technician_mode import RESTART_EXIT_CODE
from kiosk.shell.update_switch import UpdateSwitch
from kiosk.shell.uplink_runner import UplinkRunner
from kiosk.shell.window import KioskWindow
from kiosk.shell.workers import CardReaderThread, Jobs, LazyQueue
from screens import theme

if TYPE_CHECKING:
    from drivers.voice import Voice
    from kiosk.shell.out_of_service import OutOfServiceWindow
    from kiosk.shell.supervision import SystemdLink

log = logging.getLogger(__name__)

def _quiet_qt_messages(kind, context, message) -> None:
    # The offscreen platform (tests, tour) warns on every window resize; nothing to act on.
    if "propagateSizeHints" in message:
        return
    level = {QtMsgType.QtDebugMsg: logging.DEBUG, QtMsgType.QtInfoMsg: logging.INFO,
             QtMsgType.QtWarningMsg: logging.WARNING,
             QtMsgType.QtFatalMsg: logging.CRITICAL}.get(kind, logging.ERROR)
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
    # deferred until here: tests/kiosk/test_startup_imports.py
    from kiosk.central_link import load_running_menu

    config = config or load_config(config_path)
    menu = load_running_menu(config)
    setup_application(app)
    window = _build_window(config, menu)
    window.resize(1920, 1080)
    return window


def _build_window(config: Config, menu) -> KioskWindow:
    # Devices first: a wrong URI stops start-up before anything is written.
    reader = registry.create_card_reader(config.devices.card_reader)
    printer = registry.create_printer(config.devices.printer,
                                      out_dir=config.kiosk.data_dir / "receipts",
                                      width_dots=config.devices.paper_width_dots)
    config.kiosk.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    printer.open()
    jobs = Jobs()
    queue = LazyQueue(config.queue_path, jobs.queue_executor,
                      key_file=config.kiosk.queue_key_file, make_room=_make_room(config))
    ctl = Controller(config, menu, queue, printer, jobs)  # receipts owed: after the 1st frame
    uplink = UplinkRunner(config, jobs, queue, ctl.board, book=_command_book(config))
    uplink.switchWanted.connect(UpdateSwitch(ctl, uplink.request_switch, uplink).want)
    housekeeping = Housekeeping(ctl, jobs, queue, printer, config.kiosk.retention_h,
                                config.kiosk.rejected_retention_d)
    return KioskWindow(config, ctl, jobs, queue, printer, CardReaderThread(reader), uplink,
                       housekeeping, speaker=Speaker(config.voice, _voice(config), ctl))


def _command_book(config: Config):
    """The fleet commands taken and their results (a central is configured), else None."""
    if not config.central.url:
        return None
    from kiosk.central_link import command_book

    return command_book(config)


def _voice(config: Config) -> Callable[[], Voice]:
    """The factory of the configured voice: the Speaker makes it at its first use, after the
    first frame (the engine's modules and its cache are not start-up's)."""

    def make() -> Voice:
        from drivers.voice import VoiceSettings, create_voice

        v = config.voice
        return create_voice(v.engine,
                            VoiceSettings(volume=v.volume, rate=v.rate, device=v.device),
                            data_dir=config.kiosk.data_dir)

    return make


def _make_room(config: Config) -> tuple[Callable[[], object], ...]:
    """What gives way before the queue when the data folder's disk is full: old logs, the
    receipts kept for reprint, the status snapshot (remade every half minute). Their modules
    are imported when the disk is full, not at start-up."""
    data_dir = config.kiosk.data_dir

    def old_logs() -> object:
        from kiosk.logs import drop_old_logs

        return drop_old_logs(data_dir)

    def reprints() -> object:
        from kiosk.receipts.reprints import ReprintStore

        return ReprintStore(data_dir / "reprints").give_way()

    def snapshot() -> None:
        from kiosk.technician.status import snapshot_path

        snapshot_path(config).unlink(missing_ok=True)

    return (old_logs, reprints, snapshot)


def refuse_simulated(config: Config) -> None:
    """``kiosk run`` on a ``sim:`` device needs ``devices.allow_simulated = true``: a
    production kiosk must never show sample residents (``kiosk demo`` runs on them)."""
    if config.devices.allow_simulated:
        return
    for key in ("card_reader", "printer"):
        uri = getattr(config.devices, key)
        if uri.split(":", 1)[0] == "sim":
            where = f"{config.source}: " if config.source else ""
            raise ConfigError(
                f'{where}[devices] {key} = "{uri}" is a simulated device; set [devices] '
                "allow_simulated = true to run on it, or use `kiosk demo`")


def run(config_path: str | None, windowed: bool) -> int:
    """``kiosk run``: fullscreen and locked down unless ``windowed``. After too many starts
    without a clean stop (``kiosk.systemd.StartLedger``) it shows only the out-of-service
    screen."""
    from kiosk.systemd import StartLedger

    config = load_config(config_path)
    refuse_simulated(config)
    ledger = StartLedger(config.kiosk.data_dir)
    out_of_service = ledger.record_start()
    code = run_window(config, windowed, out_of_service=out_of_service)
    if code in (0, RESTART_EXIT_CODE):
        ledger.clean_stop()
    return code


def run_window(config: Config, windowed: bool,
               prepare: Callable[[KioskWindow], None] | None = None,
               out_of_service: bool = False) -> int:
    """Build the window for ``config``, let ``prepare`` add to it (the demo's simulator
    controls), show it and run the event loop until it ends."""
    from kiosk.logs import setup_logging
    from kiosk.shell.supervision import CRASH_EXIT_CODE, crashed, install_crash_hooks

    app = QApplication.instance() or QApplication(sys.argv[:1])
    setup_logging(config.kiosk.data_dir)
    install_crash_hooks()
    if out_of_service:
        window = _out_of_service_window(config)
        link = _supervise(window, window, None)
    else:
        window = create_window(config=config)
        link = _supervise(window, window.router.current, window.ctl)
    if prepare is not None:
        prepare(window)
    if windowed:
        window.resize(1280, 800)
        window.show()
    else:
        window.lock_down(config.kiosk.hide_cursor)
        window.showFullScreen()
    _quit_on_signals(app, window)
    code = app.exec()
    link.stopping()
    try:
        window.shutdown()
    except Exception:  # noqa: BLE001 - after a crash the state is unknown; exit all the same
        if not crashed():
            raise
        log.exception("shutdown after the crash failed")
    return CRASH_EXIT_CODE if crashed() else code


def _supervise(window, first_screen, ctl: Controller | None) -> SystemdLink:
    """sd_notify for ``window``: READY once ``first_screen`` is painted, then STATUS on
    each change of screen (``ctl``'s) or of the window's geometry."""
    from kiosk.shell.supervision import SystemdLink
    from kiosk.systemd import Notifier

    link = SystemdLink(Notifier(), window, "out of service" if ctl is None else "home")
    if ctl is not None:
        ctl.screenChanged.connect(link.set_state)
    link.start(first_screen)
    return link


def _out_of_service_window(config: Config) -> OutOfServiceWindow:
    from kiosk.shell.out_of_service import OutOfServiceWindow
    from screens.out_of_service import OutOfServiceScreen

    setup_application(QApplication.instance())
    window = OutOfServiceWindow(
        OutOfServiceScreen(config.kiosk.service_point, config.kiosk.service_phone))
    window.resize(1920, 1080)
    return window


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
