"""The screen base class and the registry that maps screen names to their modules."""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from PySide6.QtWidgets import QWidget

from kiosk.visit.session import Session
from screens.spoken import Phrase


class Controller(Protocol):
    """What a screen needs of the shell's controller (``kiosk.shell.controller.Controller``):
    screens sit below the shell and never import it; they get the controller passed in."""

    session: Session
    locale: str

    def tr(self, key: str, **params: Any) -> str: ...

# name -> "module:Class"; modules are imported the first time their screen is shown.
REGISTRY: dict[str, str] = {
    "home": "screens.home:HomeScreen",
    "services": "screens.services:ServicesScreen",
    "identify": "screens.identify:IdentifyScreen",
    "form": "screens.form:FormScreen",
    "confirm": "screens.confirm:ConfirmScreen",
    "done": "screens.done:DoneScreen",
    "error": "screens.error:ErrorScreen",
    "diagnostics": "screens.diagnostics.screen:DiagnosticsScreen",  # technicians only, not a Step
}


def screen_class(name: str) -> type[Screen]:
    module, cls = REGISTRY[name].split(":")
    return getattr(importlib.import_module(module), cls)


class Screen(QWidget):
    """One page of the main stack. ``refresh`` renders it from the controller's state."""

    name = ""

    def __init__(self, ctl: Controller):
        super().__init__()
        self.ctl = ctl
        self.setObjectName(f"screen:{self.name}")
        self.setProperty("screen", True)
        # A page must never push the fullscreen window larger than the display; the layouts
        # are sized to fit 1280x800 and up, and this keeps a surprise from growing the window.
        self.setMinimumSize(1, 1)

    def tr(self, key: str, **params) -> str:
        return self.ctl.tr(key, **params)

    def title(self) -> str:
        """The top bar's text: the service being done, else the kiosk's name."""
        visit = self.ctl.session.visit
        if visit is not None and visit.service is not None:
            from contract.menu import text

            return text(visit.service.title, self.ctl.locale)
        return self.tr("app.name")

    def enter(self) -> None:
        """Called when the screen becomes current."""
        self.refresh()

    def refresh(self) -> None:
        """Re-render from state, e.g. after a language switch."""

    def leave(self) -> None:
        """Called when another screen becomes current: drop any resident data shown."""

    def spoken_text(self) -> list[Phrase]:
        """What is said aloud when the screen appears and on ``btn:repeat``: the same
        translations and masked values it shows. Technicians' screens say nothing."""
        return []

    def show_field_error(self, text: str) -> None:
        """The resident's answer was refused; only the form has answers to refuse."""
