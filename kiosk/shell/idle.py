"""Idle handling for the app shell.

No touch for ``idle_timeout_s``: during a visit a "still there?" prompt counts down 20 s
(WCAG 2.2.1 asks for at least 20 s to answer; "I'm still here" extends it, as often as the
resident likes), then the visit ends and everything about the resident is wiped; on the home
screen an attract overlay appears. Elder mode (长辈版) doubles both times. While either is
up, the first touch only wakes the screen: it is swallowed, never passed to the button under
the finger.

Screen care: in the sleep hours (``kiosk.screen_sleep_hours`` in ``kiosk.timezone``), no touch
for ``kiosk.screen_sleep_after_s`` outside a visit blanks the screen with a black cover that
wakes the same way. Under Weston a client cannot switch the panel off (DPMS belongs to the
compositor): black pixels are what an application can do; an LCD's backlight still glows.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from contract.times import zone
from kiosk.config_rules import in_hours, parse_hours
from screens.widgets.basic import button, label, svg_pixmap

PROMPT_S = 20
ELDER_TIME_FACTOR = 2
SLEEP_RECHECK_S = 60  # not yet the sleep hours, or a visit: look again this much later
SLEEP_STYLE = "QFrame#overlay\\:idle { background: #000; }"


class SleepPlan:
    """When the screen may sleep: ``after_s`` without a touch (0: never) within ``hours``
    (``"22:00-06:00"``, ``""`` = any hour) in the time zone ``zone_name``. Qt-free."""

    def __init__(self, after_s: int, hours: str, zone_name: str,
                 now: Callable[[], float] = time.time):
        self.after_s = after_s
        self._span = parse_hours(hours)
        self._zone_name = zone_name  # loaded at the first look: zoneinfo is not start-up's
        self._now = now

    @functools.cached_property
    def _zone(self) -> dt.tzinfo:
        return zone(self._zone_name)

    def now_allowed(self) -> bool:
        local = dt.datetime.fromtimestamp(self._now(), self._zone)
        return self.after_s > 0 and in_hours(self._span, local.hour * 60 + local.minute)

_PRESS = {QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.TouchBegin,
          QEvent.Type.KeyPress}
_RELEASE = {QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd, QEvent.Type.KeyRelease,
            QEvent.Type.MouseMove, QEvent.Type.TouchUpdate}


class IdleOverlay(QFrame):
    """Covers the whole window: either the "still there?" prompt or the attract screen."""

    def __init__(self, parent: QWidget, tr):
        super().__init__(parent)
        self.setObjectName("overlay:idle")
        self.setProperty("role", "overlay")
        self._tr = tr
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dialog = QFrame()
        self.dialog.setProperty("role", "dialog")
        self.dialog.setMinimumWidth(760)
        col = QVBoxLayout(self.dialog)
        col.setContentsMargins(56, 48, 56, 48)
        col.setSpacing(24)
        self.icon = QLabel()
        self.icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.icon)
        self.heading = label(role="title")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.heading)
        self.body = label(role="subtitle", name="label:idle")
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.body)
        self.stay = button("", name="btn:stay", role="primary")
        col.addWidget(self.stay)
        outer.addWidget(self.dialog)
        self.hide()

    def show_prompt(self, seconds: int) -> None:
        self.icon.setPixmap(svg_pixmap("clock", 120))
        self.heading.setText(self._tr("idle.title"))
        self.body.setText(self._tr("idle.body", s=seconds))
        self.stay.setText(self._tr("idle.continue"))
        self.stay.show()
        self._cover()

    def show_sleep(self) -> None:
        """All black, nothing on it (the screen is "off")."""
        self.dialog.hide()
        self.setStyleSheet(SLEEP_STYLE)
        self._cover(asleep=True)

    def show_attract(self) -> None:
        self.icon.setPixmap(svg_pixmap("hand-tap", 160))
        self.heading.setText(self._tr("attract.touch"))
        self.body.setText(self._tr("home.footer"))
        self.stay.hide()
        self._cover()

    def _cover(self, asleep: bool = False) -> None:
        if not asleep:  # the prompt or the attract screen: undo the sleep's black
            self.setStyleSheet("")
            self.dialog.show()
        self.setGeometry(self.parentWidget().rect())
        self.raise_()
        self.show()


class IdleWatcher(QObject):
    """An application-wide event filter that tracks touches and runs the idle time-outs."""

    timedOut = Signal()  # the prompt ran out: end the visit
    woke = Signal()
    sleepChanged = Signal(bool)  # the screen went black (True) or woke from it (False)

    def __init__(self, overlay: IdleOverlay, timeout_s: int, in_visit, parent=None,
                 sleep: SleepPlan | None = None):
        super().__init__(parent)
        self.overlay = overlay
        self._in_visit = in_visit  # callable: is a resident in the middle of a visit?
        self._idle = QTimer(self)
        self._idle.setSingleShot(True)
        self._timeout_ms = timeout_s * 1000
        self._factor = 1  # ELDER_TIME_FACTOR in elder mode
        self._idle.setInterval(self._timeout_ms)
        self._idle.timeout.connect(self.went_idle)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._count)
        self._left = 0
        self._swallowing = False
        self.asleep = False  # an overlay is up: the next touch only wakes
        self.sleeping = False  # the overlay is the black screen
        self.paused = False  # technician mode: no prompt, no attract screen
        self._plan = sleep
        self._sleep = QTimer(self)
        self._sleep.setSingleShot(True)
        self._sleep.timeout.connect(self.sleep_due)

    def start(self) -> None:
        self._idle.start()
        self._start_sleep_clock()

    def stop(self) -> None:
        self._idle.stop()
        self._tick.stop()
        self._sleep.stop()

    def set_timeout(self, seconds: float) -> None:
        self._timeout_ms = int(seconds * 1000)
        self._idle.setInterval(self._timeout_ms * self._factor)

    def set_elder(self, on: bool) -> None:
        """Elder mode: twice the idle time and twice the time to answer the prompt."""
        self._factor = ELDER_TIME_FACTOR if on else 1
        self._idle.setInterval(self._timeout_ms * self._factor)

    @property
    def timeout_ms(self) -> int:
        return self._idle.interval()

    def touch(self) -> None:
        """Any touch: restart the idle clock (and the sleep's)."""
        self._idle.start()
        self._start_sleep_clock()

    def _start_sleep_clock(self, seconds: float | None = None) -> None:
        if self._plan is not None and self._plan.after_s > 0:
            self._sleep.start(int((seconds or self._plan.after_s) * 1000))

    def sleep_due(self) -> None:
        """The quiet time is up (or a test says so): black, if now is in the sleep hours
        and no visit or technician is on screen; else look again a little later."""
        if self._plan is None or self.sleeping:
            return
        if self.paused or self._in_visit() or not self._plan.now_allowed():
            self._start_sleep_clock(min(self._plan.after_s, SLEEP_RECHECK_S))
            return
        self.asleep = self.sleeping = True
        self._tick.stop()
        self.overlay.show_sleep()
        self.sleepChanged.emit(True)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        kind = event.type()
        if kind in _PRESS:
            if self.asleep:
                self._swallowing = True
                self.wake()
                return True
            self.touch()
        elif kind in _RELEASE and self._swallowing:
            if kind in (QEvent.Type.MouseButtonRelease, QEvent.Type.TouchEnd,
                        QEvent.Type.KeyRelease):
                self._swallowing = False
            return True
        return False

    def wake(self) -> None:
        was_sleeping, self.sleeping = self.sleeping, False
        self.asleep = False
        self._tick.stop()
        self.overlay.hide()
        self._idle.start()
        self._start_sleep_clock()
        if was_sleeping:
            self.sleepChanged.emit(False)
        self.woke.emit()

    def went_idle(self) -> None:
        """The idle time is up (or the tour says so): the prompt in a visit, else attract."""
        if self.paused or self.sleeping:
            return  # the next touch after the pause starts the clock again
        self.asleep = True
        if self._in_visit():
            self._left = PROMPT_S * self._factor
            self.overlay.show_prompt(self._left)
            self._tick.start()
        else:
            self.overlay.show_attract()

    def _count(self) -> None:
        self._left -= 1
        if self._left > 0:
            self.overlay.show_prompt(self._left)
            return
        self._tick.stop()
        self.overlay.show_attract()  # stays asleep, now on the home screen
        self.timedOut.emit()
