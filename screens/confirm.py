"""Confirm: a summary of the visit, identity and personal answers masked."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QBoxLayout, QGridLayout, QVBoxLayout

from kiosk.visit.summary import summary_rows
from screens.base import Screen
from screens.spoken import Phrase, fixed, masked_for_speech
from screens.widgets.basic import button, card_frame, clear_layout, label


class ConfirmScreen(Screen):
    name = "confirm"

    def __init__(self, ctl):
        super().__init__(ctl)
        col = QVBoxLayout(self)
        col.setContentsMargins(48, 24, 48, 28)
        col.setSpacing(16)
        self.heading = label(role="title")
        col.addWidget(self.heading)
        # Landscape: the summary on the left, the button on the right; portrait: stacked.
        self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._body.setSpacing(40)
        self.card = card_frame()
        self.rows = QGridLayout(self.card)
        self.rows.setContentsMargins(32, 20, 32, 20)
        self.rows.setHorizontalSpacing(36)
        self.rows.setVerticalSpacing(10)
        self.rows.setColumnStretch(1, 1)
        left = QVBoxLayout()
        left.addWidget(self.card)
        left.addStretch(1)
        self._body.addLayout(left, 3)
        side = QVBoxLayout()
        side.addStretch(1)
        self.hint = label(role="subtitle")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        side.addWidget(self.hint)
        self.confirm_btn = button("", name="btn:confirm", role="primary", icon="check",
                                  icon_color="#ffffff", on_click=self._confirm)
        self.confirm_btn.setMinimumSize(420, 120)
        side.addWidget(self.confirm_btn)
        side.addStretch(1)
        self._body.addLayout(side, 2)
        col.addLayout(self._body, 1)

    def resizeEvent(self, event):  # noqa: N802 - Qt API
        super().resizeEvent(event)
        portrait = event.size().height() > event.size().width()
        self._body.setDirection(QBoxLayout.Direction.TopToBottom if portrait
                                else QBoxLayout.Direction.LeftToRight)

    def refresh(self) -> None:
        self.heading.setText(self.tr("confirm.title"))
        self.hint.setText(self.tr("confirm.submitting") if self.ctl.submitting
                          else self.tr("confirm.hint"))
        self.confirm_btn.setText(self.tr("nav.confirm"))
        self.confirm_btn.setEnabled(not self.ctl.submitting)
        self._clear_rows()
        visit = self.ctl.session.visit
        if visit is None:
            return
        for r, (caption, value) in enumerate(summary_rows(visit, self.ctl.locale)):
            cap = label(caption, role="muted", wrap=False)
            val = label(value or self.tr("confirm.empty"), role="value")
            self.rows.addWidget(cap, r, 0, Qt.AlignmentFlag.AlignTop)
            self.rows.addWidget(val, r, 1)

    def spoken_text(self) -> list[Phrase]:
        """The summary as shown, masked; a masked value is said by its tail only."""
        visit = self.ctl.session.visit
        if visit is None:
            return []
        empty = self.tr("confirm.empty")
        rows = [f"{caption}: {masked_for_speech(self.tr, value) if value else empty}"
                for caption, value in summary_rows(visit, self.ctl.locale)]
        hint = "confirm.submitting" if self.ctl.submitting else "confirm.hint"
        return [fixed(self.tr, "confirm.title"), *map(Phrase, rows), fixed(self.tr, hint)]

    def leave(self) -> None:
        self._clear_rows()

    def _clear_rows(self) -> None:
        clear_layout(self.rows)

    def _confirm(self) -> None:
        self.confirm_btn.setEnabled(False)  # one touch, one transaction
        self.ctl.confirm()
