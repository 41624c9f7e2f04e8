"""The technician PIN: a salted scrypt hash kept in ``diagnostics.pin_hash``. Qt-free.

The stored form names its parameters, so they can be raised later without breaking old
hashes: ``scrypt$n=32768,r=8,p=1$<salt base64>$<hash base64>`` (about 70 ms on the kiosk's
CPU, 32 MiB of memory). ``kiosk diag hash-pin`` makes one, for a PIN of at least 6 digits.

Technicians are named: ``[diagnostics.technicians]`` maps each name to that person's hash, and
the PIN typed identifies who it is (``identify``). The older shared ``pin_hash`` still opens
diagnostics, as the unnamed technician ``UNNAMED``, with a warning.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import re
import secrets

from kiosk.errors import KioskError

log = logging.getLogger(__name__)

SCHEME = "scrypt"
N, R, P = 2**15, 8, 1
SALT_BYTES = 16
HASH_BYTES = 32
PIN_DIGITS = (6, 12)  # what `kiosk diag hash-pin` accepts
LEGACY_MIN_DIGITS = 4  # hashes made before names and 6 digits still open the pad, with a warning
UNNAMED = "(unnamed)"  # the technician of the shared diagnostics.pin_hash

# Bounds on what a stored hash may ask for: a hash edited by hand must not make every PIN
# check take minutes or gigabytes.
_MAX_N, _MAX_R, _MAX_P = 2**20, 32, 16
_MAX_MEM = 256 * 1024 * 1024
_PARAMS = re.compile(r"n=(\d+),r=(\d+),p=(\d+)")
_PIN = re.compile(rf"[0-9]{{{LEGACY_MIN_DIGITS},{PIN_DIGITS[1]}}}")


class PinHashError(KioskError, ValueError):
    """``diagnostics.pin_hash`` is not a hash this code can check; says what is wrong."""


def valid_pin(pin: str, minimum: int = PIN_DIGITS[0]) -> bool:
    """``minimum`` (6 unless checking an old PIN) to 12 ASCII digits."""
    return (isinstance(pin, str) and _PIN.fullmatch(pin) is not None
            and len(pin) >= max(minimum, LEGACY_MIN_DIGITS))


def hash_pin(pin: str) -> str:
    """A new salted hash of ``pin``; raises ValueError for a PIN that is not 6-12 digits."""
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


def technician_hashes(technicians: dict[str, str], pin_hash: str = "") -> dict[str, str]:
    """Name -> hash of everyone who may open diagnostics: the named technicians, then the
    shared ``pin_hash`` as ``UNNAMED`` (when set)."""
    found = {name: h for name, h in technicians.items() if h}
    if pin_hash:
        found.setdefault(UNNAMED, pin_hash)
    return found


def identify(pin: str, hashes: dict[str, str]) -> tuple[str | None, list[str]]:
    """``(name, bad)``: whose PIN ``pin`` is (None: nobody's) and the names whose hash is
    malformed. Every hash is tried, even after a match, so the time taken does not tell
    which technician matched (N technicians x about 70 ms: fine for a handful)."""
    if not valid_pin(pin, LEGACY_MIN_DIGITS):
        return None, []
    found, bad = None, []
    for name, pin_hash in hashes.items():
        try:
            if verify_pin(pin, pin_hash) and found is None:
                found = name
        except PinHashError as exc:
            log.error("technician %s: %s", name, exc)
            bad.append(name)
    return found, bad


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
