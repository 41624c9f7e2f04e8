"""Building blocks of the diagnostics screen: a status tile with a green/amber/red badge, and
a touch-scrollable panel for lists (rejected transactions, log lines, folders to pick)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QScroller,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from screens import theme
from screens.widgets.basic import button, clear_layout, label

AMBER = "#b45f00"  # darker than theme.ORANGE: white text on it stays readable
LEVEL_COLORS = {"ok": theme.GREEN, "warn": AMBER, "fault": theme.RED, "": "#7b8794"}
DETAIL_PX = 26


class StatusTile(QFrame):
    """One section of the overview: a coloured stripe and a badge with its level in words,
    a heading, and lines of detail, most important first; lines that do not fit the tile's
    height are left out rather than cut in half."""

    def __init__(self, section: str):
        super().__init__()
        self.setObjectName(f"diag:{section}")
        self.setProperty("role", "card")
        self.setMinimumSize(1, 1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        self.stripe = QFrame()
        self.stripe.setFixedWidth(14)
        row.addWidget(self.stripe)
        col = QVBoxLayout()
        col.setContentsMargins(16, 10, 14, 10)
        col.setSpacing(4)
        head = QHBoxLayout()
        head.setSpacing(12)
        self.badge = label(wrap=False, name=f"diag:{section}:level")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head.addWidget(self.badge)
        self.heading = label(wrap=False)
        self.heading.setStyleSheet("font-size: 30px; font-weight: bold; border: none;")
        self.heading.setMinimumWidth(1)  # a long heading is cut, it never widens the tile
        self.heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        head.addWidget(self.heading, 1)
        col.addLayout(head)
        self._lines: list[QLabel] = []
        self._texts: list[str] = []
        self._box = QVBoxLayout()
        self._box.setSpacing(2)
        col.addLayout(self._box)
        col.addStretch(1)
        row.addLayout(col, 1)
        self.level = ""
        self.show_level("", "")

    def show_level(self, level: str, word: str) -> None:
        self.level = level
        color = LEVEL_COLORS.get(level, LEVEL_COLORS[""])
        self.badge.setText(word)
        self.badge.setVisible(bool(word))
        self.badge.setProperty("level", level)
        self.badge.setStyleSheet(f"background: {color}; color: #ffffff; font-size: 24px;"
                                 " font-weight: bold; border-radius: 10px; padding: 2px 12px;"
                                 " border: none;")
        self.stripe.setStyleSheet(f"background: {color}; border: none;"
                                  " border-top-left-radius: 16px;"
                                  " border-bottom-left-radius: 16px;")

    def set_text(self, heading: str, lines: Sequence[str]) -> None:
        self.heading.setText(heading)
        texts = [line for line in lines if line]
        while len(self._lines) < len(texts):
            line = label(name="diag:line")
            line.setStyleSheet(f"font-size: {DETAIL_PX}px; border: none;")
            line.setTextFormat(Qt.TextFormat.PlainText)
            line.setMinimumSize(1, 1)
            self._box.addWidget(line)
            self._lines.append(line)
        self._texts = texts
        for i, line in enumerate(self._lines):
            line.setText(texts[i] if i < len(texts) else "")
        self._fit(self.size())

    def detail(self) -> str:
        """All of the detail, shown or not (tests, and what a larger screen shows)."""
        return "\n".join(self._texts)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._fit(event.size())

    def _fit(self, size) -> None:
        width = max(40, size.width() - 14 - 30)
        room = size.height() - 20 - max(self.badge.sizeHint().height(),
                                        self.heading.sizeHint().height()) - 4
        for line in self._lines:
            need = line.heightForWidth(width) + 2 if line.text() else 0
            fits = bool(line.text()) and need <= room
            line.setVisible(fits)
            room -= need if fits else room  # once one line is left out, so are the rest

    def clear(self) -> None:
        self.heading.clear()
        self._texts = []
        for line in self._lines:
            line.clear()
            line.hide()
        self.show_level("", "")


def _css_id(name: str) -> str:
    return name.replace(":", "\\:")


class ListPanel(QWidget):
    """A titled list that scrolls by finger (kinetic) or by big page buttons, with a close
    button. Lines are labels named ``label:diag-line``; choices are buttons."""

    def __init__(self, tr: Callable[[str], str], on_close: Callable[[], None]):
        super().__init__()
        self.setObjectName("diag:panel")
        self._tr = tr
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(12)
        head = QHBoxLayout()
        self.title = label(name="label:diag-panel-title")
        self.title.setStyleSheet("font-size: 30px; font-weight: bold;")
        head.addWidget(self.title, 1)
        self.close_btn = button("", name="btn:diag-close", icon="back", on_click=on_close)
        head.addWidget(self.close_btn)
        col.addLayout(head)
        self.scroll = QScrollArea()
        self.scroll.setObjectName("diag:scroll")
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setStyleSheet("QScrollArea { background: #ffffff; border: 2px solid #c9d6e6;"
                                  " border-radius: 16px; }")
        self.scroll.setMinimumSize(1, 1)
        QScroller.grabGesture(self.scroll.viewport(),
                              QScroller.ScrollerGestureType.LeftMouseButtonGesture)
        self._content = QWidget()
        self._content.setStyleSheet("background: #ffffff;")
        self._lines = QVBoxLayout(self._content)
        self._lines.setContentsMargins(16, 12, 16, 12)
        self._lines.setSpacing(10)
        self._lines.addStretch(1)
        self.scroll.setWidget(self._content)
        col.addWidget(self.scroll, 1)
        pager = QHBoxLayout()
        self.up_btn = button("", name="btn:diag-page-up", icon="chevron-left",
                             on_click=lambda: self.page(-1))
        self.down_btn = button("", name="btn:diag-page-down", icon="chevron-right",
                               on_click=lambda: self.page(1))
        pager.addWidget(self.up_btn, 1)
        pager.addWidget(self.down_btn, 1)
        col.addLayout(pager)

    def retranslate(self) -> None:
        self.close_btn.setText(self._tr("diag.close_panel"))
        self.up_btn.setText(self._tr("diag.page_up"))
        self.down_btn.setText(self._tr("diag.page_down"))

    def show_lines(self, title: str, lines: Sequence[str]) -> None:
        self._reset(title)
        for text in lines:
            line = label(text, name="label:diag-line")
            line.setStyleSheet(f"font-size: {DETAIL_PX}px; border-bottom: 1px solid #e3e9f0;"
                               " padding-bottom: 6px;")
            line.setTextFormat(Qt.TextFormat.PlainText)
            self._lines.insertWidget(self._lines.count() - 1, line)

    def show_choices(self, title: str, paths: Sequence[Path],
                     on_pick: Callable[[Path], None]) -> None:
        self._reset(title)
        for i, path in enumerate(paths):
            btn = button(str(path), name=f"btn:diag-folder:{i}",
                         on_click=lambda p=path: on_pick(p))
            btn.setStyleSheet("text-align: left; font-size: 28px;")
            self._lines.insertWidget(self._lines.count() - 1, btn)

    def lines(self) -> list[str]:
        return [w.text() for w in self._content.findChildren(QLabel, "label:diag-line")
                if not w.isHidden()]  # cleared ones wait hidden for deletion

    def page(self, direction: int) -> None:
        bar = self.scroll.verticalScrollBar()
        bar.setValue(bar.value() + direction * max(1, self.scroll.viewport().height() - 60))

    def clear(self) -> None:
        self.title.clear()
        # Take the stretch out, wipe the rest, put the stretch back.
        stretch = self._lines.takeAt(self._lines.count() - 1)
        clear_layout(self._lines)
        self._lines.addItem(stretch)

    def _reset(self, title: str) -> None:
        self.clear()
        self.title.setText(title)
        self.scroll.verticalScrollBar().setValue(0)
