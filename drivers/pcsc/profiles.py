"""What a PC/SC card reader reads from a card: one profile per card layout (no PIN needed).

A profile is a function ``read(transmit) -> Identity``; ``transmit(apdu) -> (data, sw)`` sends
one command APDU and returns the response data and the status word. Profiles decode
defensively: every length is bounded and anything unexpected raises ``CardUnreadable``, which
the reader turns into an UNREADABLE event. Never put card data into an exception message.

The profiles, their APDUs and what they yield are documented in drivers/README.md
("PC/SC profiles").
"""

from __future__ import annotations

import re
from collections.abc import Callable

from drivers.base import DeviceError, Identity

Transmit = Callable[[bytes], tuple[bytes, int]]

SW_OK = 0x9000
MAX_GET_RESPONSE = 16  # chained 61xx answers for one command
MAX_UID_BYTES = 16
BEID_MAX_FILE = 2048  # a real identity file is about 200 to 400 bytes
BEID_BLOCK = 0xFF  # READ BINARY block size, as the Belgian eID middleware uses


class CardUnreadable(DeviceError):
    """The card is there but what it answered cannot be used (wrong card, bad data)."""


def exchange(transmit: Transmit, apdu: bytes) -> tuple[bytes, int]:
    """Send ``apdu`` with ISO 7816-4's T=0 rules: 6Cxx resends with Le=xx, 61xx fetches more."""
    data, sw = transmit(apdu)
    if sw >> 8 == 0x6C and len(apdu) == 5:  # case 2 command: "wrong Le, exact length is xx"
        data, sw = transmit(apdu[:4] + bytes([sw & 0xFF]))
    out = data
    for _ in range(MAX_GET_RESPONSE):
        if sw >> 8 != 0x61:
            return out, sw
        data, sw = transmit(bytes([0x00, 0xC0, 0x00, 0x00, sw & 0xFF]))
        out += data
    raise CardUnreadable("card keeps answering 61xx (more data)")


# --- uid: the contactless card's UID ---------------------------------------------------------

GET_UID = bytes.fromhex("FFCA000000")  # PC/SC part 3 GET DATA, answered by the reader


def read_uid(transmit: Transmit) -> Identity:
    data, sw = exchange(transmit, GET_UID)
    if sw != SW_OK:
        raise CardUnreadable(f"GET DATA (UID) answered SW {sw:04X}")
    if not 1 <= len(data) <= MAX_UID_BYTES:
        raise CardUnreadable(f"GET DATA (UID) returned {len(data)} bytes")
    return Identity(method="pcsc-uid", card_uid=data.hex().upper())


# --- beid: Belgian eID identity file 3F00/DF01/4031 ------------------------------------------

BEID_SELECT_ID = bytes.fromhex("00A4080C04DF014031")  # SELECT by path from the MF, no FCI

BEID_NATIONAL_NUMBER = 0x06
BEID_SURNAME = 0x07
BEID_FIRST_NAMES = 0x08
BEID_BIRTH_DATE = 0x0C
BEID_GENDER = 0x0D
BEID_VALID_FROM = 0x03
BEID_VALID_TO = 0x04

# Month abbreviations in the birth date, in Dutch, French and German (one per language card).
_BEID_MONTHS = {
    "JAN": 1, "FEV": 2, "FEB": 2, "MARS": 3, "MAAR": 3, "MÄR": 3, "MAR": 3, "AVR": 4,
    "APR": 4, "MAI": 5, "MEI": 5, "JUIN": 6, "JUN": 6, "JUIL": 7, "JUL": 7, "AOUT": 8,
    "AOÛT": 8, "AUG": 8, "SEPT": 9, "SEP": 9, "OCT": 10, "OKT": 10, "NOV": 11, "DEC": 12,
    "DÉC": 12, "DEZ": 12,
}
_BEID_GENDERS = {"M": "male", "F": "female", "V": "female", "W": "female"}


