"""Look and feel: one stylesheet whose sizes are worked out in millimetres on the panel.

A size in this module is written as the pixels it has on the 21.5-inch 1920x1080 panel most
villages buy (``BODY_PX`` and friends, as before); ``Metrics`` raises each one to the
millimetre minimums on a denser panel, and scales text in elder mode (长辈版). Text height is
the font's pixel size (its em square): see docs/ACCESSIBILITY.md for why.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

BLUE = "#1a4f91"
BLUE_DARK = "#0f3f78"
BLUE_LIGHT = "#dbe8f7"
INK = "#1d2733"
MUTED = "#3d4a59"
PAPER = "#f4f7fb"
WHITE = "#ffffff"
GREEN = "#17652b"
GREEN_DARK = "#12511f"
ORANGE = "#f28c28"  # decoration only (the demo's simulator frame), never behind text
RED = "#8f1c15"
RED_LIGHT = "#fde8e6"
KEY_GREY = "#e9eef5"
LINE = "#b5c4d6"
DISABLED_INK, DISABLED_BG = "#4f5b68", "#e4e8ed"
DISABLED_PRIMARY_INK, DISABLED_PRIMARY_BG = "#2b3a2f", "#c7dccc"

TOUCH_MIN = 96  # px on the reference panel; the spec asks for at least 90
KEY_MIN = 90  # keypad keys and choices: exactly the spec's minimum, so forms fit 1280x800
BODY_PX = 30  # px on the reference panel; the spec asks for at least 28
FONT_FAMILIES = ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "sans-serif"]

BODY_MIN_MM = 5.0  # body text at least 4.8 mm tall: 5.0 leaves room for rounding
ELDER_MIN_MM = 6.0  # and at least 6 mm in elder mode
TARGET_MIN_MM = 15.0  # touch targets at least 15 mm
ELDER_SCALE = 1.3  # elder mode: text at least 1.3 times larger
ELDER_TILE_SCALE = 1.4  # elder mode: fewer, bigger tiles a page
DEFAULT_INCHES = 21.5  # what a kiosk assumes when neither the config nor the display says


@dataclass(frozen=True)
class Panel:
    """A display panel: its diagonal and its resolution."""

    inches: float
    width: int
    height: int

    @property
    def px_per_mm(self) -> float:
        return math.hypot(self.width, self.height) / (self.inches * 25.4)

    def __str__(self) -> str:
        return f'{self.inches:g}" {self.width}x{self.height}'


PANELS = (Panel(10.1, 1280, 800), Panel(15.6, 1920, 1080), Panel(21.5, 1920, 1080))
REFERENCE = PANELS[2]


@dataclass(frozen=True)
class Metrics:
    """Pixel sizes for one panel density, in normal or elder mode."""

    px_per_mm: float = REFERENCE.px_per_mm
    elder: bool = False

    def mm(self, px: float) -> float:
        return px / self.px_per_mm

    def text(self, base_px: int) -> int:
        """A font pixel size: ``base_px`` on the reference panel, never under the minimum."""
        px = max(base_px, math.ceil(BODY_MIN_MM * self.px_per_mm))
        if self.elder:
            px = max(math.ceil(px * ELDER_SCALE), math.ceil(ELDER_MIN_MM * self.px_per_mm))
        return px

    def target(self, base_px: int) -> int:
        """A touch target's smallest side: ``base_px``, never under 15 mm."""
        return max(base_px, math.ceil(TARGET_MIN_MM * self.px_per_mm))

    def tile(self, base_px: int) -> int:
        """A tile's smallest side in the paged grids: bigger (so fewer a page) for elders."""
        return round(base_px * ELDER_TILE_SCALE) if self.elder else base_px

    @property
    def body(self) -> int:
        return self.text(BODY_PX)


# (where, foreground, background, the least contrast it must have). 7:1 for body text, 4.5:1
# for everything else (large titles, disabled buttons); tests/screens/test_theme.py checks
# each pair and that every colour of the stylesheet is in one.
PAIRS: tuple[tuple[str, str, str, float], ...] = (
    ("body text on the page", INK, PAPER, 7), ("body text on a card", INK, WHITE, 7),
    ("muted text on the page", MUTED, PAPER, 7), ("muted text on a card", MUTED, WHITE, 7),
    ("top bar text", WHITE, BLUE, 7), ("top bar network state", WHITE, BLUE, 7),
    ("button text", BLUE_DARK, WHITE, 7), ("pressed button", BLUE_DARK, BLUE_LIGHT, 7),
    ("navigation button", WHITE, BLUE_DARK, 7), ("pressed navigation", WHITE, BLUE, 7),
    ("primary button", WHITE, GREEN, 7), ("pressed primary", WHITE, GREEN_DARK, 7),
    ("chosen choice", WHITE, BLUE, 7), ("keypad key", INK, WHITE, 7),
    ("keypad action key", INK, KEY_GREY, 7), ("error message", RED, RED_LIGHT, 7),
    ("reference number", BLUE_DARK, PAPER, 7), ("done heading", GREEN_DARK, PAPER, 7),
    ("value on the confirm card", INK, WHITE, 7), ("input text", INK, WHITE, 7),
    ("disabled button", DISABLED_INK, DISABLED_BG, 4.5),
    ("disabled primary button", DISABLED_PRIMARY_INK, DISABLED_PRIMARY_BG, 4.5),
    ("button border on the page", BLUE, PAPER, 3), ("tile border on the page", LINE, PAPER, 1),
)


