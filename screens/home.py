"""Home: a greeting and the menu's categories as big buttons, paged when there are many."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout

from contract.menu import text
from screens.base import Screen
from screens.spoken import Phrase, fixed
from screens.widgets.basic import PagedGrid, Tile, label


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
        col.addWidget(self.subtitle)
        self.grid = PagedGrid(self.tr, min_tile_w=360, min_tile_h=110)
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
        menu, loc = self.ctl.session.menu, self.ctl.locale
        key = (menu.version, id(menu), loc)
        if key == self._menu_key:
            self.grid.retranslate()
            return
        self._menu_key = key
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
