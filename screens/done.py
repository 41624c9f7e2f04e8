"""Done: the reference in large type, what to do with the receipt, a countdown home."""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from screens.base import Screen
from screens.spoken import Phrase, fixed, spell
from screens.widgets.basic import button, label, svg_pixmap

COUNTDOWN_S = 30


class DoneScreen(Screen):
    name = "done"

    def __init__(self, ctl):
        super().__init__(ctl)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(48, 28, 48, 32)
        outer.setSpacing(40)
        col = QVBoxLayout()
        col.setSpacing(18)
        top = QHBoxLayout()
        icon = QLabel()
        icon.setPixmap(svg_pixmap("check", 96, "#12511f"))
        top.addWidget(icon)
        self.heading = label(role="done-title")
        top.addWidget(self.heading, 1)
        col.addLayout(top)
        col.addStretch(1)
        self.ref_caption = label(role="subtitle")
        col.addWidget(self.ref_caption)
        self.reference = label(role="reference", wrap=False, name="label:reference")
        col.addWidget(self.reference)
        self.print_msg = label(role="lead", name="label:print")
        col.addWidget(self.print_msg)
        col.addStretch(1)
        row = QHBoxLayout()
        self.countdown = label(role="muted")
        row.addWidget(self.countdown, 1)
        self.reprint = button("", name="btn:reprint", icon="printer", on_click=self._reprint)
        self.reprint.setMinimumWidth(320)
        self.reprint.hide()
        row.addWidget(self.reprint)
        self.finish = button("", name="btn:finish", role="primary", on_click=ctl.go_home)
        self.finish.setMinimumWidth(320)
        row.addWidget(self.finish)
        col.addLayout(row)
        outer.addLayout(col, 3)
        self._outer = outer
        self._left = COUNTDOWN_S
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)

    def enter(self) -> None:
        self._left = COUNTDOWN_S
        self._timer.start()
        super().enter()

    def refresh(self) -> None:
        visit = self.ctl.session.visit
        if visit is None:
            return
        self.heading.setText(self.tr("done.title"))
        self.ref_caption.setText(self.tr("done.reference"))
        self.reference.setText(visit.reference)
        self.reference.setToolTip(visit.transaction_id)
        key = {None: "done.printing", True: "done.take_receipt", False: "done.no_receipt"}
        self.print_msg.setText(self.tr(key[visit.printed]))
        self.print_msg.setProperty("role", "error" if visit.printed is False else "")
        self.print_msg.style().polish(self.print_msg)
        self.print_msg.setWordWrap(True)
        self.finish.setText(self.tr("done.finish"))
        self.reprint.setText(self.tr("done.reprint"))
        self.reprint.setVisible(visit.printed is False)
        self.countdown.setText(self.tr("done.countdown", s=self._left))

    def spoken_text(self) -> list[Phrase]:
        """Done, the reference character by character, and what to do about the receipt."""
        visit = self.ctl.session.visit
        if visit is None:
            return []
        key = {None: "done.printing", True: "done.take_receipt", False: "done.no_receipt"}
        return [fixed(self.tr, "done.title"),
                Phrase(f"{self.tr('done.reference')}: {spell(visit.reference)}"),
                fixed(self.tr, key[visit.printed])]

    def add_side_panel(self, panel: QWidget) -> None:
        """Show ``panel`` to the right of the reference (the demo's picture of the receipt
        its simulated printer made)."""
        self._outer.addWidget(panel, 2)

    def leave(self) -> None:
        self._timer.stop()
        self.reference.clear()
        self.reference.setToolTip("")
        self.print_msg.clear()

    def _reprint(self) -> None:
        visit = self.ctl.session.visit
        if visit is not None:
            self._left = COUNTDOWN_S  # give the printer and the resident time
            self.ctl.reprint(visit.transaction_id)

    def _tick(self) -> None:
        self._left -= 1
        if self._left <= 0:
            self._timer.stop()
            self.ctl.go_home()
        else:
            self.countdown.setText(self.tr("done.countdown", s=self._left))
