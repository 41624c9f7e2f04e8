"""Personal data rules: masking (kiosk-interfaces.md "Masking") and the GB 11643 check."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from contract.personal import (
    PERSONAL_FIELD_TYPES,
    id_check_char,
    id_number_valid,
    is_sensitive,
    mask_field,
    mask_id_number,
    mask_name,
    mask_phone,
    mask_sensitive,
    spoken_mask,
)

DIGITS = "0123456789"
CHECK_ALPHABET = DIGITS + "X"
FULLWIDTH = str.maketrans(DIGITS, "０１２３４５６７８９")


def valid_id(first17: str) -> str:
    return first17 + id_check_char(first17)


# --- mask_name -------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("张三", "张*"),
        ("张三丰", "张**"),
        ("欧阳娜娜", "欧***"),
        ("李", "李"),
        ("  王五  ", "王*"),  # surrounding blanks are not characters of the name
        ("", ""),
        ("   ", ""),
        ("阿依古丽·买买提", "阿*******"),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_name_hides_every_character_but_the_first():
    masked = mask_name("欧阳娜娜")
    assert len(masked) == 4
    assert not set("阳娜") & set(masked)


# --- mask_id_number --------------------------------------------------------------------

def test_mask_id_number_spec_example():
    assert mask_id_number("330106199001011234") == "330106********1234"


def test_mask_id_number_keeps_check_character_x():
    number = valid_id("11010519491231002")
    assert number.endswith("X")
    assert mask_id_number(number) == "110105********002X"


def test_mask_id_number_strips_blanks():
    assert mask_id_number(" 330106199001011234\n") == "330106********1234"


@pytest.mark.parametrize("length", range(1, 41))
def test_mask_id_number_never_returns_other_lengths_unchanged(length):
    value = ("3301061990010112345678901234567890123456789")[:length]
    masked = mask_id_number(value)
    assert masked != value
    assert "*" in masked
    assert len(masked) == length  # the shape stays recognisable, nothing is added


def test_mask_id_number_old_15_digit_number_is_masked():
    masked = mask_id_number("330106900101123")
    assert masked != "330106900101123"
    assert "9001011" not in masked  # the birth date does not show


def test_mask_id_number_empty():
    assert mask_id_number("") == ""


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=DIGITS, min_size=17, max_size=17), st.sampled_from(CHECK_ALPHABET))
def test_mask_id_number_never_contains_the_middle_digits(first17, last):
    number = first17 + last
    masked = mask_id_number(number)
    assert masked == number[:6] + "********" + number[-4:]
    assert number[6:14] not in masked


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda s: s.strip() and "*" not in s))
def test_mask_id_number_never_shows_any_input_whole(value):
    assert mask_id_number(value) != value.strip()


# --- mask_phone ------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        (" 13812345678 ", "138****5678"),
        ("19900001111", "199****1111"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize("phone", ["1381234567", "138123456789", "057187654321", "110"])
def test_mask_phone_other_lengths_never_whole(phone):
    masked = mask_phone(phone)
    assert masked != phone
    assert "*" in masked


def test_mask_field_masks_personal_types_only():
    assert set(PERSONAL_FIELD_TYPES) == {"id_number", "phone"}
    # menu.md: a phone field is sensitive, and a sensitive value under 14 characters keeps
    # only its last 2 (stricter than the logs' 138****5678 for a number found in free text).
    assert mask_field("phone", "13812345678") == "*********78"
    assert mask_field("id_number", "330106199001011234") == "330106********1234"
    assert mask_field("text", "13812345678") == "13812345678"
    assert mask_field("choice", "purchase") == "purchase"


# --- the menu's sensitive flag (menu.md) ----------------------------------------------

@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("33010619900101123412", "330106**********3412"),  # a disability card number
        ("330106199001011234", "330106********1234"),
        ("91330106MA2B3C4D5E", "913301********4D5E"),  # a credit code, 18 characters
        ("12345678901234", "123456****1234"),  # 14: first 6 and last 4
        ("1234567890123", "***********23"),  # 13: last 2 only
        ("13812345678", "*********78"),
        ("西湖路12号", "****2号"),
        ("abc", "*bc"),
        ("ab", "**"),
        ("a", "*"),
        ("", ""),
        (" 33010619900101123412 ", "330106**********3412"),
    ],
)
def test_mask_sensitive_follows_menu_md(value, masked):
    assert mask_sensitive(value) == masked


@settings(max_examples=300, deadline=None)
@given(st.text(min_size=1, max_size=60).filter(lambda s: s.strip() and "*" not in s))
def test_mask_sensitive_never_shows_a_value_whole_nor_more_than_it_keeps(value):
    masked = mask_sensitive(value)
    plain = value.strip()
    assert masked != plain and len(masked) == len(plain)
    assert len(masked.replace("*", "")) <= (10 if len(plain) >= 14 else 2)


def test_a_flagged_field_of_any_type_is_masked_and_id_phone_always_are():
    assert mask_field("text", "33010619900101123412", sensitive=True) == "330106**********3412"
    assert mask_field("number", "123456", sensitive=True) == "****56"
    assert mask_field("phone", "13812345678", sensitive=False) == "*********78"
    assert is_sensitive("id_number") and is_sensitive("phone") and is_sensitive("text", True)
    assert not is_sensitive("text") and not is_sensitive("date", False)


@pytest.mark.parametrize(
    ("value", "locale", "spoken"),
    [
        ("33010619900101123412", "zh_CN", "尾号 3 4 1 2"),
        ("13812345678", "zh_CN", "尾号 7 8"),
        ("13812345678", "en", "ending in 7 8"),
        ("12", "en", ""),
    ],
)
def test_spoken_mask_says_only_the_kept_tail(value, locale, spoken):
    assert spoken_mask(value, locale) == spoken
    assert "330106" not in spoken_mask(value, locale)  # the room never hears the first 6


# --- GB 11643 --------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # the well-known sample from the standard's examples
        ("44052418800101001", "4"),
        ("33010619550312001", "6"),
    ],
)
def test_id_check_char_known_values(first17, check):
    assert id_check_char(first17) == check


def test_id_check_char_covers_every_remainder():
    # Sum ≡ r (mod 11) for each r: the check alphabet is "10X98765432".
    seen = set()
    for n in range(2000):
        seen.add(id_check_char(f"{n:017d}"))
    assert seen == set(CHECK_ALPHABET)


def test_id_check_char_needs_17_digits():
    with pytest.raises(ValueError):
        id_check_char("1234")


@pytest.mark.parametrize(
    "number",
    [
        valid_id("33010619900101123"),
        valid_id("11010519491231002"),
        valid_id("44052418800101001"),
        valid_id("00000000000000000"),
        valid_id("65010219991231999"),
    ],
)
def test_id_number_valid_accepts_correct_numbers(number):
    assert id_number_valid(number)
    assert id_number_valid(number.lower())  # a lower-case x is the same character
    assert id_number_valid(f"  {number}\n")


def _wrong_check(number: str) -> str:
    other = "0" if number[-1] != "0" else "1"
    return number[:17] + other


@pytest.mark.parametrize(
    "number",
    [
        _wrong_check(valid_id("33010619900101123")),
        _wrong_check(valid_id("11010519491231002")),
        valid_id("33010619900101123")[:17],  # 17 characters
        valid_id("33010619900101123") + "1",  # 19 characters
        "",
        "X" * 18,
        "3301061990010112X4",  # X is allowed only last
        "33010619900101123" + "Y",
        "33010619900101 123",
        "330106-9900101123" + "4",
        "330106199001011234\n5",
    ],
)
def test_id_number_valid_rejects(number):
    assert not id_number_valid(number)


def test_id_number_valid_rejects_non_ascii_digits():
    number = valid_id("33010619900101123")
    assert id_number_valid(number)
    # Full-width digits (an IME, a pasted text) are not a resident ID number: they would be
    # queued and sent as-is.
    assert not id_number_valid(number.translate(FULLWIDTH))
    arabic_indic = str.maketrans(DIGITS, "٠١٢٣٤٥٦٧٨٩")
    assert not id_number_valid(number.translate(arabic_indic))


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=DIGITS, min_size=17, max_size=17), st.sampled_from(CHECK_ALPHABET))
def test_only_the_computed_check_char_is_valid(first17, last):
    check = id_check_char(first17)
    assert check in CHECK_ALPHABET
    assert id_number_valid(first17 + check)
    assume(last != check)
    assert not id_number_valid(first17 + last)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=DIGITS, min_size=17, max_size=17), st.integers(0, 16),
       st.integers(1, 9))
def test_any_single_digit_change_is_caught(first17, position, delta):
    # GB 11643 weights are all non-zero modulo 11, so one wrong digit always shows.
    number = valid_id(first17)
    changed = str((int(number[position]) + delta) % 10)
    typo = number[:position] + changed + number[position + 1:]
    assert not id_number_valid(typo)
