"""Personal data rules in one place: masking (on screen, paper, reprint store, logs and
speech) and the GB 11643 ID number check."""

from __future__ import annotations

import re

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"
_ID_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")  # ASCII digits only: \d is Unicode


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def id_number_valid(id_number: str) -> bool:
    """True when ``id_number`` is 18 characters with a correct GB 11643 check character."""
    value = id_number.strip().upper()
    if not _ID_SHAPE.match(value):
        return False
    return id_check_char(value[:17]) == value[17]


def mask_name(name: str) -> str:
    """First character, then one ``*`` per other character: ``张三丰`` -> ``张**``."""
    name = name.strip()
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_id_number(id_number: str) -> str:
    """First 6 and last 4 characters of an 18-character number, ``*`` between."""
    value = id_number.strip()
    if len(value) == 18:
        return value[:6] + "*" * 8 + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    # Not a resident ID number shape: still never show it whole.
    keep = max(1, len(value) // 4)
    return value[:keep] + "*" * (len(value) - 2 * keep) + value[-keep:]


def mask_phone(phone: str) -> str:
    """``13812345678`` -> ``138****5678``."""
    value = phone.strip()
    if len(value) == 11:
        return value[:3] + "****" + value[-4:]
    return mask_id_number(value)


# Field types that are sensitive whatever the menu's flag says (menu.md).
ALWAYS_SENSITIVE_TYPES = frozenset({"id_number", "phone"})
LONG_VALUE = 14  # menu.md: from this length on a value keeps its first 6 and last 4


def mask_sensitive(value: str) -> str:
    """menu.md's rule for a sensitive value: 14 characters or more keep their first 6 and
    last 4 (``330106********1234``); a shorter value keeps only its last 2; a value of 2
    characters or fewer is all ``*``. Never returns a non-empty value whole."""
    value = value.strip()
    if len(value) >= LONG_VALUE:
        return value[:6] + "*" * (len(value) - 10) + value[-4:]
    if len(value) <= 2:
        return "*" * len(value)
    return "*" * (len(value) - 2) + value[-2:]


# Each always-sensitive type and its masker: menu.md has one rule for every sensitive value.
PERSONAL_FIELD_TYPES = dict.fromkeys(sorted(ALWAYS_SENSITIVE_TYPES), mask_sensitive)


def is_sensitive(field_type: str, flagged: bool = False) -> bool:
    """True when a field's values are personal data: the menu's flag, or an always-sensitive
    type."""
    return flagged or field_type in ALWAYS_SENSITIVE_TYPES


def mask_field(field_type: str, value: str, sensitive: bool = False) -> str:
    """``value`` as it may be shown, printed, stored for reprint or logged: masked by
    ``mask_sensitive`` when the field is sensitive (flag or type), else unchanged."""
    return mask_sensitive(value) if is_sensitive(field_type, sensitive) else value


SPOKEN_TAIL = {"zh_CN": "尾号 {tail}", "en": "ending in {tail}"}


def spoken_mask(value: str, locale: str = "zh_CN") -> str:
    """A sensitive value as the voice may say it: only the characters ``mask_sensitive``
    keeps at the end (4 or 2), one by one, in a short phrase (``尾号 1 2 3 4``). The first
    6 are never spoken: a screen is seen by one person, a voice is heard by the room."""
    masked = mask_sensitive(value)
    tail = masked[len(masked) - _kept_tail(masked):]
    if not tail:
        return ""
    phrase = SPOKEN_TAIL.get(locale, SPOKEN_TAIL["en"])
    return phrase.format(tail=" ".join(tail))


def _kept_tail(masked: str) -> int:
    if len(masked) >= LONG_VALUE:
        return 4
    return 0 if len(masked) <= 2 else 2
