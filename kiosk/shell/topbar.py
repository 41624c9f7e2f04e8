"""The top bar: back and home on the left, the screen's title, speech and the language switch."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from kiosk.shell.controller import Controller
from kiosk.shell.speaker import Speaker
from kiosk.visit.session import Step
from screens.router import Router
from screens.widgets.basic import button, label, svg_icon


class _TitleLabel(QLabel):
    """The screen's title, cut short with "…" when the buttons need the room."""

    def __init__(self):
        super().__init__()
        self.setObjectName("label:title")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumWidth(1)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self._full = ""

    def setText(self, text: str) -> None:  # noqa: N802 - Qt API
        self._full = text
        self._fit()

    def text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        shown = self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight,
                                              max(1, self.width()))
        super().setText(shown)


class TopBar(QWidget):
    """Back and home on the left, the screen's title; on the right "say it again", the
    speech volume and the language switch."""

    def __init__(self, ctl: Controller, router: Router, speaker: Speaker):
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
        self.title = _TitleLabel()
        self.lang = button("", name="btn:lang", role="nav", icon="globe", icon_color="#ffffff",
                           on_click=ctl.toggle_language)
        self.repeat = button("", name="btn:repeat", role="nav", icon="repeat",
                             icon_color="#ffffff", on_click=speaker.repeat)
        self.volume = button("", name="btn:volume", role="nav", icon="speaker",
                             icon_color="#ffffff", on_click=speaker.step_volume)
        self.volume.setMinimumWidth(150)  # "100" and mute without a jump
        speaker.volumeChanged.connect(lambda _v: self.show_volume())
        # A small, calm network state; residents are never asked to do anything about it.
        self.network = label(wrap=False, role="network", name="label:network")
        self.network.setMinimumWidth(200)
        row.addWidget(self.back)
        row.addWidget(self.home)
        row.addWidget(self.network)
        row.addWidget(self.title, 1)
        row.addWidget(self.repeat)
        row.addWidget(self.volume)
        row.addWidget(self.lang)
        self._ctl = ctl
        self._router = router
        self._speaker = speaker

    def update_for(self, step: str) -> None:
        ctl = self._ctl
        in_visit = step not in (Step.HOME.value, "diagnostics")  # technicians: no resident nav
        self.back.setVisible(in_visit and step not in (Step.DONE.value, Step.ERROR.value))
        self.home.setVisible(in_visit)
        self.back.setText(ctl.tr("nav.back"))
        self.home.setText(ctl.tr("nav.home"))
        self.lang.setText(ctl.tr("lang.switch"))
        for btn in (self.repeat, self.volume):
            btn.setVisible(step != "diagnostics")
        self.repeat.setAccessibleName(ctl.tr("speech.repeat"))  # the icon says it on screen
        self.show_volume()
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

    def show_volume(self) -> None:
        """The volume button shows the level now, or that speech is muted."""
        muted = not self._speaker.volume
        self.volume.setText(str(self._speaker.volume) if not muted else "")
        self.volume.setAccessibleName(self._speaker.level_text())
        self.volume.setIcon(svg_icon("speaker-mute" if muted else "speaker", 48, "#ffffff"))
        self.volume.setIconSize(QSize(44, 44))
