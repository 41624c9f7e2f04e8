"""The technician PIN: a salted scrypt hash kept in ``diagnostics.pin_hash``. Qt-free.

The stored form names its parameters, so they can be raised later without breaking old
hashes: ``scrypt$n=32768,r=8,p=1$<salt base64>$<hash base64>`` (about 70 ms on the kiosk's
CPU, 32 MiB of memory). ``kiosk diag hash-pin`` makes one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets

from kiosk.errors import KioskError

SCHEME = "scrypt"
N, R, P = 2**15, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
PIN_DIGITS = (4, 12)

# Bounds on what a stored hash may ask for: a hash edited by hand must not make every PIN
# check take minutes or gigabytes.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16
_MAX_MEM = 256 * 1024 * 1024
_PARAMS = re.compile(r"n=(\d+),r=(\d+),p=(\d+)")
_PIN = re.compile(rf"[0-9]{{{PIN_DIGITS[0]},{PIN_DIGITS[1]}}}")


class PinHashError(KioskError, ValueError):
    """``diagnostics.pin_hash`` is not a hash this code can check; says what is wrong."""


def valid_pin(pin: str) -> bool:
    """4 to 12 ASCII digits."""
    return isinstance(pin, str) and _PIN.fullmatch(pin) is not None


def hash_pin(pin: str) -> str:
    """A new salted hash of ``pin``; raises ValueError for a PIN that is not 4-12 digits."""
    if not valid_pin(pin):
        raise ValueError(f"a PIN is {PIN_DIGITS[0]} to {PIN_DIGITS[1]} digits")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _scrypt(pin, salt, N, R, P, HASH_BYTES)
    return f"{SCHEME}$n={N},r={R},p={P}${_b64(salt)}${_b64(digest)}"


def verify_pin(pin: str, pin_hash: str) -> bool:
    """Whether ``pin`` matches ``pin_hash`` (compared in constant time).

    Raises PinHashError when ``pin_hash`` is malformed or asks for parameters out of bounds.
    """
    n, r, p, salt, expected = parse_pin_hash(pin_hash)
    if not isinstance(pin, str):
        return False
    digest = _scrypt(pin, salt, n, r, p, len(expected))
    return hmac.compare_digest(digest, expected)


def parse_pin_hash(pin_hash: str) -> tuple[int, int, int, bytes, bytes]:
    """``(n, r, p, salt, hash)`` of a stored hash, or PinHashError naming the problem."""
    if not isinstance(pin_hash, str) or not pin_hash.strip():
        raise PinHashError("diagnostics.pin_hash is empty; make one with `kiosk diag hash-pin`")
    parts = pin_hash.strip().split("$")
    if len(parts) != 4 or parts[0] != SCHEME:
        raise PinHashError('diagnostics.pin_hash is not of the form "scrypt$n=..,r=..,p=..$'
                           'salt$hash"; make one with `kiosk diag hash-pin`')
    params = _PARAMS.fullmatch(parts[1])
    if params is None:
        raise PinHashError("diagnostics.pin_hash: parameters must read n=<int>,r=<int>,p=<int>")
    n, r, p = (int(v) for v in params.groups())
    if not (2 <= n <= _MAX_N and n & (n - 1) == 0):
        raise PinHashError(f"diagnostics.pin_hash: n must be a power of 2 up to {_MAX_N}")
    if not (1 <= r <= _MAX_R and 1 <= p <= _MAX_P) or 128 * r * n * p > _MAX_MEM:
        raise PinHashError("diagnostics.pin_hash: r or p out of bounds")
    salt, digest = _unb64(parts[2], "salt"), _unb64(parts[3], "hash")
    if not 8 <= len(salt) <= 64:
        raise PinHashError("diagnostics.pin_hash: the salt must be 8 to 64 bytes")
    if not 16 <= len(digest) <= 64:
        raise PinHashError("diagnostics.pin_hash: the hash must be 16 to 64 bytes")
    return n, r, p, salt, digest


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=length,
                          maxmem=_MAX_MEM + 1024 * 1024)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise PinHashError(f"diagnostics.pin_hash: the {what} is not base64") from None
