"""Bearer and Basic credentials: parsing the header, checking token syntax, finding the owner.

Tokens are looked up by a hash of the token, so the lookup never compares secrets itself;
the match is then confirmed with a constant-time comparison.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Generic, Protocol, TypeVar


class HasToken(Protocol):
    @property
    def token(self) -> str: ...


T = TypeVar("T", bound=HasToken)


def valid_token(token: object) -> bool:
    """A non-empty string of printable ASCII without spaces."""
    return (isinstance(token, str) and bool(token) and token.isascii() and token.isprintable()
            and " " not in token)


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8")).digest()


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
        digest = token_hash(owner.token)
        if digest in self._by_hash:
            return self._by_hash[digest]
        self._by_hash[digest] = owner
        return None

    def find(self, token: str | None) -> T | None:
        if not token:
            return None
        owner = self._by_hash.get(token_hash(token))
        if owner is None or not hmac.compare_digest(owner.token.encode(), token.encode()):
            return None
        return owner
