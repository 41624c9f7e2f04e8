"""Checking what a resident typed into a form field, with plain-words error keys."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from contract.menu import Field
from contract.personal import id_number_valid

# ASCII digits only (``\d`` would also take full-width and other scripts' digits).
PHONE = re.compile(r"^1[3-9][0-9]{9}$")
NUMBER = re.compile(r"^[0-9]{1,12}(\.[0-9]{1,2})?$")
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")  # fromisoformat alone takes 20260102 too


@dataclass(frozen=True)
class FieldError:
    """A translation key for the resident plus its parameters."""

    key: str
    params: dict[str, Any]


def check(field: Field, raw: str) -> tuple[Any, FieldError | None]:
    """Return (value to store, None) or (None, error). An empty optional field stores None."""
    raw = raw.strip()
    if not raw:
        return (None, FieldError("err.required", {})) if field.required else (None, None)
    checker = _CHECKERS[field.type]
    return checker(field, raw)


def _text(field: Field, raw: str):
    if field.max_length is not None and len(raw) > field.max_length:
        return None, FieldError("err.too_long", {"max": field.max_length})
    return raw, None


def _number(field: Field, raw: str):
    if not NUMBER.match(raw):
        return None, FieldError("err.number", {})
    value: int | float = float(raw)
    if value.is_integer():
        value = int(value)
    if field.min is not None and value < field.min:
        return None, FieldError("err.min", {"min": _fmt(field.min)})
    if field.max is not None and value > field.max:
        return None, FieldError("err.max", {"max": _fmt(field.max)})
    return value, None


def _phone(field: Field, raw: str):
    if not PHONE.match(raw):
        return None, FieldError("err.phone", {})
    return raw, None


def _date(field: Field, raw: str):
    if not DATE.match(raw):
        return None, FieldError("err.date", {})
    try:
        value = dt.date.fromisoformat(raw)
    except ValueError:
        return None, FieldError("err.date", {})
    if not 1900 <= value.year <= 2100:
        return None, FieldError("err.date", {})
    return value.isoformat(), None


def _choice(field: Field, raw: str):
    if raw not in {c.id for c in field.choices}:
        return None, FieldError("err.choice", {})
    return raw, None


def _id_number(field: Field, raw: str):
    value = raw.upper()
    if len(value) != 18:
        return None, FieldError("err.id_length", {})
    if not id_number_valid(value):
        return None, FieldError("err.id_check", {})
    return value, None


def _fmt(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else str(n)


_CHECKERS = {
    "text": _text,
    "number": _number,
    "phone": _phone,
    "date": _date,
    "choice": _choice,
    "id_number": _id_number,
}
