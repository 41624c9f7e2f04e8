"""Error: what went wrong in plain words, and the way home."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout

from screens.base import Screen
from screens.spoken import Phrase, fixed
from screens.widgets.basic import button, label, svg_pixmap


class ErrorScreen(Screen):
    name = "error"

    def __init__(self, ctl):
        super().__init__(ctl)
        col = QVBoxLayout(self)
        col.setContentsMargins(80, 48, 80, 48)
        col.setSpacing(28)
        col.addStretch(1)
        icon = QLabel()
        icon.setPixmap(svg_pixmap("alert", 140, "#b3261e"))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(icon)
        self.heading = label(role="title")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.heading)
        self.body = label(role="subtitle", name="label:message")
        self.body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(self.body)
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
