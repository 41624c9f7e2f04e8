"""Out of service: what a kiosk that keeps crashing shows instead of a restart loop.

Both languages at once (nothing on it can be touched), and the service point's phone number
from the configuration (``kiosk.service_phone``) when there is one.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from kiosk.i18n import LOCALES, tr
from screens.message import MessageColumn


class OutOfServiceScreen(QWidget):
    """A still screen; the kiosk under it only keeps its heartbeats going."""

    def __init__(self, service_point: str, phone: str):
        super().__init__()
        self.setObjectName("out_of_service")
        col = MessageColumn(self, spacing=24)
        for locale in LOCALES:
            col.line(tr(locale, "out_of_service.title"), "title")
            col.line(tr(locale, "out_of_service.body"), "subtitle")
        if service_point:
            col.line(service_point, "subtitle", "label:service_point")
        if phone:
            text = "  /  ".join(tr(loc, "out_of_service.phone", phone=phone) for loc in LOCALES)
            col.line(text, "title", "label:phone")
        col.addStretch(1)
