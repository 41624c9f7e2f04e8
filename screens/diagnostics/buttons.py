"""The diagnostics screen's action buttons: big touch targets in a grid, two a row in
landscape, three in portrait, "leave" filling the last row.

"Clear queue notices" is shown only while there is something to clear (a corrupt queue's
unreadable transactions, or the kiosk's "moved to" notice): a technician sees it appear
exactly when it is needed, and the usual grid keeps its five rows.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QGridLayout, QPushButton, QSizePolicy

from screens.widgets.basic import button
from uplink.status_board import QUEUE_MOVED_NOTICE

# (objectName, translation key); what each does is in DiagnosticsScreen._run
ACTIONS = (
    ("btn:diag-test-print", "diag.test_print"),
    ("btn:diag-test-read", "diag.test_read"),
    ("btn:diag-test-speaker", "diag.test_speaker"),
    ("btn:diag-sync", "diag.sync"),
    ("btn:diag-reprint", "diag.reprint"),
    ("btn:diag-rejected", "diag.rejected"),
    ("btn:diag-logs", "diag.logs"),
    ("btn:diag-clear-notices", "diag.clear_notices"),
    ("btn:diag-export", "diag.export"),
    ("btn:diag-restart", "diag.restart"),
    ("btn:diag-leave", "diag.leave"),
)
CLEAR_NOTICES = "btn:diag-clear-notices"
_STYLE = "font-size: 28px; padding: 0 12px;"


def notices_to_clear(status: dict) -> bool:
    """Whether the overview reports something "Clear queue notices" would clear."""
    kiosk_notices = status.get("kiosk", {}).get("notices") or []
    return bool(status.get("queue", {}).get("unreadable")) or any(
        n.startswith(QUEUE_MOVED_NOTICE) for n in kiosk_notices)


class ActionButtons:
    """The buttons by objectName and the grid they sit in."""

    def __init__(self, on_click: Callable[[str], None]):
        self.grid = QGridLayout()
        self.grid.setSpacing(10)
        self.buttons: dict[str, QPushButton] = {}
        for name, _key in ACTIONS:
            role = "primary" if name == "btn:diag-leave" else ""
            btn = button("", name=name, role=role, on_click=lambda n=name: on_click(n))
            btn.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            btn.setMinimumWidth(230)
            btn.setMaximumHeight(140)
            btn.setStyleSheet(_STYLE)
            self.buttons[name] = btn
        self.buttons["btn:diag-restart"].setStyleSheet(
            _STYLE + " border-color: #b3261e; color: #b3261e;")
        self.clearing_shown = False
        self._cols = 0

    def retranslate(self, tr: Callable[[str], str]) -> None:
        for name, key in ACTIONS:
            self.buttons[name].setText(tr(key))

    def shown(self) -> list[str]:
        return [name for name, _key in ACTIONS
                if name != CLEAR_NOTICES or self.clearing_shown]

    def rows(self, cols: int) -> int:
        return -(-len(self.shown()) // cols)

    def show_clearing(self, shown: bool) -> bool:
        """Show or hide "Clear queue notices"; True when that changed (arrange again)."""
        if shown == self.clearing_shown:
            return False
        self.clearing_shown = shown
        if self._cols:
            self.arrange(self._cols)
        return True

    def arrange(self, cols: int) -> None:
        self._cols = cols
        for btn in self.buttons.values():
            self.grid.removeWidget(btn)
        names = self.shown()
        for i, name in enumerate(names):
            last = i == len(names) - 1
            span = cols - i % cols if last else 1  # "leave" takes the rest of its row
            self.grid.addWidget(self.buttons[name], i // cols, i % cols, 1, span)
        self.buttons[CLEAR_NOTICES].setVisible(self.clearing_shown)  # once in the grid
