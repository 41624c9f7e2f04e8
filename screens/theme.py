"""Look and feel: one stylesheet, sizes chosen for elderly eyes and fingers."""

from __future__ import annotations

BLUE = "#1f5fae"
BLUE_DARK = "#174a88"
BLUE_LIGHT = "#dbe8f7"
INK = "#1d2733"
MUTED = "#4a5868"
PAPER = "#f4f7fb"
WHITE = "#ffffff"
GREEN = "#1e7d34"
ORANGE = "#f28c28"
RED = "#b3261e"
RED_LIGHT = "#fde8e6"

TOUCH_MIN = 96  # px; the spec asks for at least 90
KEY_MIN = 90  # keypad keys and choices: exactly the spec's minimum, so forms fit 1280x800
BODY_PX = 30  # px; the spec asks for at least 28
FONT_FAMILIES = ["Noto Sans CJK SC", "Noto Sans SC", "WenQuanYi Micro Hei", "sans-serif"]

STYLESHEET = f"""
* {{ font-size: {BODY_PX}px; color: {INK}; }}
QWidget#root, QStackedWidget, QWidget[screen="true"] {{ background: {PAPER}; }}
QWidget#topbar {{ background: {BLUE}; }}
QWidget#topbar QLabel {{ color: {WHITE}; font-size: 38px; font-weight: bold; }}
QWidget#topbar QLabel[role="network"] {{
    font-size: 26px; font-weight: normal; color: {BLUE_LIGHT};
}}
QPushButton {{
    min-height: {TOUCH_MIN}px; min-width: {TOUCH_MIN}px; border-radius: 16px;
    background: {WHITE}; border: 3px solid {BLUE}; color: {BLUE_DARK};
    font-size: 32px; font-weight: bold; padding: 0 24px;
}}
QPushButton:pressed {{ background: {BLUE_LIGHT}; }}
QPushButton:disabled {{ color: #9aa5b1; border-color: #c3cbd4; background: #eef1f5; }}
QPushButton[role="nav"] {{
    background: {BLUE_DARK}; border: 3px solid {WHITE}; color: {WHITE}; padding: 0 20px;
}}
QPushButton[role="nav"]:pressed {{ background: {BLUE}; }}
QPushButton[role="primary"] {{ background: {GREEN}; border-color: {GREEN}; color: {WHITE}; }}
QPushButton[role="primary"]:pressed {{ background: #176129; }}
QPushButton[role="primary"]:disabled {{ background: #9cc4a6; border-color: #9cc4a6; }}
QPushButton[role="tile"] {{
    text-align: left; padding: 16px 24px; border: 2px solid #c9d6e6; border-radius: 20px;
}}
QPushButton[role="choice"] {{ text-align: left; padding: 0 32px; min-height: {KEY_MIN}px; }}
QPushButton[role="choice"]:checked {{ background: {BLUE}; color: {WHITE}; }}
QPushButton[role="key"] {{
    font-size: 40px; border-width: 2px; border-color: #b5c4d6; min-height: {KEY_MIN}px;
    min-width: {KEY_MIN}px; padding: 0;
}}
QPushButton[role="key-action"] {{
    font-size: 30px; border-width: 2px; border-color: #b5c4d6; background: #e9eef5;
    min-height: {KEY_MIN}px; min-width: {KEY_MIN}px; padding: 0;
}}
QLabel[role="title"] {{ font-size: 48px; font-weight: bold; }}
QLabel[role="subtitle"] {{ font-size: 34px; color: {MUTED}; }}
QLabel[role="muted"] {{ font-size: 28px; color: {MUTED}; }}
QLabel[role="error"] {{
    font-size: 30px; color: {RED}; background: {RED_LIGHT}; border-radius: 12px; padding: 8px 20px;
    font-weight: bold;
}}
QLabel[role="reference"] {{ font-size: 96px; font-weight: bold; color: {BLUE_DARK}; }}
QLineEdit {{
    font-size: 48px; min-height: 100px; padding: 0 20px; border: 3px solid {BLUE};
    border-radius: 14px; background: {WHITE}; letter-spacing: 2px;
}}
QFrame[role="card"] {{ background: {WHITE}; border: 2px solid #c9d6e6; border-radius: 20px; }}
QFrame[role="overlay"] {{ background: rgba(10, 25, 45, 190); }}
QFrame[role="dialog"] {{ background: {WHITE}; border-radius: 28px; }}
"""
