"""The technician's PIN pad: an overlay over the whole window with big digit keys.

It only collects digits; checking them is the caller's (``submitted`` hands the PIN over and
the pad forgets it at once). No touch for ``timeout_s`` cancels it, and closing wipes it.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtWidgets import QBoxLayout, QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from screens import theme
from screens.form import FieldEdit
from screens.widgets.basic import button, label, svg_pixmap
from screens.widgets.keypad import NumericKeypad

TIMEOUT_S = 30
MAX_DIGITS = 12


class PinPad(QFrame):
    submitted = Signal(str)  # the PIN typed; the pad keeps no copy, OK waits for the answer
    cancelled = Signal(str)  # "cancel" (the button) or "timeout"

    def __init__(self, parent: QWidget, tr):
        super().__init__(parent)
        self.setObjectName("dialog:pin")
        self.setProperty("role", "overlay")
        self._tr = tr
        self.timeout_s = TIMEOUT_S
        outer = QVBoxLayout(self)
        outer.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.dialog = QFrame()
        self.dialog.setProperty("role", "dialog")
        self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight, self.dialog)
        self._body.setContentsMargins(48, 40, 48, 40)
        self._body.setSpacing(40)

        left = QVBoxLayout()
        left.setSpacing(20)
        head = QHBoxLayout()
        icon = label()
        icon.setPixmap(svg_pixmap("key", 64))
        head.addWidget(icon)
        self.heading = label(role="title")
        head.addWidget(self.heading, 1)
        left.addLayout(head)
        self.prompt = label(role="subtitle")
        left.addWidget(self.prompt)
        self.field = FieldEdit("field:pin")
        self.field.setEchoMode(FieldEdit.EchoMode.Password)
        self.field.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.field.setMaxLength(MAX_DIGITS)
        self.field.textChanged.connect(self._typed)
        left.addWidget(self.field)
        self.message = label(role="error", name="label:pin-message")
        self.message.hide()
        left.addWidget(self.message)
        left.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(20)
        self.cancel_btn = button("", name="btn:pin-cancel", on_click=lambda: self._cancel("cancel"))
        self.ok_btn = button("", name="btn:pin-ok", role="primary", on_click=self._submit)
        row.addWidget(self.cancel_btn, 1)
        row.addWidget(self.ok_btn, 1)
        left.addLayout(row)
        self._body.addLayout(left, 1)

        self.keypad = NumericKeypad(self.field, tr, max_length=MAX_DIGITS)
        self.keypad.setMinimumWidth(4 * theme.KEY_MIN + 30)
        self._body.addWidget(self.keypad, 1)
        outer.addWidget(self.dialog)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self._cancel("timeout"))
        for btn in self.findChildren(QPushButton):
            btn.pressed.connect(self._restart_timer)
        self._busy = False
        self._locked = False
        parent.installEventFilter(self)  # follow the window's size
        self.hide()

    # -- showing -----------------------------------------------------------------------------
    def open(self) -> None:
        """Show the pad, empty, over the whole window."""
        self.field.clear()
        self.message.clear()
        self.message.hide()
        self._busy = self._locked = False
        self.heading.setText(self._tr("pin.title"))
        self.prompt.setText(self._tr("pin.prompt"))
        self.ok_btn.setText(self._tr("pin.ok"))
        self.cancel_btn.setText(self._tr("pin.cancel"))
        self.keypad.setEnabled(True)
        self._update_ok()
        self.setGeometry(self.parentWidget().rect())
        self._arrange()
        self.raise_()
        self.show()
        self._restart_timer()

    def close_pad(self) -> None:
        """Hide the pad and wipe what was typed and said."""
        self._timer.stop()
        self.field.clear()
        self.message.clear()
        self.message.hide()
        self.hide()

    def show_message(self, text: str, *, locked: bool = False) -> None:
        """A wrong PIN, a lock-out or a missing PIN hash; ``locked`` disables the keys."""
        self._busy = False
        self._locked = locked
        self.field.clear()
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.keypad.setEnabled(not locked)
        self._update_ok()

    # -- internals ---------------------------------------------------------------------------
    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.parentWidget() and event.type() == QEvent.Type.Resize and \
                self.isVisible():
            self._arrange()
        return False

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        parent = self.parentWidget()
        if parent is None:
            return
        if self.isVisible() and self.geometry() != parent.rect():
            self.setGeometry(parent.rect())
        portrait = parent.height() > parent.width()
        self._body.setDirection(QBoxLayout.Direction.TopToBottom if portrait
                                else QBoxLayout.Direction.LeftToRight)
        self.dialog.setFixedWidth(min(parent.width() - 48, 900 if portrait else 1180))
        self.dialog.setFixedHeight(min(parent.height() - 24, 1240 if portrait else 740))

    def _restart_timer(self) -> None:
        if self.isVisible():
            self._timer.start(int(self.timeout_s * 1000))

    def _typed(self, _text: str) -> None:
        self._update_ok()
        if self.message.isVisible() and not self._locked and self.field.text():
            self.message.hide()  # a new attempt: the last message no longer applies

    def _update_ok(self) -> None:
        self.ok_btn.setEnabled(bool(self.field.text()) and not self._busy and not self._locked)

    def _submit(self) -> None:
        pin = self.field.text()
        self.field.clear()  # the widget forgets it at once
        if not pin or self._busy or self._locked:
            return
        self._busy = True
        self._update_ok()
        self.submitted.emit(pin)

    def _cancel(self, reason: str) -> None:
        if not self.isVisible():
            return
        self.close_pad()
        self.cancelled.emit(reason)
