"""Small building blocks shared by the screens."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence

from PySide6.QtCore import QByteArray, QSize, Qt, Signal
from PySide6.QtGui import QIcon, QImage, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from contract import resources


@functools.cache
def _svg_bytes(name: str) -> bytes:
    path = resources.icon_path(name)
    if not path.is_file():
        path = resources.icon_path("document")
    try:
        return path.read_bytes()
    except OSError:
        return b""


def svg_pixmap(name: str, size: int, color: str | None = None) -> QPixmap:
    """An icon from the built-in set as a pixmap, optionally recoloured."""
    return _svg_pixmap(name, size, color)


@functools.lru_cache(maxsize=256)
def _svg_pixmap(name: str, size: int, color: str | None) -> QPixmap:
    data = _svg_bytes(name)
    if color:
        for original in (b"#1f5fae", b"#1d2733"):
            data = data.replace(original, color.encode())
    renderer = QSvgRenderer(QByteArray(data))
    box = renderer.defaultSize()
    if box.isEmpty():
        box = QSize(size, size)
    scale = size / max(box.width(), box.height())
    image = QImage(round(box.width() * scale), round(box.height() * scale),
                   QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return QPixmap.fromImage(image)


def svg_icon(name: str, size: int, color: str | None = None) -> QIcon:
    return QIcon(svg_pixmap(name, size, color))


def label(text: str = "", role: str = "", wrap: bool = True, name: str = "") -> QLabel:
    lbl = QLabel(text)
    if role:
        lbl.setProperty("role", role)
    lbl.setWordWrap(wrap)
    lbl.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    if name:
        lbl.setObjectName(name)
    return lbl


def button(text: str, name: str = "", role: str = "", icon: str = "",
           on_click: Callable[[], None] | None = None,
           icon_color: str | None = None) -> QPushButton:
    btn = QPushButton(text)
    btn.setFocusPolicy(Qt.FocusPolicy.NoFocus)
    if name:
        btn.setObjectName(name)
    if role:
        btn.setProperty("role", role)
    if icon:
        btn.setIcon(svg_icon(icon, 48, icon_color))
        btn.setIconSize(QSize(44, 44))
    if on_click is not None:
        # clicked(bool) would fill a callback's first default argument: drop it.
        btn.clicked.connect(lambda _checked=False: on_click())
    return btn


class Tile(QPushButton):
    """A big touch target with an icon, a title and an optional second line."""

    def __init__(self, name: str, icon: str, title: str, subtitle: str = "",
                 icon_size: int = 88, badge: str = ""):
        super().__init__()
        self.setObjectName(name)
        self.setProperty("role", "tile")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMaximumHeight(300)
        # An explicit minimum: long texts may wrap or clip, but never grow the window.
        self.setMinimumSize(240, 110)
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 10, 20, 10)
        row.setSpacing(20)
        self._icon_size = icon_size
        pic = QLabel()
        pic.setPixmap(svg_pixmap(icon, icon_size))
        pic.setFixedSize(icon_size, icon_size)
        row.addWidget(pic)
        texts = QVBoxLayout()
        texts.setSpacing(4)
        self.title_label = label(title)
        # Title sizes follow the body text the theme chose for this panel and mode; long
        # English titles step down, never below the body text.
        body = QApplication.font().pixelSize()
        self._title_steps = (math.ceil(body * 34 / 30), body) if body > 0 else self.TITLE_PX
        self._title_px = 0
        self._set_title_px(self._title_steps[0])
        texts.addStretch(1)
        texts.addWidget(self.title_label)
        # Second lines are helpful but optional: they give way when the tile is short.
        self._extras = [label(t, role="muted") for t in (subtitle, badge) if t]
        for extra in self._extras:
            texts.addWidget(extra)
        texts.addStretch(1)
        row.addLayout(texts, 1)
        for child in self.findChildren(QLabel):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAccessibleName(title)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(360, 150)

    def _set_title_px(self, px: int) -> None:
        if px != self._title_px:
            self._title_px = px
            self.title_label.setStyleSheet(f"font-size: {px}px; font-weight: bold;")

    TITLE_PX = (34, 30, 28)

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        # The labels' own widths are not laid out yet during a resize: work it out.
        width = max(40, event.size().width() - 40 - self._icon_size - 20)
        height = event.size().height() - 24
        # The largest title size that fits.
        for px in self._title_steps:
            self._set_title_px(px)
            if self.title_label.heightForWidth(width) <= height:
                break
        room = height - self.title_label.heightForWidth(width)
        for extra in self._extras:
            need = extra.heightForWidth(width) + 4
            extra.setVisible(room >= need)
            room -= need


class PagedGrid(QWidget):
    """Tiles in pages of rows x columns with big previous/next buttons, never a long scroll.

    Rows and columns follow the widget's shape, so the same screen works in landscape
    and portrait.
    """

    pageChanged = Signal(int)

    def __init__(self, texts: Callable[[str], str], min_tile_w: int = 420, min_tile_h: int = 150):
        super().__init__()
        self._tr = texts
        self._min_w, self._min_h = min_tile_w, min_tile_h
        self._factories: Sequence[Callable[[], QWidget]] = ()
        self._page = 0
        self._shape = (2, 2)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(20)
        self._grid_host = QWidget()
        # Its rows follow its size; the rows must not in turn fix its size (or a hidden page's).
        self._grid_host.setMinimumSize(1, 1)
        self._grid = QGridLayout(self._grid_host)
        self._grid.setSpacing(24)
        self._grid.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._grid_host, 1)
        pager = QHBoxLayout()
        self.prev_btn = button("", name="page:prev", icon="chevron-left", on_click=self.prev)
        self.next_btn = button("", name="page:next", icon="chevron-right", on_click=self.next)
        self.next_btn.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self.page_label = label("", role="subtitle", wrap=False)
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for b in (self.prev_btn, self.next_btn):
            b.setMinimumWidth(260)
        pager.addWidget(self.prev_btn)
        pager.addWidget(self.page_label, 1)
        pager.addWidget(self.next_btn)
        self._pager = QWidget()
        self._pager.setLayout(pager)
        outer.addWidget(self._pager)

    def set_tile_size(self, min_tile_w: int, min_tile_h: int) -> None:
        """The smallest tile; bigger tiles mean fewer a page (elder mode)."""
        self._min_w, self._min_h = min_tile_w, min_tile_h

    def set_items(self, factories: Sequence[Callable[[], QWidget]]) -> None:
        self._factories = factories
        self._page = 0
        self._shape = self._shape_for(self.size())
        self._rebuild()

    @property
    def page(self) -> int:
        return self._page

    @property
    def pages(self) -> int:
        rows, cols = self._shape
        return max(1, math.ceil(len(self._factories) / (rows * cols)))

    def next(self) -> None:
        if self._page + 1 < self.pages:
            self._page += 1
            self._rebuild()

    def prev(self) -> None:
        if self._page > 0:
            self._page -= 1
            self._rebuild()

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        shape = self._shape_for(event.size())
        if shape != self._shape:
            first = self._page * self._shape[0] * self._shape[1]
            self._shape = shape
            self._page = first // (shape[0] * shape[1])
            self._rebuild()

    def _shape_for(self, size: QSize) -> tuple[int, int]:
        pager_h = 110  # the pager row: a 96 px button and spacing
        cols = max(1, min(4, size.width() // self._min_w))
        rows = max(1, min(5, (size.height() - pager_h + 24) // (self._min_h + 24)))
        # When everything fits on one page, use only the rows needed: bigger tiles.
        rows = max(1, min(rows, math.ceil(len(self._factories) / cols)))
        return rows, cols

    def retranslate(self) -> None:
        self.prev_btn.setText(self._tr("page.prev"))
        self.next_btn.setText(self._tr("page.next"))
        self.page_label.setText(self._tr("page.of", page=self._page + 1, pages=self.pages))

    def _rebuild(self) -> None:
        clear_layout(self._grid)
        rows, cols = self._shape
        per_page = rows * cols
        start = self._page * per_page
        chunk = self._factories[start:start + per_page]
        for i in range(per_page):
            # Blank cells keep every tile the same size on a page that is not full.
            widget = chunk[i]() if i < len(chunk) else QWidget()
            self._grid.addWidget(widget, i // cols, i % cols)
        for r in range(rows):
            self._grid.setRowStretch(r, 1)
        for c in range(cols):
            self._grid.setColumnStretch(c, 1)
        for r in range(rows, self._grid.rowCount()):
            self._grid.setRowStretch(r, 0)
        for c in range(cols, self._grid.columnCount()):
            self._grid.setColumnStretch(c, 0)
        self._pager.setVisible(self.pages > 1)
        self.prev_btn.setEnabled(self._page > 0)
        self.next_btn.setEnabled(self._page + 1 < self.pages)
        self.retranslate()
        self.pageChanged.emit(self._page)


def clear_layout(layout) -> None:
    """Remove every widget from ``layout`` at once, wiping any text first: a widget waiting
    for deletion must not keep a resident's data on it."""
    while layout.count():
        widget = layout.itemAt(0).widget()
        if widget is None:
            layout.takeAt(0)  # a spacer or nested layout: its Python wrapper owns and frees it
            continue
        # removeWidget, not takeAt: Qt deletes the widget's layout item; with takeAt PySide6
        # leaves that QWidgetItem to nobody (about 100 bytes a widget, every visit; issue #17).
        layout.removeWidget(widget)
        for text_widget in [widget, *widget.findChildren(QWidget)]:
            if isinstance(text_widget, QLabel | QLineEdit):
                text_widget.clear()
        widget.hide()  # gone at once for finders; Qt deletes it on the next loop turn
        widget.deleteLater()


def card_frame() -> QFrame:
    frame = QFrame()
    frame.setProperty("role", "card")
    return frame
