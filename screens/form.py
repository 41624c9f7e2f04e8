"""The form: one field a step, filled by touch alone, with plain-words errors beside it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from contract.menu import text
from screens.base import Screen
from screens.spoken import Phrase, choice_key, field_key, fixed
from screens.widgets.basic import button, clear_layout, label
from screens.widgets.datepicker import DatePicker
from screens.widgets.keypad import LetterKeyboard, NumericKeypad

# Longest input each keypad type allows, so a resident cannot type on forever.
MAX_LEN = {"phone": 11, "id_number": 18, "number": 12, "date": 10}


class FieldEdit(QLineEdit):
    """A line edit that only the on-screen keys change: no selection, menus or dragging."""

    def __init__(self, name: str):
        super().__init__()
        self.setObjectName(name)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.setDragEnabled(False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def mousePressEvent(self, event):  # noqa: N802 - Qt API
        event.accept()

    def mouseMoveEvent(self, event):  # noqa: N802
        event.accept()

    def mouseDoubleClickEvent(self, event):  # noqa: N802
        event.accept()


class ChoiceButtons(QWidget):
    """The choices of a ``choice`` field as a column of big buttons, one selected at most."""

    def __init__(self, field, locale: str, selected: str):
        super().__init__()
        self.setObjectName(f"field:{field.id}")
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(14)
        self._ids: dict[int, str] = {}
        # More than four choices go in two columns, so every one is visible without scrolling.
        per_col = 4 if len(field.choices) <= 4 else -(-len(field.choices) // 2)
        for i, ch in enumerate(field.choices):
            btn = button(text(ch.label, locale), name=f"choice:{field.id}:{ch.id}", role="choice")
            btn.setCheckable(True)
            btn.setChecked(ch.id == selected)
            self._group.addButton(btn, i)
            self._ids[i] = ch.id
            grid.addWidget(btn, i % per_col, i // per_col)
        grid.setRowStretch(per_col, 1)

    def value(self) -> str:
        return self._ids.get(self._group.checkedId(), "")


class FormScreen(Screen):
    name = "form"

    def __init__(self, ctl):
        super().__init__(ctl)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(40, 16, 40, 20)
        outer.setSpacing(12)
        header = QHBoxLayout()
        self.field_label = label(role="title")
        self.marker = label(role="muted", wrap=False)
        self.step_label = label(role="muted", wrap=False)
        header.addWidget(self.field_label, 1)
        header.addWidget(self.marker)
        header.addSpacing(24)
        header.addWidget(self.step_label)
        outer.addLayout(header)
        self._body = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self._body.setSpacing(40)
        left = QVBoxLayout()
        left.setSpacing(12)
        self._input_row = QHBoxLayout()
        self._input_row.setSpacing(20)
        self._input_slot = QVBoxLayout()
        self._input_row.addLayout(self._input_slot, 1)
        left.addLayout(self._input_row)
        self.error_label = label(role="error", name="label:error")
        self.error_label.hide()
        left.addWidget(self.error_label)
        left.addStretch(1)
        self._body.addLayout(left, 5)
        self._keys_slot = QVBoxLayout()
        self._body.addLayout(self._keys_slot, 5)
        outer.addLayout(self._body, 1)
        self._bottom = QHBoxLayout()
        self._bottom.addStretch(1)
        self.next_btn = button("", name="btn:next", role="primary", icon="arrow-right",
                               icon_color="#ffffff", on_click=self._next)
        self.next_btn.setMinimumWidth(300)
        self.next_btn.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
        self._bottom.addWidget(self.next_btn)
        outer.addLayout(self._bottom)
        self._edit: FieldEdit | None = None
        self._choices: ChoiceButtons | None = None
        self._wide_keys = False  # the letter keyboard needs the full width

    def resizeEvent(self, event):  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self._arrange()

    def _arrange(self) -> None:
        """Keys beside the answer in landscape; below it in portrait or for the wide keyboard,
        where "next" moves up beside the answer so that everything fits 1280x800."""
        stacked = self._wide_keys or self.height() > self.width()
        self._body.setDirection(QBoxLayout.Direction.TopToBottom if stacked
                                else QBoxLayout.Direction.LeftToRight)
        inline = self._wide_keys
        target = self._input_row if inline else self._bottom
        if self.next_btn.parentWidget() is not None:
            for layout in (self._input_row, self._bottom):
                layout.removeWidget(self.next_btn)
        target.addWidget(self.next_btn)

    def refresh(self) -> None:
        session = self.ctl.session
        visit = session.visit
        if visit is None or visit.service is None or session.step.value != "form":
            return
        fld = session.current_field()
        loc = self.ctl.locale
        total = len(visit.service.fields)
        self.step_label.setText(self.tr("form.step", n=visit.field_index + 1, total=total))
        self.field_label.setText(text(fld.label, loc))
        self.marker.setText(self.tr("form.required" if fld.required else "form.optional"))
        self.next_btn.setText(self.tr("nav.next"))
        self._show_error("")
        self._build_input(fld, visit.drafts.get(fld.id, ""))

    def spoken_text(self) -> list[Phrase]:
        """The question, whether it must be answered, its choices, and a refusal shown."""
        session = self.ctl.session
        if session.visit is None or session.step.value != "form":
            return []
        fld, loc, sid = session.current_field(), self.ctl.locale, session.visit.service.id
        said = [Phrase(text(fld.label, loc), field_key(sid, fld.id)),
                fixed(self.tr, "form.required" if fld.required else "form.optional")]
        said += [Phrase(text(ch.label, loc), choice_key(sid, fld.id, ch.id))
                 for ch in fld.choices or ()]
        if self.error_label.isVisibleTo(self) and self.error_label.text():
            said.append(Phrase(self.error_label.text()))
        return said

    def leave(self) -> None:
        self._clear_input()  # nothing the resident typed stays in a widget
        self._show_error("")

    def show_field_error(self, message: str) -> None:
        self._show_error(message)

    def current_text(self) -> str:
        if self._choices is not None:
            return self._choices.value()
        return self._edit.text() if self._edit is not None else ""

    # -- internals ----------------------------------------------------------------------
    def _next(self) -> None:
        self.ctl.submit_field(self.current_text())

    def _show_error(self, message: str) -> None:
        self.error_label.setText(message)
        self.error_label.setVisible(bool(message))

    def _clear_input(self) -> None:
        for slot in (self._input_slot, self._keys_slot):
            clear_layout(slot)
        self._edit = None
        self._choices = None

    def _build_input(self, fld, draft: str) -> None:
        self._clear_input()
        tr = self.tr
        if fld.type == "choice":
            self._choices = ChoiceButtons(fld, self.ctl.locale, draft)
            self._keys_slot.addWidget(self._choices)
            self._wide_keys = False
            self._arrange()
            return
        self._edit = FieldEdit(f"field:{fld.id}")
        self._edit.setText(draft)
        self._input_slot.addWidget(self._edit)
        if fld.type in ("number", "phone", "id_number"):
            extra = "X" if fld.type == "id_number" else ""
            keys = NumericKeypad(self._edit, tr, MAX_LEN[fld.type], extra=extra)
        elif fld.type == "date":
            keys = DatePicker(self._edit, fld.id, tr)
        else:
            keys = LetterKeyboard(self._edit, tr, fld.max_length)
        self._keys_slot.addWidget(keys)
        self._wide_keys = isinstance(keys, LetterKeyboard)
        self._arrange()
