"""Applies the theme for the panel the kiosk runs on and for elder mode (长辈版).

The panel's density comes from ``kiosk.panel_inches`` and the screen's resolution; with 0
there, from the size the display reports (when it reports one); else a 21.5-inch panel is
assumed, the largest villages buy, so millimetre minimums are never under-estimated.
"""

from __future__ import annotations

import logging

from PySide6.QtGui import QFont, QGuiApplication, QScreen
from PySide6.QtWidgets import QApplication

from screens import theme

log = logging.getLogger(__name__)

# Displays that report no size, or a made-up one (a 96 dpi guess), are not believed.
_PLAUSIBLE_PX_PER_MM = (2.0, 12.0)


def panel_px_per_mm(panel_inches: float, screen: QScreen | None) -> tuple[float, str]:
    """Pixels per millimetre on ``screen`` and where the figure came from."""
    if screen is None:
        return theme.REFERENCE.px_per_mm, f"assumed {theme.REFERENCE}"
    size = screen.size() * screen.devicePixelRatio()
    width, height = size.width(), size.height()
    if panel_inches > 0:
        panel = theme.Panel(panel_inches, width, height)
        return panel.px_per_mm, f"config {panel}"
    physical = screen.physicalSize()
    if physical.width() > 0:
        ppm = width / physical.width()
        low, high = _PLAUSIBLE_PX_PER_MM
        if low <= ppm <= high and abs(ppm * 25.4 - 96) > 0.5:
            return ppm, f"display reports {physical.width():.0f} mm wide"
    panel = theme.Panel(theme.DEFAULT_INCHES, width, height)
    return panel.px_per_mm, f"assumed {panel}"


class Look:
    """The application's font and stylesheet for one panel density, normal or elder."""

    def __init__(self, app: QApplication, panel_inches: float):
        self._app = app
        self._panel_inches = panel_inches
        self.px_per_mm, source = panel_px_per_mm(panel_inches, QGuiApplication.primaryScreen())
        log.info("panel: %.2f px/mm (%s)", self.px_per_mm, source)
        self.elder = False
        self.apply()

    @property
    def metrics(self) -> theme.Metrics:
        return theme.Metrics(self.px_per_mm, self.elder)

    def set_elder(self, on: bool) -> None:
        if on != self.elder:
            self.elder = on
            self.apply()

    def set_panel(self, panel: theme.Panel) -> None:
        """Style for ``panel`` (the accessibility table measures each panel villages buy)."""
        self.px_per_mm = panel.px_per_mm
        self.apply()

    def apply(self) -> None:
        m = self.metrics
        font = QFont()
        font.setFamilies(theme.FONT_FAMILIES)
        font.setPixelSize(m.body)
        self._app.setFont(font)
        self._app.setStyleSheet(theme.stylesheet(m))
