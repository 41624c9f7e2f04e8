"""The top bar: back and home on the left, the screen's title, the language switch."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget

from kiosk.shell.controller import Controller
from kiosk.visit.session import Step
from screens.router import Router
from screens.widgets.basic import button, label


class TopBar(QWidget):
    """Back and home on the left, the screen's title, the language switch on the right."""

    def __init__(self, ctl: Controller, router: Router):
        super().__init__()
        self.setObjectName("topbar")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        row = QHBoxLayout(self)
        row.setContentsMargins(24, 8, 24, 8)
        row.setSpacing(18)
        self.back = button("", name="btn:back", role="nav", icon="back", icon_color="#ffffff",
                           on_click=ctl.back)
        self.home = button("", name="btn:home", role="nav", icon="home-nav",
                           icon_color="#ffffff", on_click=ctl.go_home)
        self.title = label(wrap=False, name="label:title")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.lang = button("", name="btn:lang", role="nav", icon="globe", icon_color="#ffffff",
                           on_click=ctl.toggle_language)
        # A small, calm network state; residents are never asked to do anything about it.
        self.network = label(wrap=False, role="network", name="label:network")
        self.network.setMinimumWidth(200)
        row.addWidget(self.back)
        row.addWidget(self.home)
        row.addWidget(self.network)
        row.addWidget(self.title, 1)
        row.addWidget(self.lang)
        self._ctl = ctl
        self._router = router

    def update_for(self, step: str) -> None:
        ctl = self._ctl
        in_visit = step not in (Step.HOME.value, "diagnostics")  # technicians: no resident nav
        self.back.setVisible(in_visit and step not in (Step.DONE.value, Step.ERROR.value))
        self.home.setVisible(in_visit)
        self.back.setText(ctl.tr("nav.back"))
        self.home.setText(ctl.tr("nav.home"))
        self.lang.setText(ctl.tr("lang.switch"))
        current = self._router.current
        self.title.setText(current.title() if current is not None else ctl.tr("app.name"))
        self.show_network(ctl.online)

    def show_network(self, online: bool | None) -> None:
        """None: an offline-only kiosk (no central), nothing to show."""
        on_home = self._ctl.session.step == Step.HOME
        self.network.setVisible(online is not None and on_home)
        if online is not None:
            key = "status.online" if online else "status.offline"
            self.network.setText(("● " if online else "○ ") + self._ctl.tr(key))
