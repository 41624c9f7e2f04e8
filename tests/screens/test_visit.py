"""A resident's whole visit in the real window, driven by touches on named widgets."""

from __future__ import annotations

import pytest
from kiosk_helpers import (
    current_screen,
    find,
    quick_visit,
    touch,
    type_keys,
    wait_find,
    wait_screen,
)
from PySide6.QtWidgets import QLabel, QLineEdit

from offline_queue import OfflineQueue, QueueWriteError


def stored(window):
    with OfflineQueue(window.config.queue_path) as q:
        batch = q.due_batch(limit=100)
    return batch


def place_card(qtbot, window, index: int = 0):
    touch(qtbot, window, f"sim:card:{index}")


def test_full_visit_with_card_and_form(qtbot, window):
    assert current_screen(window) == "screen:home"
    touch(qtbot, window, "category:housing-fund")
    wait_screen(qtbot, window, "services")
    touch(qtbot, window, "tile:hpf-withdraw")
    wait_screen(qtbot, window, "identify")
    place_card(qtbot, window, 0)  # 张建国 330106195503120016
    wait_screen(qtbot, window, "form")

    touch(qtbot, window, "choice:reason:" + _first_choice(window, "reason"))
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "12000")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "13912345678")
    assert find(window, "field:phone", QLineEdit).text() == "13912345678"
    touch(qtbot, window, "btn:next")
    wait_screen(qtbot, window, "confirm")

    summary = " ".join(lbl.text() for lbl in window.router.current.findChildren(QLabel))
    assert "张**" in summary and "330106********0016" in summary
    assert "*********78" in summary  # menu.md: a phone field keeps only its last 2
    assert "13912345678" not in summary
    assert "330106195503120016" not in summary and "张建国" not in summary

    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "done")
    (tx,) = stored(window)
    assert tx.service_id == "hpf-withdraw"
    assert tx.fields == {"reason": _first_choice(window, "reason"), "amount": 12000,
                         "phone": "13912345678"}
    assert tx.identity == {"method": "sim", "id_number": "330106195503120016", "name": "张建国"}
    assert tx.menu_version == window.ctl.session.menu.version
    reference = find(window, "label:reference", QLabel).text()
    hexid = tx.id.replace("-", "").upper()
    assert reference == f"{hexid[:4]}-{hexid[4:8]}"
    qtbot.waitUntil(lambda: window.ctl.session.visit.printed is True, timeout=5000)
    assert window.printer.printed and tx.id in window.printer.printed[-1][0]


def _first_choice(window, field_id: str) -> str:
    service = window.ctl.session.menu.service("hpf-withdraw")
    return next(f for f in service.fields if f.id == field_id).choices[0].id


def test_service_without_identity_skips_the_card(qtbot, window):
    touch(qtbot, window, "category:civil-affairs")
    touch(qtbot, window, "tile:certificate-appointment")
    wait_screen(qtbot, window, "form")
    service = window.ctl.session.visit.service
    choice = service.fields[0].choices[0].id
    touch(qtbot, window, f"choice:cert-type:{choice}")
    touch(qtbot, window, "btn:next")
    touch(qtbot, window, "date:date:day+")  # the date picker starts at today
    date_text = find(window, "field:date", QLineEdit).text()
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "13800138000")
    touch(qtbot, window, "btn:next")
    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "done")
    (tx,) = stored(window)
    assert tx.identity is None
    assert tx.fields == {"cert-type": choice, "date": date_text, "phone": "13800138000"}


def test_validation_errors_in_plain_words(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-withdraw")
    place_card(qtbot, window, 1)
    wait_screen(qtbot, window, "form")
    touch(qtbot, window, "btn:next")  # nothing chosen
    assert find(window, "label:error", QLabel).text() == "这一项必须填写。"
    touch(qtbot, window, "choice:reason:" + _first_choice(window, "reason"))
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "9999999")  # over the menu's max of 500000
    touch(qtbot, window, "btn:next")
    assert "不能超过" in find(window, "label:error", QLabel).text()
    touch(qtbot, window, "key:clear")
    type_keys(qtbot, window, "500")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, "1234")
    touch(qtbot, window, "btn:next")
    assert "11 位" in find(window, "label:error", QLabel).text()
    assert current_screen(window) == "screen:form"
    assert stored(window) == []


