"""The technician's way in and out of diagnostics mode.

``CornerHold`` is an application-wide event filter that watches presses (mouse and touch)
without ever eating one: a resident's touch reaches the widget under the finger as before.
Only a press held ``hold_s`` seconds inside the ``corner_px`` square, without leaving it,
calls ``on_hold``; releasing or moving out earlier cancels. ``TechMode`` then runs the PIN
pad, the mode itself and the audit log.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from PySide6.QtCore import QEvent, QObject, QPoint, QTimer
from PySide6.QtWidgets import QApplication, QWidget

log = logging.getLogger(__name__)

HOLD_S = 5.0
CORNER_PX = 100
AUTO_LEAVE_S = 180
# `kiosk run` exits with this after the technician's "restart" (EX_TEMPFAIL); systemd's
# Restart=always (or RestartForceExitStatus=75) starts the kiosk again.
RESTART_EXIT_CODE = 75
# The top bar turns slate in diagnostics: a resident sees at once this is not for them.
TECH_BAR_STYLE = "QWidget#topbar { background: #37474f; }"

_PRESS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin}
_MOVE = {QEvent.Type.MouseMove, QEvent.Type.TouchUpdate}
_END = {QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.TouchCancel}


class CornerHold(QObject):
    """Calls ``on_hold()`` after a press held in ``window``'s top-left corner.

    ``allowed()`` is asked when the press starts and again when the time is up (no visit in
    progress, no idle overlay); a press it refuses is never timed.
    """

    def __init__(self, window: QWidget, allowed: Callable[[], bool],
                 on_hold: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._window = window
        self._allowed = allowed
        self._on_hold = on_hold
        self.hold_s = HOLD_S
        self.corner_px = CORNER_PX
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._held)

    @property
    def holding(self) -> bool:
        return self._timer.isActive()

    def cancel(self) -> None:
        self._timer.stop()

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind in _PRESS:
            # A press reaches the filter once for each widget it propagates to: time it once.
            if not self._timer.isActive() and self._in_corner(event) and self._allowed():
                self._timer.start(int(self.hold_s * 1000))
        elif kind in _MOVE:
            if self._timer.isActive() and not self._in_corner(event):
                self._timer.stop()
        elif kind in _END:
            self._timer.stop()
        return False  # never eat a touch

    def _in_corner(self, event) -> bool:
        points = event.points() if hasattr(event, "points") else ()
        if not points:
            return False
        global_pos = points[0].globalPosition().toPoint()
        if not self._window.isVisible():
            return False
        pos: QPoint = self._window.mapFromGlobal(global_pos)
        return 0 <= pos.x() < self.corner_px and 0 <= pos.y() < self.corner_px

    def _held(self) -> None:
        if self._allowed():
            log.info("diagnostics gesture: corner held %g s", self.hold_s)
            self._on_hold()


class _Touches(QObject):
    """Calls ``touched()`` on every press, key or touch; eats nothing."""

    _KINDS = {QEvent.Type.MouseButtonPress, QEvent.Type.TouchBegin, QEvent.Type.KeyPress}

    def __init__(self, touched: Callable[[], None], parent: QObject | None = None):
        super().__init__(parent)
        self._touched = touched

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() in self._KINDS:
            self._touched()
        return False


class TechMode(QObject):
    """The technician's diagnostics mode on the kiosk window: the corner gesture, the PIN pad,
    entering and leaving (also by itself after ``auto_leave_s`` without a touch), and the
    audit log of all of it. The PIN is checked and the audit written on ``executor``, a
    single worker of its own, never on the GUI thread or the queue's. ``window`` is the
    kiosk window whose corner, top bar, idle watcher and router it uses.
    """

    def __init__(self, window, ctl, jobs, config, queue):
        super().__init__(window)
        self.window = window
        self.ctl = ctl
        self.jobs = jobs
        self.config = config
        self._queue = queue
        self.executor = ThreadPoolExecutor(1, thread_name_prefix="diag")
        self.active = False
        self.auto_leave_s = AUTO_LEAVE_S
        self._pad = None  # built the first time the gesture asks for it
        self.hold = CornerHold(window, self._gesture_possible, self.open_pin_pad, self)
        self._touches = _Touches(self._touched, self)
        self._auto = QTimer(self)
        self._auto.setSingleShot(True)
        self._auto.timeout.connect(lambda: self.leave("auto-leave"))
        self._installed = False
        self._closed = False
        self.technician: str | None = None  # who is in diagnostics, named by their PIN
        _warn_shared_pin(config)

    # Built on first use, so that start-up (home's first paint) does not wait for them.
    @functools.cached_property
    def hashes(self) -> dict[str, str]:
        """Name -> PIN hash (``kiosk.technician.pin.technician_hashes``)."""
        from kiosk.technician.pin import technician_hashes

        diag = self.config.diagnostics
        return technician_hashes(diag.technicians, diag.pin_hash)

    @functools.cached_property
    def gate(self):
        """The PIN gate (``kiosk.technician.pin_gate.PinGate``) of this data folder."""
        from kiosk.technician.pin_gate import PinGate

        return PinGate.for_data_dir(self.config.kiosk.data_dir)

    @functools.cached_property
    def audit(self):
        """The audit log (``kiosk.technician.audit.AuditLog``) of this data folder."""
        from kiosk.technician.audit import AuditLog

        return AuditLog.for_data_dir(self.config.kiosk.data_dir)

    @functools.cached_property
    def collector(self):
        """The status collector (``kiosk.shell.technician_status.StatusCollector``)."""
        from kiosk.shell.technician_status import StatusCollector

        return StatusCollector(self.config, self.jobs, self._queue, self.ctl.board, self)

    @property
    def pad(self):
        """The PIN pad (``screens.diagnostics.pin_pad.PinPad``), built on first use."""
        if self._pad is None:
            from screens.diagnostics.pin_pad import PinPad

            self._pad = PinPad(self.window.centralWidget(), self.ctl.tr)
            self._pad.submitted.connect(self._check_pin)
            self._pad.cancelled.connect(self._pad_cancelled)
        return self._pad

    @property
    def pad_open(self) -> bool:
        return self._pad is not None and self._pad.isVisible()

    # -- life cycle -------------------------------------------------------------------------
    def install(self) -> None:
        """Start watching for the gesture (after the first frame, like the idle filter)."""
        if not self._installed:
            self._installed = True
            QApplication.instance().installEventFilter(self.hold)

    def shutdown(self) -> None:
        """Stop watching and write what the audit still has to write."""
        app = QApplication.instance()
        for f in (self.hold, self._touches):
            app.removeEventFilter(f)
        self._auto.stop()
        self.hold.cancel()
        if "collector" in self.__dict__:
            self.collector.stop()
        if self._pad is not None:
            self._pad.close_pad()
        if self.active:  # closed in diagnostics: its screen stops refreshing and wipes itself
            self.window.router.current.leave()
        self._closed = True
        self.executor.shutdown(wait=True)

    def record(self, event: str, outcome: str, **detail) -> None:
        """Append to the audit log off the GUI thread, in order, naming the technician in
        diagnostics (None before a PIN said who)."""
        detail.setdefault("technician", self.technician)
        if self._closed:  # shutting down: nothing may be lost, write it here
            self.audit.record(event, outcome, **detail)
            return
        self.jobs.submit(self.executor, lambda: self.audit.record(event, outcome, **detail),
                             lambda _entry: None,
                             lambda exc: log.error("audit %s not written: %s", event, exc))

    # -- entry ------------------------------------------------------------------------------
    def _gesture_possible(self) -> bool:
        win = self.window
        return (not self.active and not self.pad_open and not win.idle.asleep
                and not win.overlay.isVisible())

    def _resident_busy(self) -> bool:
        ctl = self.ctl
        current = self.window.router.current
        on_home = current is not None and current.name == "home"
        return ctl.session.in_visit or ctl.submitting or not on_home

    def open_pin_pad(self) -> None:
        """The gesture's end: the PIN pad, unless a resident is in the middle of a visit."""
        if self.active or self.pad_open:
            return
        if self._resident_busy():
            log.info("diagnostics entry refused: a resident is in the middle of a visit")
            self.record("entry", "refused-visit")
            return
        self.window.idle.paused = True
        self.pad.open()
        if not self.hashes:
            self.pad.show_message(self.ctl.tr("pin.not_configured"), locked=True)
            self.record("entry", "not-configured")
            return
        self.jobs.submit(self.executor, self.gate.locked_until, self._show_lock,
                             lambda exc: log.error("PIN gate: %s", exc))

    def _show_lock(self, until: float | None) -> None:
        if until is not None and self.pad_open:
            self.pad.show_message(self._locked_text(until), locked=True)

    def _locked_text(self, until: float) -> str:
        minutes = max(1, math.ceil((until - time.time()) / 60))
        return self.ctl.tr("pin.locked", m=minutes)

    def _check_pin(self, pin: str) -> None:
        hashes = self.hashes  # the pad is busy until answered; N hashes x ~70 ms, off the GUI
        self.jobs.submit(self.executor, lambda: self.gate.check(pin, hashes),
                             self._pin_checked, self._pin_error)

    def _pin_checked(self, result) -> None:
        """Audit the answer (the gate counted it, even if the pad was cancelled meanwhile),
        then show it, or enter."""
        from uplink.heartbeat import rfc3339

        tr = self.ctl.tr
        if result.ok:
            if result.weak:
                log.warning("technician %s has a PIN shorter than 6 digits: make a new one "
                            "with `kiosk diag hash-pin`", result.technician)
            if self.pad_open:
                self.enter(result.technician)
            return
        if result.reason == "wrong":
            self.record("pin-failed", "wrong", attempts_left=result.attempts_left)
            if result.newly_locked:
                self.record("lockout", "locked", until=rfc3339(result.locked_until),
                            lockouts=result.lockouts)
                text, locked = self._locked_text(result.locked_until), True
            else:
                text, locked = tr("pin.wrong", n=result.attempts_left), False
        elif result.reason == "locked":
            self.record("pin-failed", "locked", until=rfc3339(result.locked_until))
            text, locked = self._locked_text(result.locked_until), True
        elif result.reason == "not-configured":
            self.record("entry", "not-configured")
            text, locked = tr("pin.not_configured"), True
        else:
            self.record("entry", result.reason)
            text, locked = tr("pin.bad_hash"), True
        if self.pad_open:
            self.pad.show_message(text, locked=locked)

    def _pin_error(self, exc: BaseException) -> None:
        log.error("PIN check failed: %s", exc)
        self.record("entry", "error", error=str(exc))
        if self.pad_open:
            self.pad.show_message(self.ctl.tr("pin.bad_hash"), locked=True)

    def _pad_cancelled(self, reason: str) -> None:
        self.window.idle.paused = False
        self.window.idle.touch()

    # -- the mode ---------------------------------------------------------------------------
    def enter(self, technician: str | None = None) -> None:
        """Show the diagnostics screen (the PIN was right: ``technician``'s)."""
        if self.active:
            return
        self.active = True
        self.technician = technician
        if self._pad is not None:
            self._pad.close_pad()
        self.window.idle.paused = True
        QApplication.instance().installEventFilter(self._touches)
        self._auto.start(int(self.auto_leave_s * 1000))
        self.window.topbar.setStyleSheet(TECH_BAR_STYLE)
        self.record("entry", "ok")
        log.info("diagnostics mode entered by %s", technician)
        self.ctl.show_screen("diagnostics")

    def leave(self, event: str = "leave") -> None:
        """Back to the resident's home screen; ``event`` goes to the audit log."""
        if not self.active:
            return
        self.active = False
        self._auto.stop()
        QApplication.instance().removeEventFilter(self._touches)
        self.ctl.card_listener = None
        self.window.topbar.setStyleSheet("")
        self.record(event, "ok")
        log.info("diagnostics mode left by %s (%s)", self.technician, event)
        self.technician = None
        self.window.idle.paused = False
        self.window.idle.touch()
        self.ctl.go_home()

    def restart(self) -> None:
        """Leave and end the event loop with RESTART_EXIT_CODE: ``kiosk run`` exits with it
        and systemd starts the kiosk again."""
        self.leave("restart")
        self.window.locked = False
        QApplication.instance().exit(RESTART_EXIT_CODE)

    def _touched(self) -> None:
        if self.active:
            self._auto.start(int(self.auto_leave_s * 1000))


def _warn_shared_pin(config) -> None:
    """The shared ``pin_hash`` is an unnamed technician: said once, at start."""
    if config.diagnostics.pin_hash:
        log.warning("[diagnostics] pin_hash is one shared PIN: the audit log cannot say who "
                    "did what; list each technician under [diagnostics.technicians]")
