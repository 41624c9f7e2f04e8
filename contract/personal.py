"""Personal data rules in one place: masking and the GB 11643 ID number check."""

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


# Field types whose values are personal and are masked wherever a person can see them.
PERSONAL_FIELD_TYPES = {"id_number": mask_id_number, "phone": mask_phone}


def mask_field(field_type: str, value: str) -> str:
    masker = PERSONAL_FIELD_TYPES.get(field_type)
    return masker(value) if masker else value