def test_expired_card_is_refused_with_a_reason(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-balance")
    place_card(qtbot, window, 3)  # the expired sample card
    qtbot.waitUntil(lambda: find(window, "label:message", QLabel).text() != "")
    assert "过期" in find(window, "label:message", QLabel).text()
    assert current_screen(window) == "screen:identify"
    assert window.ctl.session.visit.identity is None


def test_unreadable_card_asks_to_place_it_again(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-balance")
    window.reader_thread.reader.present_unreadable()
    qtbot.waitUntil(lambda: "平放" in find(window, "label:message", QLabel).text())


def test_back_and_home_buttons(qtbot, window):
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-withdraw")
    touch(qtbot, window, "btn:back")
    wait_screen(qtbot, window, "services")
    touch(qtbot, window, "tile:hpf-withdraw")
    touch(qtbot, window, "btn:home")
    wait_screen(qtbot, window, "home")
    assert window.ctl.session.visit is None


def test_language_switch_on_every_screen(qtbot, window):
    touch(qtbot, window, "btn:lang")
    tile = wait_find(qtbot, window, "category:housing-fund")
    menu = window.ctl.session.menu
    housing = next(c for c in menu.categories if c.id == "housing-fund")
    title = menu.service("hpf-withdraw").title
    assert tile.accessibleName() == housing.title["en"]
    assert find(window, "btn:lang").text() == "中文"
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-withdraw")
    assert find(window, "label:title", QLabel).text() == title["en"]
    assert find(window, "btn:back").text() == "Back"
    touch(qtbot, window, "btn:lang")
    assert find(window, "label:title", QLabel).text() == title["zh_CN"]
    assert find(window, "btn:back").text() == "返回"
    touch(qtbot, window, "btn:lang")
    touch(qtbot, window, "btn:home")
    assert window.ctl.locale == "zh_CN", "the next resident starts in the default language"


def test_queue_write_failure_shows_no_reference(qtbot, window):
    # A real full disk for SQLite: the database may not grow by a single page.
    conn = window.queue._db.conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    for size in (3000, 1000, 300, 100, 30, 1):  # fill what room the last pages have left
        with pytest.raises(QueueWriteError):
            for _ in range(100):
                window.queue.enqueue("warm-up", {"pad": "x" * size})
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    wait_screen(qtbot, window, "confirm")
    before = window.queue.counts()["pending"]
    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "error")
    assert "没能保存" in find(window, "label:message", QLabel).text()
    assert not [w for w in window.findChildren(QLabel, "label:reference") if w.isVisible()]
    assert window.printer.printed == []
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert window.queue.counts()["pending"] == before
    touch(qtbot, window, "btn:finish")
    wait_screen(qtbot, window, "home")


def test_confirm_twice_stores_once(qtbot, window):
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    button = find(window, "btn:confirm")
    touch(qtbot, window, "btn:confirm")
    window.ctl.confirm()  # a second tap that slipped through
    wait_screen(qtbot, window, "done")
    assert not button.isEnabled() or current_screen(window) == "screen:done"
    assert len(stored(window)) == 1


def test_text_field_on_the_letter_keyboard(qtbot, window):
    touch(qtbot, window, "category:business")
    touch(qtbot, window, "tile:food-business-permit")
    touch(qtbot, window, "sim:card:2")
    wait_screen(qtbot, window, "form")
    type_keys(qtbot, window, "91330106")
    touch(qtbot, window, "key:shift")
    type_keys(qtbot, window, "MA2")
    touch(qtbot, window, "key:shift")
    type_keys(qtbot, window, "ab")
    touch(qtbot, window, "key:backspace")
    assert find(window, "field:credit-code", QLineEdit).text() == "91330106MA2a"
    touch(qtbot, window, "btn:next")
    assert window.ctl.session.visit.values["credit-code"] == "91330106MA2a"


def test_id_number_field_takes_x(qtbot, window):
    touch(qtbot, window, "category:medical-insurance")
    touch(qtbot, window, "tile:mi-resident-payment")
    touch(qtbot, window, "sim:card:1")
    wait_screen(qtbot, window, "form")
    service = window.ctl.session.visit.service
    touch(qtbot, window, f"choice:payer:{service.fields[0].choices[0].id}")
    touch(qtbot, window, "btn:next")
    number = "33010620150101009X"  # a valid number whose check character is X
    type_keys(qtbot, window, "330106201501010091")  # the same with a wrong check character
    touch(qtbot, window, "btn:next")
    assert "不对" in find(window, "label:error", QLabel).text()
    touch(qtbot, window, "key:backspace")
    type_keys(qtbot, window, "X")
    touch(qtbot, window, "btn:next")
    assert window.ctl.session.visit.values["member-id"] == number


def test_printer_out_of_paper_still_shows_the_reference(qtbot, window):
    from drivers.base import DeviceState, DeviceStatus, Paper

    window.printer.fault = DeviceStatus(DeviceState.ONLINE, "sim", Paper.OUT)
    quick_visit(qtbot, window)
    assert window.ctl.session.visit.printed is False
    assert find(window, "label:reference", QLabel).text()
    assert "没能打印" in find(window, "label:print", QLabel).text()
    assert window.ctl.device_status["printer"].paper == Paper.OUT
    assert len(stored(window)) == 1, "the transaction is kept although the receipt failed"


def test_failed_receipt_is_kept_and_printed_again(qtbot, window):
    from drivers.base import DeviceState, DeviceStatus, Paper

    window.printer.fault = DeviceStatus(DeviceState.USERERROR, "sim", Paper.OUT)
    quick_visit(qtbot, window)
    assert window.ctl.session.visit.printed is False
    tx_id = window.ctl.session.visit.transaction_id
    assert window.ctl.reprints.pending() == [tx_id]
    window.printer.fault = None  # paper loaded
    touch(qtbot, window, "btn:reprint")
    qtbot.waitUntil(lambda: window.ctl.session.visit.printed is True, timeout=5000)
    assert window.ctl.reprints.pending() == []
    assert tx_id in window.printer.printed[-1][0]


def test_paper_low_prints_and_warns_technicians(qtbot, window, caplog):
    import logging

    from drivers.base import DeviceState, DeviceStatus, Paper

    window.printer.fault = DeviceStatus(DeviceState.ONLINE, "sim", Paper.LOW)
    with caplog.at_level(logging.WARNING, logger="kiosk.shell.controller"):
        quick_visit(qtbot, window)
    assert window.ctl.session.visit.printed is True
    assert any("paper low" in r.getMessage() for r in caplog.records)
