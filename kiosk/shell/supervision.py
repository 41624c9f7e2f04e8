"""The app under systemd: READY after the first painted frame, WATCHDOG pings from a timer on
the GUI thread (a frozen event loop stops them and systemd restarts the kiosk), STATUS on
each change of screen or window geometry, STOPPING at shutdown; and an uncaught exception
ends the event loop with ``CRASH_EXIT_CODE`` instead of leaving a half-broken kiosk running.
"""

from __future__ import annotations

import logging
import sys
import threading

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.systemd import Notifier

log = logging.getLogger(__name__)

CRASH_EXIT_CODE = 70  # EX_SOFTWARE: Restart=always starts the kiosk again


class SystemdLink(QObject):
    """Speaks sd_notify for ``window``; does nothing when ``notifier`` has no socket."""

    def __init__(self, notifier: Notifier, window: QWidget, state: str = "starting"):
        super().__init__(window)
        self._notifier = notifier
        self._window = window
        self._state = state
        self._ready = False
        self._last_status = ""
        self.pings = 0
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._ping)
        window.installEventFilter(self)

    def start(self, first_painted: QWidget | None = None) -> None:
        """Start the pings; READY follows the first paint of ``first_painted`` (default:
        the window)."""
        interval = self._notifier.watchdog_interval_ms
        if interval is not None:
            self._timer.start(interval)
            self._ping()
        (first_painted or self._window).installEventFilter(self)

    def set_state(self, state: str) -> None:
        """The kiosk's state in a word or two (the screen's name, "out of service")."""
        self._state = state
        self._send_status()

    def status_line(self) -> str:
        w, s = self._window.geometry(), self._window.screen().geometry()
        return (f"{self._state}; window {w.width()}x{w.height()}+{w.x()}+{w.y()} "
                f"on screen {s.width()}x{s.height()}")

    def stopping(self) -> None:
        self._timer.stop()
        self._notifier.stopping("stopping")
        self._notifier.close()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind == QEvent.Type.Paint and not self._ready:
            self._ready = True
            # The turn after the paint: the frame has gone to the compositor.
            QTimer.singleShot(0, self._send_ready)
        elif kind in (QEvent.Type.Resize, QEvent.Type.Move) and obj is self._window:
            self._send_status()
        return False

    def _send_ready(self) -> None:
        self._last_status = self.status_line()
        self._notifier.ready(self._last_status)
        log.info("ready: %s", self._last_status)

    def _send_status(self) -> None:
        if not self._ready:
            return
        line = self.status_line()
        if line != self._last_status:
            self._last_status = line
            self._notifier.status(line)

    def _ping(self) -> None:
        if self._notifier.watchdog():
            self.pings += 1


_crashed = threading.Event()


def crashed() -> bool:
    """True once an uncaught exception has ended the event loop."""
    return _crashed.is_set()


def _crash(exc_type, exc, tb, where: str) -> None:
    """An uncaught exception: log it through the masking filter (never the interpreter's
    unmasked traceback on stderr) and end the event loop; ``run_window`` then exits 70."""
    if issubclass(exc_type, KeyboardInterrupt):
        return
    _crashed.set()
    logging.getLogger("kiosk.crash").critical("uncaught %s in %s; the kiosk stops",
                                              exc_type.__name__, where,
                                              exc_info=(exc_type, exc, tb))
    app = QApplication.instance()
    if app is None:
        return
    # exit(), not quit(): Qt 6's quit() first asks every window to close, and the locked-down
    # kiosk window refuses, so quit() would leave the broken kiosk running.
    if threading.current_thread() is threading.main_thread():
        app.exit(CRASH_EXIT_CODE)
    else:  # from another thread: run on the GUI thread's next turn
        QTimer.singleShot(0, app, lambda: app.exit(CRASH_EXIT_CODE))


def install_crash_hooks() -> None:
    """``sys.excepthook`` (also what PySide6 calls for an exception in a slot) and
    ``threading.excepthook`` log through the masking filter and end the app non-zero
    (``CRASH_EXIT_CODE``): systemd starts a fresh kiosk; the shutdown path still closes
    the queue cleanly."""
    sys.excepthook = lambda t, e, tb: _crash(t, e, tb, "the main thread")
    threading.excepthook = lambda a: _crash(a.exc_type, a.exc_value, a.exc_traceback,
                                            f"thread {a.thread.name if a.thread else '?'}")
