"""The visit state machine (kiosk/visit/session.py) and the field checks (visit/fields.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from contract.menu import Choice, Field, parse
from contract.personal import id_check_char
from drivers.base import Identity
from kiosk.visit import fields as field_checks
from kiosk.visit.fields import FieldError
from kiosk.visit.session import (
    Session,
    SessionError,
    Step,
    Submission,
    identity_problem,
    short_reference,
)

TX_ID = "3f1c7a52-9b1e-4c55-8d2a-0e6f2b7c9a14"
GOOD_ID = "33010619900101123" + id_check_char("33010619900101123")  # ends in X
BAD_CHECK_ID = GOOD_ID[:17] + "0"
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def tr(zh: str, en: str) -> dict:
    return {"zh_CN": zh, "en": en}


def _service(sid: str, *, identity: bool, fields: list[dict], enabled: bool = True) -> dict:
    return {
        "id": sid, "category": "cat-a", "title": tr(f"事项{sid}", f"Service {sid}"),
        "icon": "document", "enabled": enabled, "requires_identity": identity,
        "fields": fields,
        "receipt": {"title": tr("回执", "Receipt"), "note": tr("请保管", "Keep it")},
    }


def menu_doc(version: int = 5, extra_service: bool = False) -> dict:
    services = [
        _service("full", identity=True, fields=[
            {"id": "phone", "type": "phone", "required": True, "label": tr("手机", "Phone")},
            {"id": "amount", "type": "number", "required": True, "min": 1, "max": 1000,
             "label": tr("金额", "Amount")},
            {"id": "note", "type": "text", "max_length": 10, "label": tr("备注", "Note")},
        ]),
        _service("anon", identity=False, fields=[
            {"id": "date", "type": "date", "required": True, "label": tr("日期", "Date")},
            {"id": "kind", "type": "choice", "required": True, "label": tr("类型", "Kind"),
             "choices": [{"id": "a", "label": tr("甲", "A")},
                         {"id": "b", "label": tr("乙", "B")}]},
        ]),
        _service("idonly", identity=True, fields=[]),
        _service("plain", identity=False, fields=[]),
        _service("proxy", identity=False, fields=[
            {"id": "other-id", "type": "id_number", "required": True,
             "label": tr("代办人证件号", "Agent's ID number")},
        ]),
        _service("off", identity=False, fields=[], enabled=False),
    ]
    if extra_service:
        services.append(_service("new-in-v6", identity=False, fields=[]))
    return {
        "version": version, "published_at": "2026-11-20T08:00:00Z",
        "default_locale": "zh_CN", "locales": ["zh_CN", "en"],
        "categories": [{"id": "cat-a", "title": tr("类别", "Category"), "icon": "document"}],
        "services": services,
    }


MENU_V5 = parse(menu_doc(5))
MENU_V6 = parse(menu_doc(6, extra_service=True))


def card(**overrides) -> Identity:
    values = {"method": "ga467", "id_number": GOOD_ID, "name": "张三",
              "valid_to": "20991231", "extra": {"nation": "汉"}}
    values.update(overrides)
    return Identity(**values)


@pytest.fixture
def session() -> Session:
    return Session(MENU_V5)


def at_service(session: Session, service_id: str) -> Session:
    session.choose_category("cat-a")
    session.choose_service(service_id)
    return session


def fill(session: Session, *values: str) -> None:
    for raw in values:
        assert session.submit_field(raw) is None, raw


# --- the happy paths -------------------------------------------------------------------

def test_starts_at_home(session):
    assert session.step == Step.HOME
    assert session.visit is None
    assert not session.in_visit
    assert session.menu is MENU_V5


def test_full_visit(session):
    assert session.choose_category("cat-a") == Step.SERVICES
    assert session.in_visit
    assert session.visit.category_id == "cat-a"
    assert session.choose_service("full") == Step.IDENTIFY
    assert session.identified(card()) == ""
    assert session.step == Step.FORM
    assert session.current_field().id == "phone"
    fill(session, "13800138000")
    assert session.current_field().id == "amount"
    fill(session, " 120 ")
    assert session.current_field().id == "note"
    fill(session, "")  # optional, left empty
    assert session.step == Step.CONFIRM
    sub = session.submission()
    assert sub == Submission(
        service_id="full",
        fields={"phone": "13800138000", "amount": 120},
        identity={"method": "ga467", "id_number": GOOD_ID, "name": "张三", "nation": "汉"},
        menu_version=5,
    )
    assert type(sub.fields["amount"]) is int
    assert session.completed(TX_ID, printed=True) == Step.DONE
    assert session.visit.transaction_id == TX_ID
    assert session.visit.reference == "3F1C-7A52"
    assert session.visit.printed is True
    assert session.go_home() == Step.HOME
    assert session.visit is None


def test_service_without_identity_skips_identify(session):
    assert at_service(session, "anon").step == Step.FORM
    assert session.visit.identity is None
    fill(session, "2026-03-01", "b")
    assert session.step == Step.CONFIRM
    sub = session.submission()
    assert sub.identity is None
    assert sub.fields == {"date": "2026-03-01", "kind": "b"}


def test_service_without_fields_goes_to_confirm_after_identify(session):
    assert at_service(session, "idonly").step == Step.IDENTIFY
    assert session.identified(card()) == ""
    assert session.step == Step.CONFIRM
    assert session.submission().fields == {}


def test_service_without_fields_or_identity_goes_straight_to_confirm(session):
    assert at_service(session, "plain").step == Step.CONFIRM
    sub = session.submission()
    assert (sub.service_id, sub.fields, sub.identity) == ("plain", {}, None)


def test_contactless_card_identity_wire(session):
    at_service(session, "idonly")
    uid = Identity(method="pcsc-uid", card_uid="04A1B2C3D4E5F6")
    assert session.identified(uid) == ""
    assert session.submission().identity == {"method": "pcsc-uid", "card_uid": "04A1B2C3D4E5F6"}


def test_id_number_field_is_uppercased_in_submission(session):
    at_service(session, "proxy")
    fill(session, GOOD_ID.lower())
    assert session.submission().fields == {"other-id": GOOD_ID}


def test_failed_and_back_to_home(session):
    at_service(session, "plain")
    assert session.failed("error.queue") == Step.ERROR
    assert session.visit.error_key == "error.queue"
    assert session.back() == Step.HOME
    assert session.visit is None


def test_failed_outside_a_visit(session):
    assert session.failed("error.printer") == Step.ERROR
    assert session.visit.error_key == "error.printer"
    assert session.go_home() == Step.HOME


def test_choosing_another_category_from_services(session):
    session.choose_category("cat-a")
    assert session.choose_category("cat-b") == Step.SERVICES
    assert session.visit.category_id == "cat-b"


# --- refusals and wrong transitions ----------------------------------------------------

@pytest.mark.parametrize(
    ("identity", "key"),
    [
        (card(valid_to="20200101"), "identify.expired"),
        (card(id_number=BAD_CHECK_ID), "identify.bad_check"),
        (card(method="sim", id_number=BAD_CHECK_ID), "identify.bad_check"),
        (card(valid_to="2099-12-31"), "identify.unreadable"),
    ],
)
def test_refused_card_stays_at_identify(session, identity, key):
    at_service(session, "full")
    assert session.identified(identity) == key
    assert session.step == Step.IDENTIFY
    assert session.visit.identity is None
    with pytest.raises(SessionError):
        session.submission()
    # the resident may try another card
    assert session.identified(card()) == ""
    assert session.step == Step.FORM


def test_identity_problem_dates():
    today = dt.date(2026, 6, 15)
    assert identity_problem(card(valid_to="20260615"), today) == ""  # valid through the day
    assert identity_problem(card(valid_to="20260614"), today) == "identify.expired"
    assert identity_problem(card(valid_to="长期"), today) == ""
    assert identity_problem(card(valid_to=""), today) == ""
    assert identity_problem(card(valid_to="20261301"), today) == "identify.unreadable"
    yesterday = (dt.date.today() - dt.timedelta(days=1)).strftime("%Y%m%d")
    assert identity_problem(card(valid_to=yesterday)) == "identify.expired"


def test_identity_problem_check_char_only_for_id_cards():
    assert identity_problem(card(id_number=GOOD_ID.lower())) == ""
    assert identity_problem(Identity(method="pcsc-uid", card_uid="04AB")) == ""
    # a bad check char on a chip card is refused even if the card is otherwise fine
    assert identity_problem(card(id_number=BAD_CHECK_ID, valid_to="长期")) == "identify.bad_check"


def test_disabled_or_unknown_service_cannot_be_chosen(session):
    session.choose_category("cat-a")
    with pytest.raises(SessionError):
        session.choose_service("off")
    with pytest.raises(SessionError):
        session.choose_service("no-such-service")
    assert session.step == Step.SERVICES


def test_transitions_out_of_order_are_refused(session):
    with pytest.raises(SessionError):
        session.choose_service("full")
    with pytest.raises(SessionError):
        session.submission()
    with pytest.raises(SessionError):
        session.identified(card())
    at_service(session, "full")
    with pytest.raises(SessionError):
        session.current_field()
    with pytest.raises(SessionError):
        session.submit_field("13800138000")
    with pytest.raises(SessionError):
        session.completed(TX_ID, True)
    session.identified(card())
    with pytest.raises(SessionError):
        session.identified(card())
    with pytest.raises(SessionError):
        session.choose_category("cat-a")


def test_bad_field_value_stays_on_the_field(session):
    at_service(session, "full")
    session.identified(card())
    error = session.submit_field("12345")
    assert error == FieldError("err.phone", {})
    assert session.step == Step.FORM
    assert session.visit.field_index == 0
    assert session.visit.values == {}
    assert session.visit.drafts == {"phone": "12345"}  # kept for the resident to fix
    assert session.submit_field("") == FieldError("err.required", {})
    fill(session, "13800138000")
    assert session.submit_field("5000") == FieldError("err.max", {"max": "1000"})
    assert session.current_field().id == "amount"


# --- back ------------------------------------------------------------------------------

def test_back_from_services_goes_home(session):
    session.choose_category("cat-a")
    assert session.back() == Step.HOME
    assert session.visit is None


def test_back_from_identify_goes_to_services(session):
    at_service(session, "full")
    assert session.back() == Step.SERVICES
    assert session.visit is not None


def test_back_from_first_field_goes_to_identify_and_forgets_identity(session):
    at_service(session, "full")
    session.identified(card())
    assert session.back() == Step.IDENTIFY
    assert session.visit.identity is None


def test_back_from_first_field_without_identity_goes_to_services(session):
    at_service(session, "anon")
    assert session.back() == Step.SERVICES


def test_back_between_fields_keeps_identity_and_drafts(session):
    at_service(session, "full")
    session.identified(card())
    fill(session, "13800138000", "12")
    assert session.current_field().id == "note"
    assert session.back() == Step.FORM
    assert session.current_field().id == "amount"
    assert session.visit.drafts["amount"] == "12"
    assert session.back() == Step.FORM
    assert session.current_field().id == "phone"
    assert session.visit.identity is not None


def test_back_from_confirm_goes_to_last_field(session):
    at_service(session, "full")
    session.identified(card())
    fill(session, "13800138000", "12", "hello")
    assert session.step == Step.CONFIRM
    assert session.back() == Step.FORM
    assert session.current_field().id == "note"
    assert session.visit.identity is not None
    fill(session, "")  # the optional note is cleared on the way back
    assert session.submission().fields == {"phone": "13800138000", "amount": 12}


def test_back_from_confirm_without_fields_goes_to_identify(session):
    at_service(session, "idonly")
    session.identified(card())
    assert session.back() == Step.IDENTIFY
    assert session.visit.identity is None


def test_back_from_confirm_without_fields_or_identity_goes_to_services(session):
    at_service(session, "plain")
    assert session.back() == Step.SERVICES


def test_back_from_done_goes_home(session):
    at_service(session, "plain")
    session.completed(TX_ID, printed=False)
    assert session.back() == Step.HOME
    assert session.visit is None


def test_back_at_home_stays_home(session):
    assert session.back() == Step.HOME


def test_back_all_the_way(session):
    at_service(session, "full")
    session.identified(card())
    fill(session, "13800138000", "12", "")
    steps = []
    while session.step != Step.HOME:
        steps.append(session.back())
    assert steps == [Step.FORM, Step.FORM, Step.FORM, Step.IDENTIFY, Step.SERVICES, Step.HOME]
    assert session.visit is None


def test_choosing_another_service_starts_a_clean_form(session):
    at_service(session, "full")
    session.identified(card())
    fill(session, "13800138000")
    session.back()
    session.back()
    session.back()
    assert session.step == Step.SERVICES
    session.choose_service("anon")
    assert session.visit.values == {}
    assert session.visit.drafts == {}
    assert session.visit.field_index == 0
    assert session.visit.identity is None
    assert session.current_field().id == "date"


# --- go_home wipes the visit -----------------------------------------------------------

def _to_step(session: Session, step: Step) -> None:
    if step == Step.HOME:
        return
    session.choose_category("cat-a")
    if step == Step.SERVICES:
        return
    session.choose_service("full")
    if step == Step.IDENTIFY:
        return
    session.identified(card())
    fill(session, "13800138000")
    if step == Step.FORM:
        return
    fill(session, "12", "x")
    if step == Step.CONFIRM:
        return
    if step == Step.DONE:
        session.completed(TX_ID, True)
    else:
        session.failed("error.x")


@pytest.mark.parametrize("step", list(Step))
def test_go_home_from_every_step_forgets_the_resident(session, step):
    _to_step(session, step)
    assert session.step == step
    old_visit = session.visit
    assert session.go_home() == Step.HOME
    assert session.visit is None
    assert not session.in_visit
    if old_visit is not None:  # even a stray reference holds nothing personal any more
        assert old_visit.identity is None
        assert old_visit.values == {}
        assert old_visit.drafts == {}
    with pytest.raises(SessionError):
        session.submission()


# --- menu versions ---------------------------------------------------------------------

def test_visit_keeps_its_menu_when_a_new_one_arrives(session):
    at_service(session, "full")
    session.offer_menu(MENU_V6)
    assert session.menu is MENU_V5  # no change in the middle of a visit
    session.identified(card())
    fill(session, "13800138000", "12", "")
    assert session.submission().menu_version == 5
    session.go_home()
    assert session.menu is MENU_V6
    at_service(session, "plain")
    assert session.submission().menu_version == 6


def test_new_menu_services_wait_for_the_next_visit(session):
    session.choose_category("cat-a")
    session.offer_menu(MENU_V6)
    with pytest.raises(SessionError):
        session.choose_service("new-in-v6")
    session.go_home()
    at_service(session, "new-in-v6")
    assert session.step == Step.CONFIRM
    assert session.submission().menu_version == 6


def test_new_menu_at_home_is_used_at_once(session):
    session.offer_menu(MENU_V6)
    assert session.menu is MENU_V6
    at_service(session, "plain")
    assert session.submission().menu_version == 6


def test_short_reference():
    assert short_reference(TX_ID) == "3F1C-7A52"
    assert short_reference("abcdef12-0000") == "ABCD-EF12"


# --- field checks ----------------------------------------------------------------------

def fld(type_: str, **kwargs) -> Field:
    return Field(id="f", type=type_, label=tr("字段", "Field"), **kwargs)


def ok(field: Field, raw: str):
    value, error = field_checks.check(field, raw)
    assert error is None, (raw, error)
    return value


def err(field: Field, raw: str) -> FieldError:
    value, error = field_checks.check(field, raw)
    assert error is not None, (raw, value)
    assert value is None
    return error


@pytest.mark.parametrize("raw", ["13800138000", "19912345678", "15000000000", " 13800138000 "])
def test_phone_ok(raw):
    assert ok(fld("phone"), raw) == raw.strip()


@pytest.mark.parametrize(
    "raw",
    ["1380013800", "138001380001", "12800138000", "11800138000", "10800138000",
     "23800138000", "1380013800a", "138 0013 8000", "+8613800138000", "138-0013-8000",
     "13800138000\n1"],
)
def test_phone_bad(raw):
    assert err(fld("phone"), raw) == FieldError("err.phone", {})


def test_phone_non_ascii_digits_refused():
    assert err(fld("phone"), "138" + "00138000".translate(FULLWIDTH)).key == "err.phone"


@pytest.mark.parametrize(
    ("raw", "value"),
    [("12", 12), ("0", 0), ("007", 7), ("12.5", 12.5), ("12.50", 12.5), ("12.0", 12),
     ("999999999999", 999999999999), ("0.01", 0.01)],
)
def test_number_ok(raw, value):
    got = ok(fld("number"), raw)
    assert got == value
    assert type(got) is type(value)


@pytest.mark.parametrize(
    "raw", ["abc", "1.234", "-5", "1e3", ".5", "5.", "1,000", "1 000", "1000000000000", "0x10",
            "12.5.1", "NaN", "inf", "１２"],
)
def test_number_bad(raw):
    assert err(fld("number"), raw) == FieldError("err.number", {})


def test_number_limits():
    amount = fld("number", min=1, max=500000)
    assert ok(amount, "1") == 1
    assert ok(amount, "500000") == 500000
    assert err(amount, "0") == FieldError("err.min", {"min": "1"})
    assert err(amount, "0.99") == FieldError("err.min", {"min": "1"})
    assert err(amount, "500000.01") == FieldError("err.max", {"max": "500000"})
    half = fld("number", min=0.5, max=2.5)
    assert err(half, "0.4") == FieldError("err.min", {"min": "0.5"})
    assert err(half, "3") == FieldError("err.max", {"max": "2.5"})
    assert ok(half, "2.5") == 2.5
    as_float = fld("number", min=1.0, max=10.0)
    assert err(as_float, "11") == FieldError("err.max", {"max": "10"})  # no "10.0" shown


@pytest.mark.parametrize(
    ("raw", "value"),
    [("2026-02-28", "2026-02-28"), ("2024-02-29", "2024-02-29"), ("1900-01-01", "1900-01-01"),
     ("2100-12-31", "2100-12-31"), (" 2026-11-20 ", "2026-11-20")],
)
def test_date_ok(raw, value):
    assert ok(fld("date"), raw) == value


@pytest.mark.parametrize(
    "raw",
    ["2026-02-30", "2025-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "2026-1-2",
     "26-01-02", "2026/01/02", "2026.01.02", "02-01-2026", "1899-12-31", "2101-01-01",
     "2026-01-02T00:00", "today", "2026年1月2日",
     # other ISO 8601 spellings: the field is declared YYYY-MM-DD only
     "20260102", "2026-W01-1", "2026W011"],
)
def test_date_bad(raw):
    assert err(fld("date"), raw) == FieldError("err.date", {})


def test_choice():
    kind = fld("choice", choices=(Choice("purchase", tr("买房", "Buying")),
                                  Choice("rent", tr("租房", "Renting"))))
    assert ok(kind, "rent") == "rent"
    assert err(kind, "retire") == FieldError("err.choice", {})
    assert err(kind, "买房") == FieldError("err.choice", {})  # a label is not an id
    assert err(kind, "RENT") == FieldError("err.choice", {})


def test_id_number_field():
    idf = fld("id_number")
    assert ok(idf, GOOD_ID) == GOOD_ID
    assert ok(idf, GOOD_ID.lower()) == GOOD_ID  # a lower-case x is accepted, stored upper-case
    assert ok(idf, f" {GOOD_ID} ") == GOOD_ID
    assert err(idf, GOOD_ID[:17]) == FieldError("err.id_length", {})
    assert err(idf, GOOD_ID + "1") == FieldError("err.id_length", {})
    assert err(idf, "123") == FieldError("err.id_length", {})
    assert err(idf, BAD_CHECK_ID) == FieldError("err.id_check", {})
    assert err(idf, "33010619900101A23X") == FieldError("err.id_check", {})
    assert err(idf, GOOD_ID.translate(FULLWIDTH)).key in ("err.id_check", "err.id_length")


def test_text_max_length():
    note = fld("text", max_length=4)
    assert ok(note, "abcd") == "abcd"
    assert ok(note, "石桥村委") == "石桥村委"  # characters, not bytes
    assert err(note, "abcde") == FieldError("err.too_long", {"max": 4})
    assert err(note, "石桥村委会") == FieldError("err.too_long", {"max": 4})
    assert ok(note, "  ab  ") == "ab"
    assert ok(fld("text"), "x" * 2000) == "x" * 2000


_ALL_TYPES = [
    fld("text"), fld("number"), fld("phone"), fld("date"), fld("id_number"),
    fld("choice", choices=(Choice("a", tr("甲", "A")),)),
]


@pytest.mark.parametrize("field", _ALL_TYPES, ids=[f.type for f in _ALL_TYPES])
@pytest.mark.parametrize("raw", ["", "   ", "\t\n"])
def test_empty_optional_and_required(field, raw):
    assert field_checks.check(field, raw) == (None, None)
    required = Field(**{**field.__dict__, "required": True})
    assert field_checks.check(required, raw) == (None, FieldError("err.required", {}))


def test_every_menu_field_type_has_a_checker():
    from contract.menu import FIELD_TYPES

    assert set(field_checks._CHECKERS) == set(FIELD_TYPES)
