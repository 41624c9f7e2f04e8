"""A touch date picker: big +/- steppers for year, month and day, plus "today"."""

from __future__ import annotations

import calendar
import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLabel, QLineEdit, QSizePolicy, QWidget

from screens.widgets.basic import button, label


class DatePicker(QWidget):
    """Edits ``target`` (a QLineEdit holding YYYY-MM-DD) without any typing."""

    def __init__(self, target: QLineEdit, field_id: str, tr, today: dt.date | None = None):
        super().__init__()
        self.setObjectName("datepicker")
        self._target = target
        self._today = today or dt.date.today()
        try:
            self._date = dt.date.fromisoformat(target.text())
        except ValueError:
            self._date = self._today
        self._values: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setSpacing(14)
        grid.setContentsMargins(0, 0, 0, 0)
        parts = (("year", tr("form.year")), ("month", tr("form.month")), ("day", tr("form.day")))
        for col, (part, caption) in enumerate(parts):
            up = button("+", name=f"date:{field_id}:{part}+", role="key",
                        on_click=lambda p=part: self.step(p, 1))
            down = button("−", name=f"date:{field_id}:{part}-", role="key",
                          on_click=lambda p=part: self.step(p, -1))
            for b in (up, down):
                b.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
            cap = label(caption, role="subtitle", wrap=False)
            cap.setAlignment(Qt.AlignmentFlag.AlignCenter)
            value = label("", role="value-big", wrap=False, name=f"date:{field_id}:{part}")
            value.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self._values[part] = value
            grid.addWidget(cap, 0, col)
            grid.addWidget(up, 1, col)
            grid.addWidget(value, 2, col)
            grid.addWidget(down, 3, col)
        today_btn = button(tr("form.today"), name=f"date:{field_id}:today", role="key-action",
                           on_click=self.set_today)
        grid.addWidget(today_btn, 4, 0, 1, 3)
        self._show()

    @property
    def date(self) -> dt.date:
        return self._date

    def set_today(self) -> None:
        self._date = self._today
        self._show()

    def step(self, part: str, delta: int) -> None:
        y, m, d = self._date.year, self._date.month, self._date.day
        if part == "year":
            y = min(2100, max(1900, y + delta))
        elif part == "month":
            m = (m - 1 + delta) % 12 + 1
        else:
            d = (d - 1 + delta) % calendar.monthrange(y, m)[1] + 1
        d = min(d, calendar.monthrange(y, m)[1])
        self._date = dt.date(y, m, d)
        self._show()

    def _show(self) -> None:
        self._target.setText(self._date.isoformat())
        for part in ("year", "month", "day"):
            self._values[part].setText(str(getattr(self._date, part)))
