"""The demo's controls for its simulated devices, added to a kiosk window from outside:
the sample residents' cards on the identify screen (and keys 1-4), and on the done screen
the picture of the receipt the simulated printer made. Nothing in the product knows of them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from contract.personal import mask_id_number, mask_name
from drivers.sim.printer import SimPrinter
from drivers.sim.reader import SAMPLE_RESIDENTS, SimCardReader
from screens.widgets.basic import button, label

SAMPLE_KEYS = (Qt.Key.Key_1, Qt.Key.Key_2, Qt.Key.Key_3, Qt.Key.Key_4)


def add_simulator_controls(window) -> None:
    """Add the demo's controls for whichever of ``window``'s devices are simulated."""
    reader = window.reader_thread.reader
    if isinstance(reader, SimCardReader):
        SampleCards(window, reader)
    if isinstance(window.printer, SimPrinter):
        ReceiptPicture(window, window.printer)


class SampleCards(QObject):
    """A panel of sample residents' cards on the identify screen; keys 1-4 place them too."""

    def __init__(self, window, reader: SimCardReader):
        super().__init__(window)
        self._reader = reader
        self._ctl = window.ctl
        self.panel = self._build_panel()
        window.router.screen("identify").add_panel(self.panel)
        window.ctl.screenChanged.connect(lambda _name: self._retranslate())
        window.ctl.localeChanged.connect(lambda _locale: self._retranslate())
        window.installEventFilter(self)

    def present(self, index: int) -> None:
        self._reader.present_sample(index)

    def _build_panel(self) -> QWidget:
        panel = QWidget()
        panel.setObjectName("sim-reader")
        panel.setStyleSheet("#sim-reader { background: #fff4e5; border: 2px dashed #f28c28;"
                            " border-radius: 16px; }")
        col = QVBoxLayout(panel)
        self._caption = label(role="muted")
        col.addWidget(self._caption)
        row = QHBoxLayout()
        for i, person in enumerate(SAMPLE_RESIDENTS):
            text = f"{mask_name(person.name)}  {mask_id_number(person.id_number)}"
            btn = button(text, name=f"sim:card:{i}", role="key-action",
                         on_click=lambda i=i: self.present(i))
            btn.setStyleSheet("font-size: 24px;")
            row.addWidget(btn)
        col.addLayout(row)
        self._retranslate()
        return panel

    def _retranslate(self) -> None:
        self._caption.setText(self._ctl.tr("identify.sim"))

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.KeyPress and event.key() in SAMPLE_KEYS:
            self.present(SAMPLE_KEYS.index(event.key()))
            return True
        return False


class ReceiptPicture(QObject):
    """The done screen's picture of the receipt just printed on the simulated printer."""

    def __init__(self, window, printer: SimPrinter):
        super().__init__(window)
        self._printer = printer
        self._ctl = window.ctl
        self._done = window.router.screen("done")
        self.picture = QLabel()
        self.picture.setObjectName("receipt-preview")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setStyleSheet("background: #ffffff; border: 2px solid #c9d6e6;"
                                   " border-radius: 12px; padding: 12px;")
        self.picture.setMinimumSize(1, 1)
        self.picture.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Ignored)
        self.picture.hide()
        self._done.add_side_panel(self.picture)
        window.ctl.receiptPrinted.connect(self._printed)
        window.ctl.screenChanged.connect(self._screen_changed)

    def _printed(self, transaction_id: str, ok: bool) -> None:
        visit = self._ctl.session.visit
        path = next((p for name, p in reversed(self._printer.printed)
                     if name == transaction_id), None)
        if not ok or path is None or visit is None or visit.transaction_id != transaction_id:
            self._clear()
            return
        pix = QPixmap(str(path))
        room = max(300, self._done.height() - 120)
        self.picture.setPixmap(pix.scaledToHeight(min(pix.height(), room),
                                                  Qt.TransformationMode.SmoothTransformation))
        self.picture.show()

    def _screen_changed(self, name: str) -> None:
        if name != "done":
            self._clear()  # the resident has left: no receipt stays on screen

    def _clear(self) -> None:
        self.picture.clear()
        self.picture.hide()
