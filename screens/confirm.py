"""Confirm: a summary of the visit, identity and personal answers masked."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QGridLayout,
    QSizePolicy,
    QSpacerItem,
    QVBoxLayout,
)

from contract.menu import text
from kiosk.visit.summary import answer_rows, identity_rows, summary_rows
from screens.base import Screen
from screens.spoken import Phrase, fixed, masked_for_speech
from screens.widgets.basic import button, clear_layout, label

CONFIRM_MIN_W = 300  # px: still over 50 mm on the densest panel, so English captions fit


class SummaryCard(QFrame):
    """The summary's card: at least as wide as its rows want (long English captions on one
    line) as far as ``room`` allows; narrower than that, its captions wrap between words."""

    def __init__(self):
        super().__init__()
        self.setProperty("role", "card")
        self.room = 0

    def set_room(self, room: int) -> None:
        if room != self.room:
            self.room = room
            self.updateGeometry()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt API
        least = super().minimumSizeHint()
        return QSize(max(least.width(), min(self.sizeHint().width(), self.room)),
                     least.height())


class ConfirmScreen(Screen):
    name = "confirm"

    def __init__(self, ctl):
        super().__init__(ctl)
        col = QVBoxLayout(self)
        col.setContentsMargins(48, 16, 48, 16)
        col.setSpacing(12)
        self.heading = label(role="title")
        col.addWidget(self.heading)
        # Landscape: the summary on the left, the button on the right; portrait: stacked.
        self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._body.setSpacing(32)
        self.card = SummaryCard()
        card_col = QVBoxLayout(self.card)
        card_col.setContentsMargins(28, 14, 28, 14)
        card_col.setSpacing(8)
        # The service is the card's heading: it may wrap across the whole card.
        self.service = label(role="card-title")
        card_col.addWidget(self.service)
        self.rows = QGridLayout()
        self.rows.setHorizontalSpacing(28)
        self.rows.setVerticalSpacing(6)
        self.rows.setColumnStretch(1, 1)
        card_col.addLayout(self.rows)
        left = QVBoxLayout()
        left.addWidget(self.card)
        left.addStretch(1)
        self._body.addLayout(left, 3)
        self._body.addLayout(self._side(), 2)
        col.addLayout(self._body, 1)

    def _side(self) -> QVBoxLayout:
        side = QVBoxLayout()
        side.addStretch(1)
        self.hint = label(role="subtitle")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        # The hint wraps to the button's width: it must not push the summary narrower.
        self.hint.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        side.addWidget(self.hint)
        self.confirm_btn = button("", name="btn:confirm", role="primary", icon="check",
                                  icon_color="#ffffff", on_click=self._confirm)
        side.addWidget(self.confirm_btn)
        # A strut, not setMinimumWidth: the theme's min-width would override that.
        side.addItem(QSpacerItem(CONFIRM_MIN_W, 0, QSizePolicy.Policy.Minimum,
                                 QSizePolicy.Policy.Minimum))
        side.addStretch(1)
        return side

    def resizeEvent(self, event):  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit(event.size().width(), event.size().height())

    def _fit(self, width: int, height: int) -> None:
        """Portrait: stacked. Landscape: side by side, three fifths for the summary, or as
        much more as its rows want while the button keeps CONFIRM_MIN_W."""
        portrait = height > width
        self._body.setDirection(QBoxLayout.Direction.TopToBottom if portrait
                                else QBoxLayout.Direction.LeftToRight)
        margins = self.layout().contentsMargins()
        room = width - margins.left() - margins.right()
        if not portrait:
            room -= self._body.spacing() + CONFIRM_MIN_W
        self.card.set_room(max(0, room))

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
        locale = self.ctl.locale
        self.service.setText(text(visit.service.title, locale))
        rows = [*identity_rows(visit, locale), *answer_rows(visit, locale)]
        for r, (caption, value) in enumerate(rows):
            # Captions wrap between words; values (masked numbers) keep their width.
            cap = label(caption, role="muted")
            val = label(value or self.tr("confirm.empty"), role="value")
            self.rows.addWidget(cap, r, 0, Qt.AlignmentFlag.AlignTop)
            self.rows.addWidget(val, r, 1, Qt.AlignmentFlag.AlignTop)

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
        self.service.clear()
        clear_layout(self.rows)

    def _confirm(self) -> None:
        self.confirm_btn.setEnabled(False)  # one touch, one transaction
        self.ctl.confirm()
