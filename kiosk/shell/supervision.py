"""The app under systemd: READY after the first painted frame, WATCHDOG pings from a timer on
the GUI thread (a frozen event loop stops them and systemd restarts the kiosk), STATUS on
each change of screen or window geometry, STOPPING at shutdown; and an uncaught exception
ends the event loop with ``CRASH_EXIT_CODE`` instead of leaving a half-broken kiosk running.
"""

from __future__ import annotations

import logging
import sys

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


def exit_on_uncaught(app: QApplication, code: int = CRASH_EXIT_CODE) -> None:
    """After the installed ``sys.excepthook`` has reported an uncaught exception (PySide
    only prints one raised in a slot and carries on), end the event loop with ``code``:
    systemd starts a fresh kiosk; the shutdown path still closes the queue cleanly."""
    previous = sys.excepthook

    def hook(kind, value, tb) -> None:
        try:
            previous(kind, value, tb)
        finally:
            log.critical("uncaught %s: the kiosk exits with %d", kind.__name__, code)
            app.exit(code)

    sys.excepthook = hook