def read_beid_file(transmit: Transmit) -> bytes:
    """SELECT the identity file and READ BINARY it in blocks; bounded to BEID_MAX_FILE bytes."""
    _, sw = exchange(transmit, BEID_SELECT_ID)
    if sw != SW_OK:
        raise CardUnreadable(f"not a Belgian eID: SELECT identity file answered SW {sw:04X}")
    content = b""
    while True:
        offset = len(content)
        if offset > BEID_MAX_FILE:
            raise CardUnreadable(f"identity file longer than {BEID_MAX_FILE} bytes")
        apdu = bytes([0x00, 0xB0, offset >> 8, offset & 0xFF, BEID_BLOCK])
        data, sw = exchange(transmit, apdu)
        if sw == 0x6B00 and offset > 0:  # offset past the end: the file was a multiple of 255
            return content
        if sw not in (SW_OK, 0x6282):  # 6282: end of file reached before Le bytes
            raise CardUnreadable(f"READ BINARY answered SW {sw:04X}")
        if len(data) > BEID_BLOCK:
            raise CardUnreadable("READ BINARY returned more than asked")
        content += data
        if sw == 0x6282 or len(data) < BEID_BLOCK:
            return content


def parse_beid_tlv(content: bytes) -> dict[int, bytes]:
    """The eID's own TLV: 1-byte tag, length in 7-bit groups (high bit: more), value.

    Tag 0 (file version, and any zero padding at the end) is skipped; the first of a repeated
    tag wins. Anything truncated raises CardUnreadable.
    """
    fields: dict[int, bytes] = {}
    i, n = 0, len(content)
    while i < n:
        tag = content[i]
        i += 1
        length = 0
        for _ in range(3):  # at most 3 length bytes (2 MiB): far more than any file here
            if i >= n:
                if tag == 0:  # trailing zero padding
                    return fields
                raise CardUnreadable(f"identity file: tag {tag:02X} has no length")
            b = content[i]
            i += 1
            length = (length << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        else:
            raise CardUnreadable(f"identity file: tag {tag:02X} has an over-long length")
        if i + length > n:
            raise CardUnreadable(f"identity file: tag {tag:02X} runs past the end")
        if tag != 0:
            fields.setdefault(tag, content[i : i + length])
        i += length
    return fields


def national_number_valid(nn: str) -> bool:
    """Belgian national register number: 11 digits, check = 97 - (first 9 mod 97).

    Those born in 2000 or later have a 2 put in front of the 9 digits first.
    """
    if len(nn) != 11 or not nn.isascii() or not nn.isdigit():
        return False
    base, check = int(nn[:9]), int(nn[9:])
    return check in (97 - base % 97, 97 - (2_000_000_000 + base) % 97)


def beid_birth_date(text: str) -> str:
    """'15 JUL 1971', '15.JUL.1971', '15 MÄR. 1971' -> '19710715'; '' when not a full date."""
    m = re.fullmatch(r"\s*(\d{1,2})[ .]+([^\W\d_]+)\.?[ .]*(\d{4})\s*", text)
    if not m:
        return ""
    month = _BEID_MONTHS.get(m.group(2).upper())
    day = int(m.group(1))
    if month is None or not 1 <= day <= 31:
        return ""
    return f"{m.group(3)}{month:02d}{day:02d}"


def beid_validity_date(text: str) -> str:
    """'01.02.2031' -> '20310201'; '' when not that shape."""
    m = re.fullmatch(r"\s*(\d{2})[.\- /](\d{2})[.\- /](\d{4})\s*", text)
    return f"{m.group(3)}{m.group(2)}{m.group(1)}" if m else ""


def _text(fields: dict[int, bytes], tag: int) -> str:
    try:
        return fields.get(tag, b"").decode("utf-8").strip()
    except UnicodeDecodeError:
        raise CardUnreadable(f"identity file: tag {tag:02X} is not UTF-8") from None


def decode_beid(content: bytes) -> Identity:
    fields = parse_beid_tlv(content)
    nn = _text(fields, BEID_NATIONAL_NUMBER)
    if not national_number_valid(nn):
        raise CardUnreadable("identity file: national number missing or fails its check")
    surname = _text(fields, BEID_SURNAME)
    first_names = _text(fields, BEID_FIRST_NAMES)
    if not surname:
        raise CardUnreadable("identity file: no surname")
    return Identity(
        method="beid",
        id_number=nn,
        name=" ".join(part for part in (first_names, surname) if part),
        gender=_BEID_GENDERS.get(_text(fields, BEID_GENDER).upper(), ""),
        birth_date=beid_birth_date(_text(fields, BEID_BIRTH_DATE)),
        valid_to=beid_validity_date(_text(fields, BEID_VALID_TO)),
    )


def read_beid(transmit: Transmit) -> Identity:
    return decode_beid(read_beid_file(transmit))


PROFILES: dict[str, Callable[[Transmit], Identity]] = {
    "uid": read_uid,
    "beid": read_beid,
}
