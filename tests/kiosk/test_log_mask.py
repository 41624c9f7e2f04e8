"""The log filter against tricky inputs (issue #12): ID numbers inside longer runs of digits,
+86 and spaced mobile numbers, full-width digits, and every sensitive value of the visit."""

from __future__ import annotations

import logging

import pytest

from contract.menu import parse
from contract.personal import id_check_char
from drivers.base import Identity
from kiosk.logs import VISIT_VALUES, MaskingFilter, VisitValues, mask_text
from kiosk.visit.session import Session

ID = "330106199001011234"
ID_X = "33010619900101123" + id_check_char("33010619900101123")  # ends in X
CARD_NO = ID + "12"  # a disability card number: the ID number, category 1, grade 2
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        # ID numbers: alone, inside longer runs of digits, glued to letters, spaced, x
        (f"id {ID}", "id 330106********1234"),
        (f"card {CARD_NO} read", "card 330106**********3412 read"),
        (f"card 9{ID}", "card 933010*********1234"),
        (f"no.{ID}77", "no.330106**********3477"),
        (f"ab{ID}cd", "ab330106********1234cd"),
        (f"x {ID_X.lower()} y", f"x 330106********{ID_X[-4:].lower()} y"),
        (f"{ID_X.lower()}12", f"330106**********{ID_X[-2:].lower()}12"),
        ("330106 19900101 1234", "330106********1234"),
        ("330106-19900101-1234", "330106********1234"),
        (ID.translate(FULLWIDTH), "330106********1234"),
        (f"身份证号{ID}，请核对", "身份证号330106********1234，请核对"),
        # mobile numbers, however written
        ("phone 13812345678", "phone 138****5678"),
        ("+86 138 0000 0000", "+86 138****0000"),
        ("+8613800000000", "+86138****0000"),
        ("0086-138-0000-0000", "0086-138****0000"),
        ("86 13800000000", "86 138****0000"),
        ("138-0000-0000", "138****0000"),
        ("138 0000 0000", "138****0000"),
        ("tel:13800000000;", "tel:138****0000;"),
        ("１３８００００００００", "138****0000"),
        ("＋８６ １３８ ００００ ００００", "+86 138****0000"),
        # left alone: ids, timestamps, counters, amounts, hashes
        ("tx 3f1c7a52-8a7e-4f7e-9a55-0d1f4f3b2c11", None),
        ("ts 17955126600000 ns 1764718403123456789", None),
        ("order 123456 amount 13800 version 12", None),
        ("sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", None),
        ("138000000001 is twelve digits", None),
        ("12345678901234567890", None),  # 20 digits with no birth date in them
    ],
)
def test_mask_text_table(text, masked):
    assert mask_text(text, VisitValues()) == (text if masked is None else masked)


@pytest.mark.parametrize("text", [f"a {ID} b", f"{CARD_NO}", "+86 138 1234 5678"])
def test_no_eight_birth_date_digits_survive(text):
    out = mask_text(text, VisitValues())
    assert "19900101" not in out and "12345678" not in out.replace(" ", "")


def test_the_visit_values_are_masked_while_the_visit_runs():
    values = VisitValues()
    values.remember_identity("张三丰", ID)
    values.remember("SHOP-12-B-3301")  # a sensitive answer with no recognisable shape
    values.remember("12")  # too short to look for: it would mask every "12"
    line = f"KeyError: '张三丰' at shop-12-b-3301, id {ID}, page 12"
    assert mask_text(line, values) == "KeyError: '张**' at shop-1****3301, id " \
                                      "330106********1234, page 12"
    values.forget()
    assert len(values) == 0
    assert "张三丰" in mask_text(line, values) and "shop-12-b-3301" in mask_text(line, values)


def test_a_known_value_inside_a_longer_number_takes_the_number_with_it():
    values = VisitValues()
    values.remember("8800123456")  # shorter than an ID, no shape the filter knows
    assert mask_text("ref 88001234567 x", values) == "ref *********67 x"


def test_the_filter_masks_tracebacks_and_stacks_with_the_visit_values(clean_root, tmp_path):
    handler = logging.FileHandler(tmp_path / "log.txt", encoding="utf-8")
    handler.addFilter(MaskingFilter())
    clean_root.addHandler(handler)
    clean_root.setLevel(logging.INFO)
    VISIT_VALUES.remember_identity("阿依古丽", ID)
    try:
        try:
            raise LookupError(f"no resident 阿依古丽 with card {CARD_NO}")
        except LookupError:
            logging.getLogger("kiosk.test").exception("upload failed", stack_info=True)
    finally:
        VISIT_VALUES.forget()
    handler.close()
    text = (tmp_path / "log.txt").read_text("utf-8")
    assert "LookupError: no resident 阿*** with card 330106**********3412" in text
    assert "阿依古丽" not in text and ID not in text and "Stack (most recent call last)" in text


def _menu():
    label = {"zh_CN": "证号", "en": "Number"}
    return parse({
        "version": 1, "published_at": "2026-11-20T08:00:00Z", "default_locale": "zh_CN",
        "locales": ["zh_CN", "en"],
        "categories": [{"id": "c", "title": label}],
        "services": [{
            "id": "s", "category": "c", "title": label, "requires_identity": True,
            "fields": [{"id": "card-no", "type": "text", "max_length": 30, "sensitive": True,
                        "label": label},
                       {"id": "note", "type": "text", "label": label},
                       {"id": "phone", "type": "phone", "label": label}],
            "receipt": {"title": label, "note": label}}]})


def test_the_session_feeds_the_filter_and_empties_it_at_home():
    values = VisitValues()
    session = Session(_menu(), visit_values=values)
    session.choose_category("c")
    session.choose_service("s")
    assert session.identified(Identity(method="ga467", name="王小明", id_number=ID_X)) == ""
    assert session.submit_field("ZX-" + CARD_NO) is None  # sensitive by its flag
    assert session.submit_field("plain note") is None  # not sensitive: not learnt
    assert session.submit_field("13812345678") is None  # sensitive by its type
    line = f"王小明 {ID_X} ZX-{CARD_NO} 13812345678 plain note"
    assert mask_text(line, values) == \
        f"王** 330106********{ID_X[-4:]} ZX-330*************3412 *********78 plain note"
    session.go_home()
    assert len(values) == 0
    assert mask_text("王小明", values) == "王小明"
