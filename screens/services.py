"""The services of one category as big tiles, paged rather than scrolled."""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout

from contract.menu import text
from screens import theme
from screens.base import Screen
from screens.spoken import Phrase, category_key, fixed
from screens.widgets.basic import PagedGrid, Tile, label


class ServicesScreen(Screen):
    name = "services"

    def __init__(self, ctl):
        super().__init__(ctl)
        col = QVBoxLayout(self)
        col.setContentsMargins(48, 28, 48, 32)
        col.setSpacing(16)
        self.hint = label(role="subtitle")
        col.addWidget(self.hint)
        self.grid = PagedGrid(self.tr, min_tile_w=540, min_tile_h=150)
        col.addWidget(self.grid, 1)
        self._key = None

    def title(self) -> str:
        visit = self.ctl.session.visit
        if visit is None:
            return ""
        cat = next((c for c in visit.menu.categories if c.id == visit.category_id), None)
        return text(cat.title, self.ctl.locale) if cat else ""

    def refresh(self) -> None:
        visit = self.ctl.session.visit
        if visit is None:
            return
        self.hint.setText(self.tr("services.hint"))
        elder = self.ctl.session.elder
        key = (id(visit.menu), visit.category_id, self.ctl.locale, elder)
        if key == self._key:
            self.grid.retranslate()
            return
        self._key = key
        m = theme.Metrics(elder=elder)
        self.grid.set_tile_size(m.tile(540), m.tile(150))
        self.grid.set_items([self._factory(s) for s in visit.menu.services_in(visit.category_id)])

    def spoken_text(self) -> list[Phrase]:
        visit = self.ctl.session.visit
        if visit is None:
            return []
        return [Phrase(self.title(), category_key(visit.category_id)),
                fixed(self.tr, "services.hint")]

    def leave(self) -> None:
        self._key = None  # the next visit may run under a newer menu

    def _factory(self, svc):
        loc = self.ctl.locale

        def make():
            badge = "🪪 " + self.tr("services.needs_card") if svc.requires_identity else ""
            tile = Tile(f"tile:{svc.id}", svc.icon, text(svc.title, loc),
                        text(svc.description, loc) if svc.description else "", icon_size=80,
                        badge=badge.replace("🪪 ", ""))
            tile.clicked.connect(lambda: self.ctl.choose_service(svc.id))
            return tile

        return make
