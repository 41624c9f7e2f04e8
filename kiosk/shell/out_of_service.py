"""The window of a kiosk that has crashed too often: only the out-of-service screen, locked
down, with the same ``lock_down``/``shutdown`` surface as ``KioskWindow``."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMainWindow, QWidget

log = logging.getLogger(__name__)


class OutOfServiceWindow(QMainWindow):
    """Shows ``screen`` and nothing else; no devices, no queue, no visits."""

    def __init__(self, screen: QWidget):
        super().__init__()
        self.setObjectName("kiosk")
        self.setWindowTitle("便民服务自助终端")
        self.setCentralWidget(screen)
        self.screen_widget = screen
        self.locked = False
        log.error("out of service: showing the out-of-service screen until a technician "
                  "restarts the kiosk")

    def lock_down(self, hide_cursor: bool) -> None:
        self.locked = True
        self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)
        if hide_cursor:
            QApplication.setOverrideCursor(Qt.CursorShape.BlankCursor)

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt API
        if self.locked:
            event.ignore()
            return
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Nothing to stop: the same call as ``KioskWindow.shutdown``."""
