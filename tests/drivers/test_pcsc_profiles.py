"""PC/SC profiles and URIs without a daemon: APDUs byte-exact against the emulated card."""

from __future__ import annotations

import pytest
from vpcd_card import EmulatedCard, beid_identity_file, beid_tlv

from drivers.base import DeviceConfigError, Identity
from drivers.pcsc.profiles import (
    CardUnreadable,
    beid_birth_date,
    beid_validity_date,
    decode_beid,
    exchange,
    national_number_valid,
    parse_beid_tlv,
    read_beid,
    read_uid,
)
from drivers.pcsc.reader import PcscReader, parse_pcsc_uri


def transmit_to(card: EmulatedCard):
    def transmit(apdu: bytes) -> tuple[bytes, int]:
        response = card.respond(apdu)
        return response[:-2], int.from_bytes(response[-2:], "big")

    return transmit


def scripted(*answers: bytes):
    sent: list[bytes] = []
    queue = list(answers)

    def transmit(apdu: bytes) -> tuple[bytes, int]:
        sent.append(apdu)
        response = queue.pop(0)
        return response[:-2], int.from_bytes(response[-2:], "big")

    transmit.sent = sent
    return transmit


# --- URIs ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("uri", "expected"), [
    ("pcsc:", ("", "uid")),
    ("pcsc://", ("", "uid")),
    ("pcsc:?profile=uid", ("", "uid")),
    ("pcsc:?reader=ACS%20ACR122&profile=beid", ("ACS ACR122", "beid")),
    ("pcsc:?reader=00 01", ("00 01", "uid")),
    ("PCSC:?reader=", ("", "uid")),
])
def test_uri(uri, expected):
    assert parse_pcsc_uri(uri) == expected


def test_unknown_profile_is_a_config_error_naming_it():
    with pytest.raises(DeviceConfigError, match="'mifare'.*known: uid, beid"):
        PcscReader("pcsc:?profile=mifare")


@pytest.mark.parametrize("uri", [
    "pcsc:?readr=ACS",  # misspelt key
    "pcsc:?reader=a&reader=b",
    "pcsc:ACS",
    "pcsc://host/",
])
def test_bad_uri_is_a_config_error(uri):
    with pytest.raises(DeviceConfigError, match="pcsc"):
        PcscReader(uri)


def test_constructing_does_no_io():
    reader = PcscReader("pcsc:?reader=nothing-like-this")
    assert reader.status().state == "offline"


# --- uid -------------------------------------------------------------------------------------

def test_uid_is_upper_case_hex():
    card = EmulatedCard(uid=bytes.fromhex("04a2245a3c5e80"))
    assert read_uid(transmit_to(card)) == Identity(method="pcsc-uid", card_uid="04A2245A3C5E80")
    assert card.apdus == [bytes.fromhex("FFCA000000")]
    assert read_uid(transmit_to(card)).to_wire() == {
        "method": "pcsc-uid", "card_uid": "04A2245A3C5E80"}


def test_uid_resent_with_exact_length_after_6c():
    transmit = scripted(b"\x6c\x04", bytes.fromhex("DEADBEEF") + b"\x90\x00")
    assert read_uid(transmit).card_uid == "DEADBEEF"
    assert transmit.sent == [bytes.fromhex("FFCA000000"), bytes.fromhex("FFCA000004")]


@pytest.mark.parametrize("answer", [
    b"\x6a\x81",  # reader has no GET DATA: not a contactless reader
    b"\x90\x00",  # no UID at all
    bytes(17) + b"\x90\x00",  # longer than any UID
    b"\x63\x00",
])
def test_uid_refuses_odd_answers(answer):
    with pytest.raises(CardUnreadable):
        read_uid(scripted(answer))


def test_get_response_chain_is_bounded():
    transmit = scripted(*[b"\x61\x10"] * 40)
    with pytest.raises(CardUnreadable, match="61xx"):
        exchange(transmit, bytes.fromhex("00B0000000"))
    assert len(transmit.sent) == 17


def test_get_response_is_followed():
    transmit = scripted(b"\x01\x02\x61\x02", b"\x03\x04\x90\x00")
    assert exchange(transmit, bytes.fromhex("00B0000004")) == (b"\x01\x02\x03\x04", 0x9000)
    assert transmit.sent[1] == bytes.fromhex("00C0000002")


# --- beid ------------------------------------------------------------------------------------