def relative_luminance(colour: str) -> float:
    """WCAG 2.2 relative luminance of ``#rrggbb``."""
    value = colour.lstrip("#")
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.2 contrast ratio of two ``#rrggbb`` colours, from 1 to 21."""
    low, high = sorted((relative_luminance(first), relative_luminance(second)))
    return (high + 0.05) / (low + 0.05)


def stylesheet(m: Metrics | None = None) -> str:
    """The application's stylesheet for panel density and mode ``m``."""
    m = m or Metrics()
    t, g = m.text, m.target
    return f"""
* {{ font-size: {t(BODY_PX)}px; color: {INK}; }}
QWidget#root, QStackedWidget, QWidget[screen="true"] {{ background: {PAPER}; }}
QWidget#topbar {{ background: {BLUE}; }}
QWidget#topbar QLabel {{ color: {WHITE}; font-size: {t(38)}px; font-weight: bold; }}
QWidget#topbar QLabel[role="network"] {{
    font-size: {t(26)}px; font-weight: normal; color: {WHITE};
}}
QPushButton {{
    min-height: {g(TOUCH_MIN)}px; min-width: {g(TOUCH_MIN)}px; border-radius: 16px;
    background: {WHITE}; border: 3px solid {BLUE}; color: {BLUE_DARK};
    font-size: {t(32)}px; font-weight: bold; padding: 0 24px;
}}
QPushButton:pressed {{ background: {BLUE_LIGHT}; }}
QPushButton:disabled {{
    color: {DISABLED_INK}; border-color: {DISABLED_BG}; background: {DISABLED_BG};
}}
QPushButton[role="nav"] {{
    background: {BLUE_DARK}; border: 3px solid {WHITE}; color: {WHITE}; padding: 0 20px;
}}
QPushButton[role="nav"]:pressed {{ background: {BLUE}; }}
QPushButton[role="primary"] {{ background: {GREEN}; border-color: {GREEN}; color: {WHITE}; }}
QPushButton[role="primary"]:pressed {{ background: {GREEN_DARK}; }}
QPushButton[role="primary"]:disabled {{
    background: {DISABLED_PRIMARY_BG}; border-color: {DISABLED_PRIMARY_BG};
    color: {DISABLED_PRIMARY_INK};
}}
QPushButton[role="tile"] {{
    text-align: left; padding: 16px 24px; border: 2px solid {LINE}; border-radius: 20px;
}}
QPushButton[role="choice"] {{ text-align: left; padding: 0 32px; min-height: {g(KEY_MIN)}px; }}
QPushButton[role="choice"]:checked {{ background: {BLUE}; color: {WHITE}; }}
QPushButton[role="key"] {{
    font-size: {t(40)}px; border-width: 2px; border-color: {LINE}; color: {INK};
    min-height: {g(KEY_MIN)}px; min-width: {g(KEY_MIN)}px; padding: 0;
}}
QPushButton[role="key-action"] {{
    font-size: {t(30)}px; border-width: 2px; border-color: {LINE}; background: {KEY_GREY};
    color: {INK}; min-height: {g(KEY_MIN)}px; min-width: {g(KEY_MIN)}px; padding: 0;
}}
""" + _label_sheet(m)


def _label_sheet(m: Metrics) -> str:
    """The labels', inputs' and frames' part of the stylesheet."""
    t, g = m.text, m.target
    return f"""
QLabel[role="title"] {{ font-size: {t(48)}px; font-weight: bold; }}
QLabel[role="subtitle"] {{ font-size: {t(34)}px; color: {MUTED}; }}
QLabel[role="muted"] {{ font-size: {t(28)}px; color: {MUTED}; }}
QLabel[role="value"] {{ font-size: {t(BODY_PX)}px; font-weight: bold; }}
QLabel[role="card-title"] {{ font-size: {t(34)}px; font-weight: bold; }}
QLabel[role="value-big"] {{ font-size: {t(44)}px; font-weight: bold; }}
QLabel[role="lead"] {{ font-size: {t(36)}px; }}
QLabel[role="done-title"] {{ font-size: {t(60)}px; font-weight: bold; color: {GREEN_DARK}; }}
QLabel[role="error"] {{
    font-size: {t(30)}px; color: {RED}; background: {RED_LIGHT}; border-radius: 12px;
    padding: 8px 20px; font-weight: bold;
}}
QLabel[role="reference"] {{ font-size: {t(96)}px; font-weight: bold; color: {BLUE_DARK}; }}
QLineEdit {{
    font-size: {t(48)}px; min-height: {g(100)}px; padding: 0 20px; border: 3px solid {BLUE};
    border-radius: 14px; background: {WHITE}; letter-spacing: 2px;
}}
QFrame[role="card"] {{ background: {WHITE}; border: 2px solid {LINE}; border-radius: 20px; }}
QFrame[role="overlay"] {{ background: rgba(10, 25, 45, 190); }}
QFrame[role="dialog"] {{ background: {WHITE}; border-radius: 28px; }}
"""


STYLESHEET = stylesheet()
