"""On-screen keypads: digits for numbers, phones and ID numbers; letters for short texts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QSizePolicy, QWidget

from screens.widgets.basic import button


class _Keys(QWidget):
    def __init__(self, target: QLineEdit, tr: Callable[..., str], max_length: int | None):
        super().__init__()
        self.setObjectName("keypad")
        self._target = target
        self._max = max_length
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(10)
        self._tr = tr

    def _key(self, char: str, row: int, col: int, span: int = 1) -> QPushButton:
        label = char if char != " " else self._tr("key.space")
        name = f"key:{char}" if char != " " else "key:space"
        btn = button(label, name=name, role="key", on_click=lambda c=char: self.type(c))
        btn.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._grid.addWidget(btn, row, col, 1, span)
        return btn

    def _action(self, name: str, text: str, row: int, col: int, span: int, fn,
                rows: int = 1) -> QPushButton:
        btn = button(text, name=name, role="key-action", on_click=fn)
        btn.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._grid.addWidget(btn, row, col, rows, span)
        return btn

    def type(self, char: str) -> None:
        text = self._target.text()
        if self._max is not None and len(text) >= self._max:
            return
        self._target.setText(text + char)

    def backspace(self) -> None:
        self._target.setText(self._target.text()[:-1])

    def clear(self) -> None:
        self._target.clear()


class NumericKeypad(_Keys):
    """Digits laid out like a phone, which elderly residents know best; backspace and clear
    on the right. ``extra`` puts one more key (such as "X") left of the 0.
    """

    def __init__(self, target: QLineEdit, tr, max_length: int | None = None, extra: str = ""):
        super().__init__(target, tr, max_length)
        for i, d in enumerate("123456789"):
            self._key(d, i // 3, i % 3)
        if extra:
            self._key(extra, 3, 0)
        self._key("0", 3, 1)
        self._action("key:backspace", "⌫\n" + tr("key.backspace"), 0, 3, 1, self.backspace,
                     rows=2)
        self._action("key:clear", tr("key.clear"), 2, 3, 1, self.clear, rows=2)
        for col in range(4):
            self._grid.setColumnStretch(col, 1)


class LetterKeyboard(_Keys):
    """Digits and letters in alphabetical order (easier to find than QWERTY for residents who
    rarely type), lower case like a phone keyboard, with a caps key that stays on until
    touched again. Letter keys are named after what they type now: ``key:a`` or ``key:A``.
    """

    ROWS = ("1234567890", "abcdefghij", "klmnopqrst", "uvwxyz")

    def __init__(self, target: QLineEdit, tr, max_length: int | None = None):
        super().__init__(target, tr, max_length)
        self._grid.setSpacing(6)  # ten keys of 90 px must fit a 1080 px portrait screen
        self._upper = False
        self._letters: list[QPushButton] = []
        for r, chars in enumerate(self.ROWS):
            for c, ch in enumerate(chars):
                btn = self._key(ch, r, c)
                if ch.isalpha():
                    btn.clicked.disconnect()
                    btn.clicked.connect(lambda _checked=False, b=btn: self.type(b.text()))
                    self._letters.append(btn)
        last = len(self.ROWS) - 1
        self._key(" ", last, 6, 1)
        self.caps = self._action("key:shift", "⇧ ABC", last, 7, 1, self.toggle_case)
        self._action("key:backspace", "⌫", last, 8, 1, self.backspace)
        self._action("key:clear", tr("key.clear"), last, 9, 1, self.clear)

    def toggle_case(self) -> None:
        self._upper = not self._upper
        for btn in self._letters:
            ch = btn.text().upper() if self._upper else btn.text().lower()
            btn.setText(ch)
            btn.setObjectName(f"key:{ch}")
        self.caps.setText("⇩ abc" if self._upper else "⇧ ABC")