def test_beid_read_apdus_and_fields():
    card = EmulatedCard(id_file=beid_identity_file())
    identity = read_beid(transmit_to(card))
    assert identity == Identity(
        method="beid", id_number="71715100070", name="Alice Geldigekaart Specimen",
        gender="female", birth_date="19710715", valid_to="20310201")
    assert identity.to_wire() == {
        "method": "beid", "id_number": "71715100070", "name": "Alice Geldigekaart Specimen"}
    size = len(card.id_file)
    assert size < 0xFF
    assert card.apdus == [
        bytes.fromhex("00A4080C04DF014031"),
        bytes.fromhex("00B00000FF"),  # answered 6Cxx: the file is shorter
        bytes.fromhex("00B00000") + bytes([size]),
    ]


def test_beid_file_longer_than_one_block():
    content = beid_identity_file(extra=beid_tlv(0x13, b"x" * 300))
    card = EmulatedCard(id_file=content)
    assert read_beid(transmit_to(card)).id_number == "71715100070"
    reads = [a for a in card.apdus if a[1] == 0xB0]
    assert [a[2:4] for a in reads] == [b"\x00\x00", b"\x00\xff", b"\x00\xff"]  # 2nd: 6Cxx


def test_beid_file_exactly_a_block_ends_at_6b00():
    content = beid_identity_file()
    content += beid_tlv(0x13, b"y" * (0xFF - len(content) - 2))
    assert len(content) == 0xFF
    card = EmulatedCard(id_file=content)
    assert read_beid(transmit_to(card)).name == "Alice Geldigekaart Specimen"
    assert card.apdus[-1] == bytes.fromhex("00B000FFFF")


def test_not_a_beid_card():
    with pytest.raises(CardUnreadable, match="not a Belgian eID"):
        read_beid(transmit_to(EmulatedCard(id_file=None)))


def test_beid_file_size_is_bounded():
    card = EmulatedCard(id_file=beid_identity_file(extra=b"\x00" * 5000))
    with pytest.raises(CardUnreadable, match="longer than"):
        read_beid(transmit_to(card))


def test_tlv_lengths_in_7_bit_groups():
    value = bytes(200)
    assert beid_tlv(0x07, value)[:3] == b"\x07\x81\x48"
    assert parse_beid_tlv(beid_tlv(0x07, value) + beid_tlv(0x08, b"ab")) == {7: value, 8: b"ab"}


def test_tlv_skips_tag_zero_and_padding():
    assert parse_beid_tlv(b"\x00\x01\x01\x06\x02ab\x00\x00\x00") == {6: b"ab"}


@pytest.mark.parametrize("content", [
    b"\x06\x0512",  # runs past the end
    b"\x06",  # no length
    b"\x06\xff\xff\xff\x01",  # over-long length
])
def test_tlv_garbage_is_unreadable(content):
    with pytest.raises(CardUnreadable):
        parse_beid_tlv(content)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"national_number": "71715100071"}, "national number"),
    ({"national_number": ""}, "national number"),
    ({"surname": ""}, "surname"),
])
def test_beid_missing_or_wrong_fields(kwargs, match):
    with pytest.raises(CardUnreadable, match=match):
        decode_beid(beid_identity_file(**kwargs))


def test_beid_non_utf8_is_unreadable():
    content = beid_tlv(0x06, b"71715100070") + beid_tlv(0x07, b"\xff\xfe")
    with pytest.raises(CardUnreadable, match="UTF-8"):
        decode_beid(content)


def test_beid_odd_dates_and_gender_leave_fields_empty():
    identity = decode_beid(beid_identity_file(birth_date="1971", gender="X", valid_to="?"))
    assert (identity.birth_date, identity.gender, identity.valid_to) == ("", "", "")


@pytest.mark.parametrize(("text", "expected"), [
    ("15 JUL 1971", "19710715"),
    ("15.JUL.1971", "19710715"),
    ("01 MÄR 2001", "20010301"),
    ("01.MÄR.2001", "20010301"),
    ("3 MAAR 1980", "19800303"),
    ("30 AOÛT 1975", "19750830"),
    ("12 DEZ. 1999", "19991212"),
    ("1971", ""),
    ("32 JAN 1971", ""),
    ("15 XYZ 1971", ""),
])
def test_birth_dates(text, expected):
    assert beid_birth_date(text) == expected


def test_validity_date():
    assert beid_validity_date("01.02.2031") == "20310201"
    assert beid_validity_date("2031-02-01") == ""


@pytest.mark.parametrize(("nn", "valid"), [
    ("71715100070", True),
    ("71715100071", False),
    ("00010100150", False),  # check digits only right for someone born in the 1900s
    ("0001010015" + "0", False),
    ("7171510007", False),
    ("7171510007x", False),
])
def test_national_number_check(nn, valid):
    assert national_number_valid(nn) is valid


def test_national_number_born_after_2000():
    base = "000101001"
    check = 97 - (2_000_000_000 + int(base)) % 97
    assert national_number_valid(f"{base}{check:02d}")
