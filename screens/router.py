"""The router owns the main stack: it builds screens on demand and runs enter/leave."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QStackedWidget

from screens.base import Screen

log = logging.getLogger(__name__)


class Router:
    """``build(name)`` makes the screen called ``name`` (the composition root knows what
    each screen needs); the router builds each once, the first time it is shown."""

    def __init__(self, stack: QStackedWidget, build: Callable[[str], Screen]):
        self.stack = stack
        self._build = build
        self._screens: dict[str, Screen] = {}

    @property
    def current(self) -> Screen | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, Screen) else None

    def screen(self, name: str) -> Screen:
        """The screen called ``name``, built the first time it is needed."""
        screen = self._screens.get(name)
        if screen is None:
            screen = self._build(name)
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

    def show_field_error(self, text: str) -> None:
        """The form's answer was refused (``Controller.fieldRejected``)."""
        if self.current is not None:
            self.current.show_field_error(text)

    def built(self) -> list[Screen]:
        return list(self._screens.values())
