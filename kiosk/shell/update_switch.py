"""Switching to a new release between visits (issue #15): when the update loop says a
slot is ready, the kiosk asks the guard for the switch and exits with 75 the next time the
home screen shows with no transaction being written. The guard does the rest."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from kiosk.shell.technician_mode import RESTART_EXIT_CODE

log = logging.getLogger(__name__)


class UpdateSwitch(QObject):
    def __init__(self, ctl, request_switch: Callable[[], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctl = ctl
        self._request_switch = request_switch
        self._screen = "home"
        self._pending = False
        ctl.screenChanged.connect(self._on_screen)

    def want(self) -> None:
        """A slot is ready: switch now if no visit is on, else when the next one ends."""
        self._pending = True
        self._try()

    def _on_screen(self, name: str) -> None:
        self._screen = name
        self._try()

    def _try(self) -> None:
        if not self._pending or self._screen != "home" or self._ctl.submitting:
            return
        self._pending = False
        if self._request_switch():
            log.info("switching to the new release: restarting under the update guard")
            QApplication.instance().exit(RESTART_EXIT_CODE)
