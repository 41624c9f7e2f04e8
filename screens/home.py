"""Home: a greeting and the menu's categories as big buttons, paged when there are many."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout

from contract.menu import text
from screens import theme
from screens.base import Screen
from screens.spoken import Phrase, fixed
from screens.widgets.basic import PagedGrid, Tile, button, label, svg_icon

TILE_W, TILE_H = 360, 110  # the smallest category button (bigger in elder mode)


class HomeScreen(Screen):
    name = "home"

    def __init__(self, ctl):
        super().__init__(ctl)
        col = QVBoxLayout(self)
        col.setContentsMargins(48, 32, 48, 32)
        col.setSpacing(16)
        self.greeting = label(role="title")
        self.subtitle = label(role="subtitle")
        for lbl in (self.greeting, self.subtitle):
            lbl.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(self.greeting)
        # 长辈版: bigger text, fewer and bigger tiles, slower speech, more time, this visit.
        self.elder = button("", name="btn:elder", icon="elder",
                            on_click=lambda: self.ctl.set_elder(not self.ctl.session.elder))
        self.elder.setCheckable(True)
        self.elder.setProperty("role", "choice")
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addWidget(self.subtitle, 1)
        row.addWidget(self.elder)
        col.addLayout(row)
        self.grid = PagedGrid(self.tr, min_tile_w=TILE_W, min_tile_h=TILE_H)
        col.addWidget(self.grid, 1)
        self.footer = label(role="muted")
        self.footer.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        col.addWidget(self.footer)
        self._menu_key = None

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        # On short screens the greeting gives its room to the category buttons.
        self.greeting.setVisible(event.size().height() > 760)

    def refresh(self) -> None:
        self.greeting.setText(self.tr("home.title"))
        self.subtitle.setText(self.tr("home.subtitle"))
        self.footer.setText(self.tr("home.footer"))
        elder = self.ctl.session.elder
        self.elder.setChecked(elder)
        self.elder.setIcon(svg_icon("elder", 48, theme.WHITE if elder else None))
        self.elder.setText(self.tr("home.elder_off" if elder else "home.elder"))
        menu, loc = self.ctl.session.menu, self.ctl.locale
        key = (menu.version, id(menu), loc, elder)
        if key == self._menu_key:
            self.grid.retranslate()
            return
        self._menu_key = key
        m = theme.Metrics(elder=elder)
        self.grid.set_tile_size(m.tile(TILE_W), m.tile(TILE_H))
        self.grid.set_items([self._factory(c) for c in menu.visible_categories()])

    def spoken_text(self) -> list[Phrase]:
        return [fixed(self.tr, "home.title"), fixed(self.tr, "home.subtitle")]

    def _factory(self, cat):
        menu, loc = self.ctl.session.menu, self.ctl.locale
        count = len(menu.services_in(cat.id))

        def make():
            tile = Tile(f"category:{cat.id}", cat.icon, text(cat.title, loc),
                        self.tr("home.count", n=count), icon_size=72)
            tile.clicked.connect(lambda: self.ctl.choose_category(cat.id))
            return tile

        return make
