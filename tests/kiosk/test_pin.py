"""The technician PIN hash: scrypt with its parameters in the string, strict parsing."""

from __future__ import annotations

import base64

import pytest

from kiosk.technician.pin import PinHashError, hash_pin, parse_pin_hash, valid_pin, verify_pin


def test_hash_then_verify_right_and_wrong_pin():
    stored = hash_pin("246801")
    assert stored.startswith("scrypt$n=32768,r=8,p=1$")
    assert verify_pin("246801", stored) is True
    assert verify_pin("246802", stored) is False
    assert verify_pin("24680", stored) is False
    assert verify_pin("", stored) is False


def test_each_hash_has_its_own_salt():
    a, b = hash_pin("123456"), hash_pin("123456")
    assert a != b
    assert parse_pin_hash(a)[3] != parse_pin_hash(b)[3]
    assert len(parse_pin_hash(a)[3]) == 16 and len(parse_pin_hash(a)[4]) == 32


@pytest.mark.parametrize("pin, ok", [
    ("123456", True), ("123456789012", True), ("12345", False), ("1234", False),
    ("1234567890123", False), ("12a456", False), ("123 456", False), ("１２３４５６", False),
    ("", False), ("123456\n", False),
])
def test_valid_pin_is_6_to_12_ascii_digits(pin, ok):
    assert valid_pin(pin) is ok


def test_an_old_pin_of_4_digits_is_still_valid_when_checking():
    assert valid_pin("1234", minimum=4) is True
    assert valid_pin("123", minimum=4) is False


@pytest.mark.parametrize("pin", ["12ab", "1234", "12345"])
def test_hash_refuses_a_pin_that_is_not_6_to_12_digits(pin):
    with pytest.raises(ValueError, match="6 to 12 digits"):
        hash_pin(pin)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


SALT, DIGEST = _b64(b"s" * 16), _b64(b"d" * 32)


@pytest.mark.parametrize("stored, message", [
    ("", "empty"),
    ("   ", "empty"),
    ("1234", "not of the form"),
    ("bcrypt$n=16384,r=8,p=1$" + SALT + "$" + DIGEST, "not of the form"),
    ("scrypt$n=16384,r=8$" + SALT + "$" + DIGEST, "parameters"),
    ("scrypt$n=16384,r=8,p=1$" + SALT, "not of the form"),
    ("scrypt$n=1000,r=8,p=1$" + SALT + "$" + DIGEST, "power of 2"),
    ("scrypt$n=1073741824,r=8,p=1$" + SALT + "$" + DIGEST, "power of 2"),
    ("scrypt$n=1048576,r=32,p=16$" + SALT + "$" + DIGEST, "out of bounds"),
    ("scrypt$n=16384,r=0,p=1$" + SALT + "$" + DIGEST, "out of bounds"),
    ("scrypt$n=16384,r=8,p=1$not*base64$" + DIGEST, "salt is not base64"),
    ("scrypt$n=16384,r=8,p=1$" + _b64(b"s" * 4) + "$" + DIGEST, "salt must be"),
    ("scrypt$n=16384,r=8,p=1$" + SALT + "$" + _b64(b"d" * 8), "hash must be"),
])
def test_a_malformed_hash_raises_a_clear_error(stored, message):
    with pytest.raises(PinHashError, match=message):
        verify_pin("1234", stored)


def test_older_parameters_in_the_string_still_verify():
    import hashlib

    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"9876", salt=salt, n=16384, r=8, p=1, dklen=32)
    stored = f"scrypt$n=16384,r=8,p=1${_b64(salt)}${_b64(digest)}"
    assert verify_pin("9876", stored) is True
    assert verify_pin("9875", stored) is False
