"""Out of service: what a kiosk that keeps crashing shows instead of a restart loop.

Both languages at once (nothing on it can be touched), and the service point's phone number
from the configuration (``kiosk.service_phone``) when there is one.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.i18n import LOCALES, tr
from screens.widgets.basic import label, svg_pixmap


class OutOfServiceScreen(QWidget):
    """A still screen; the kiosk under it only keeps its heartbeats going."""

    def __init__(self, service_point: str, phone: str):
        super().__init__()
        self.setObjectName("out_of_service")
        col = QVBoxLayout(self)
        col.setContentsMargins(80, 48, 80, 48)
        col.setSpacing(24)
        col.addStretch(1)
        icon = QLabel()
        icon.setPixmap(svg_pixmap("alert", 140, "#b3261e"))
        icon.setAlignment(Qt.AlignmentFlag.AlignCenter)
        col.addWidget(icon)
        for locale in LOCALES:
            col.addWidget(self._centred(tr(locale, "out_of_service.title"), "title"))
            col.addWidget(self._centred(tr(locale, "out_of_service.body"), "subtitle"))
        if service_point:
            col.addWidget(self._centred(service_point, "subtitle", "label:service_point"))
        if phone:
            text = "  /  ".join(tr(loc, "out_of_service.phone", phone=phone) for loc in LOCALES)
            col.addWidget(self._centred(text, "title", "label:phone"))
        col.addStretch(1)

    @staticmethod
    def _centred(text: str, role: str, name: str = "") -> QLabel:
        lbl = label(text, role=role, name=name)
        lbl.setAlignment(Qt.AlignmentFlag.AlignCenter)
        return lbl
