"""The still column both message screens (error, out of service) are built on: the red
alert sign over centred lines of text."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from screens.widgets.basic import label, svg_pixmap


class MessageColumn(QVBoxLayout):
    """The layout of ``parent``: margins, a stretch and the alert sign; add lines with
    ``line`` and end with ``addStretch(1)``."""

    def __init__(self, parent: QWidget, spacing: int) -> None:
        super().__init__(parent)
        self.setContentsMargins(80, 48, 80, 48)
        self.setSpacing(spacing)
        self.addStretch(1)
        icon = QLabel()
        icon.setPixmap(svg_pixmap("alert", 140, "#b3261e"))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(icon)

    def line(self, text: str = "", role: str = "", name: str = "") -> QLabel:
        """A centred label of ``role`` (called ``name``) added below the others."""
        lbl = label(text, role=role, name=name)
        lbl.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.addWidget(lbl)
        return lbl
