"""Bearer and Basic credentials: parsing the header, checking token syntax, finding the owner.

Tokens are kept only as their SHA-256 (``token_hash``): the central holds no token it could
leak. Tokens are long random strings, so a plain hash of one cannot be guessed back; a file
may give ``token_sha256 = "<hex>"`` instead of the token itself. The lookup is by hash, and
the match is confirmed with a constant-time comparison.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from typing import Generic, Protocol, TypeVar

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class HasToken(Protocol):
    @property
    def token_hash(self) -> bytes: ...


T = TypeVar("T", bound=HasToken)


def valid_token(token: object) -> bool:
    """A non-empty string of printable ASCII without spaces."""
    return (isinstance(token, str) and bool(token) and token.isascii() and token.isprintable()
            and " " not in token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


def parse_token_sha256(value: object) -> bytes | None:
    """The digest of a ``token_sha256`` entry (64 lower-case hex digits), or None."""
    if not isinstance(value, str) or not _HEX64.match(value.strip().lower()):
        return None
    return bytes.fromhex(value.strip().lower())


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def basic_password(authorization: str | None) -> str | None:
    """The password of an ``Authorization: Basic <base64 user:password>`` header, or None."""
    if not authorization:
        return None
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic" or not encoded.strip():
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    _, sep, password = decoded.partition(":")
    return password if sep and password else None


class TokenIndex(Generic[T]):
    """Owners of tokens (kiosks, admins), found by the token they present."""

    def __init__(self) -> None:
        self._by_hash: dict[bytes, T] = {}

    def add(self, owner: T) -> T | None:
        """Index ``owner``; returns the owner already holding the same token, if any."""
        if owner.token_hash in self._by_hash:
            return self._by_hash[owner.token_hash]
        self._by_hash[owner.token_hash] = owner
        return None

    def find(self, token: str | None) -> T | None:
        if not token:
            return None
        return self.find_hash(token_hash(token))

    def find_hash(self, digest: bytes) -> T | None:
        owner = self._by_hash.get(digest)
        if owner is None or not hmac.compare_digest(owner.token_hash, digest):
            return None
        return owner
