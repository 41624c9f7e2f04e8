"""The router owns the main stack: it builds screens on demand and runs enter/leave."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QStackedWidget

from screens.base import Screen, screen_class

if TYPE_CHECKING:
    from kiosk.shell.controller import Controller

log = logging.getLogger(__name__)


class Router:
    def __init__(self, ctl: Controller, stack: QStackedWidget):
        self._ctl = ctl
        self.stack = stack
        self._screens: dict[str, Screen] = {}

    @property
    def current(self) -> Screen | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, Screen) else None

    def screen(self, name: str) -> Screen:
        """The screen called ``name``, built the first time it is needed."""
        screen = self._screens.get(name)
        if screen is None:
            screen = screen_class(name)(self._ctl)
            self._screens[name] = screen
            self.stack.addWidget(screen)
        return screen

    def show(self, name: str) -> Screen:
        old = self.current
        new = self.screen(name)
        if old is not None and old is not new:
            old.leave()
        new.enter()
        self.stack.setCurrentWidget(new)
        log.debug("screen %s", name)
        return new

    def refresh(self) -> None:
        if self.current is not None:
            self.current.refresh()

    def built(self) -> list[Screen]:
        return list(self._screens.values())
