"""A field the menu marks sensitive (the disability card number: the ID number and two
more digits) is masked on the confirm screen, on paper and in the reprint store."""

from __future__ import annotations

import json

from kiosk_helpers import find, touch, type_keys, wait_screen
from PySide6.QtWidgets import QLabel, QLineEdit

CARD_NO = "33010619550312001612"  # card 0's ID number, category 1, grade 2
PHONE = "13912345678"


def visit_to_confirm(qtbot, window) -> None:
    touch(qtbot, window, "category:civil-affairs")
    touch(qtbot, window, "tile:disability-subsidies")
    touch(qtbot, window, "sim:card:0")
    wait_screen(qtbot, window, "form")
    service = window.ctl.session.visit.service
    touch(qtbot, window, f"choice:subsidy:{service.fields[0].choices[0].id}")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, CARD_NO)
    assert find(window, "field:card-no", QLineEdit).text() == CARD_NO  # typing shows it
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, PHONE)
    touch(qtbot, window, "btn:next")
    wait_screen(qtbot, window, "confirm")


def test_card_number_and_phone_masked_on_confirm_paper_and_reprint_store(qtbot, window):
    from drivers.base import DeviceState, DeviceStatus, Paper

    visit_to_confirm(qtbot, window)
    shown = [lbl.text() for lbl in window.router.current.findChildren(QLabel)]
    summary = " ".join(shown)
    assert "330106**********1612" in shown and "*********78" in shown
    assert CARD_NO not in summary and PHONE not in summary and "19550312" not in summary
    assert "张**" in summary and "张建国" not in summary

    window.printer.fault = DeviceStatus(DeviceState.USERERROR, "sim", Paper.OUT)
    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "done")
    qtbot.waitUntil(lambda: window.ctl.session.visit.printed is False, timeout=5000)
    tx_id = window.ctl.session.visit.transaction_id
    (kept,) = (window.ctl.config.kiosk.data_dir / "reprints").glob("*.json")
    record = kept.read_text("utf-8")
    assert CARD_NO not in record and PHONE not in record and "张建国" not in record
    answers = dict(json.loads(record)["answers"])
    assert "330106**********1612" in answers.values() and "*********78" in answers.values()

    data = window.ctl.reprints.load(tx_id)
    assert ("残疾人证号", "330106**********1612") in data.answers
    window.printer.fault = None
    touch(qtbot, window, "btn:reprint")
    qtbot.waitUntil(lambda: window.ctl.session.visit.printed is True, timeout=5000)
    assert tx_id in window.printer.printed[-1][0]
