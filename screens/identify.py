"""Identify: "place your ID card on the reader", with a picture, a message and a way out."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from screens.base import Screen
from screens.spoken import Phrase, fixed
from screens.widgets.basic import button, label, svg_pixmap


class IdentifyScreen(Screen):
    name = "identify"

    def __init__(self, ctl):
        super().__init__(ctl)
        col = QVBoxLayout(self)
        col.setContentsMargins(48, 32, 48, 32)
        col.setSpacing(20)
        self.heading = label(role="title")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(self.heading)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # The picture takes what room is left and never pushes the window larger.
        self.picture.setMinimumSize(1, 1)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        col.addWidget(self.picture, 1)
        self.hint = label(role="subtitle")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(self.hint)
        self.message = label(role="error", name="label:message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.message.hide()
        col.addWidget(self.message)
        self._extras = QVBoxLayout()  # panels added from outside (the demo's sample cards)
        col.addLayout(self._extras)
        row = QHBoxLayout()
        row.addStretch(1)
        self.cancel = button("", name="btn:cancel", icon="home-nav", on_click=ctl.go_home)
        self.cancel.setMinimumWidth(360)
        row.addWidget(self.cancel)
        row.addStretch(1)
        col.addLayout(row)

    def add_panel(self, panel: QWidget) -> None:
        """Show ``panel`` under the message, above the way out (the demo adds its sample
        residents' cards here)."""
        self._extras.addWidget(panel)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        room = self.picture.height()
        size = max(120, min(480, int(room * 1.5)))  # the picture is 3:2
        self.picture.setPixmap(svg_pixmap("card-reader", size))

    def refresh(self) -> None:
        self.heading.setText(self.tr("identify.title"))
        self.hint.setText(self.tr("identify.hint"))
        self.cancel.setText(self.tr("identify.cancel"))
        key = self.ctl.identify_message
        self.message.setText(self.tr(key) if key else "")
        self.message.setVisible(bool(key))

    def spoken_text(self) -> list[Phrase]:
        key = self.ctl.identify_message
        said = [fixed(self.tr, key)] if key else []  # a refused card first
        return [*said, fixed(self.tr, "identify.title"), fixed(self.tr, "identify.hint")]

    def leave(self) -> None:
        self.message.clear()
        self.message.hide()
