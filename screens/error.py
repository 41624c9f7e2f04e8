"""Error: what went wrong in plain words, and the way home."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout

from screens.base import Screen
from screens.message import MessageColumn
from screens.spoken import Phrase, fixed
from screens.widgets.basic import button


class ErrorScreen(Screen):
    name = "error"

    def __init__(self, ctl):
        super().__init__(ctl)
        col = MessageColumn(self, spacing=28)
        self.heading = col.line(role="title")
        self.body = col.line(role="subtitle", name="label:message")
        col.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        self.home_btn = button("", name="btn:finish", role="primary", icon="home-nav",
                               icon_color="#ffffff", on_click=ctl.go_home)
        self.home_btn.setMinimumWidth(360)
        row.addWidget(self.home_btn)
        row.addStretch(1)
        col.addLayout(row)

    def refresh(self) -> None:
        visit = self.ctl.session.visit
        self.heading.setText(self.tr("error.title"))
        key = visit.error_key if visit and visit.error_key else "error.generic"
        self.body.setText(self.tr(key))
        self.home_btn.setText(self.tr("nav.home"))

    def spoken_text(self) -> list[Phrase]:
        visit = self.ctl.session.visit
        key = visit.error_key if visit and visit.error_key else "error.generic"
        return [fixed(self.tr, "error.title"), fixed(self.tr, key)]
