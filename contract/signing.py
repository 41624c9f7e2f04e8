"""Checking the Ed25519 signature of a menu bundle (central API section 2). Qt-free.

A bundle is ``{"menu": {...}, "key_id": "...", "signature": "<base64>"}``; the signature
covers ``canonical_bytes(menu)`` and must verify with the trusted key that ``key_id`` names
(the kiosk's ``central.menu_keys``: key id -> base64 of the raw 32-byte public key).
``cryptography`` is imported on the first verification, not at start-up.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

BUNDLE_KEYS = frozenset({"menu", "key_id", "signature"})

# SignatureError.kind: what a kiosk reports when it rejects a bundle for it.
NOT_A_BUNDLE = "not a bundle"
UNKNOWN_KEY = "unknown key id"
BAD_KEY = "unusable trusted key"
BAD_SIGNATURE = "bad signature"


class SignatureError(Exception):
    """A bundle that is malformed or whose signature does not verify. ``kind`` is one of
    the constants above; the message says what exactly is wrong."""

    def __init__(self, message: str, kind: str = BAD_SIGNATURE):
        super().__init__(message)
        self.kind = kind


def canonical_bytes(menu: Any) -> bytes:
    """The bytes a menu signature covers (central API section 2)."""
    return json.dumps(menu, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def decode_b64(text: str, what: str) -> bytes:
    """Strict base64; raises ValueError naming ``what``."""
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{what} is not valid base64") from None


def verify_bundle(bundle: Any, public_keys: Mapping[str, str]) -> dict[str, Any]:
    """The menu of ``bundle`` if its signature verifies with the named trusted key.

    ``public_keys`` maps key ids to base64 raw public keys (the kiosk's ``central.menu_keys``).
    Raises ``SignatureError`` saying what is wrong; it never returns an unverified menu.
    """
    if not isinstance(bundle, Mapping):
        raise SignatureError(f"the bundle is {type(bundle).__name__}, not an object",
                             NOT_A_BUNDLE)
    missing = sorted(BUNDLE_KEYS - bundle.keys())
    if missing:
        raise SignatureError(f"the bundle has no {', '.join(missing)}", NOT_A_BUNDLE)
    unknown = sorted(str(k) for k in bundle.keys() - BUNDLE_KEYS)
    if unknown:
        raise SignatureError(f"the bundle has unknown keys: {', '.join(unknown)}", NOT_A_BUNDLE)
    menu, key_id, signature = bundle["menu"], bundle["key_id"], bundle["signature"]
    if not isinstance(menu, dict):
        raise SignatureError("the bundle's menu is not an object", NOT_A_BUNDLE)
    if not isinstance(key_id, str):
        raise SignatureError("the bundle's key_id is not a string", NOT_A_BUNDLE)
    if key_id not in public_keys:
        raise SignatureError(f"key {key_id!r} is not a trusted key", UNKNOWN_KEY)
    if not isinstance(signature, str):
        raise SignatureError("the bundle's signature is not a string", NOT_A_BUNDLE)

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        raw_public = decode_b64(public_keys[key_id], f"trusted key {key_id!r}")
        public = Ed25519PublicKey.from_public_bytes(raw_public)
    except (ValueError, TypeError, AttributeError) as exc:
        raise SignatureError(f"trusted key {key_id!r} is not usable: {exc}", BAD_KEY) from None
    try:
        raw_signature = decode_b64(signature, "the signature")
    except ValueError as exc:
        raise SignatureError(str(exc), BAD_SIGNATURE) from None
    try:
        public.verify(raw_signature, canonical_bytes(menu))
    except InvalidSignature:
        raise SignatureError(f"signature does not verify with key {key_id!r}",
                             BAD_SIGNATURE) from None
    return menu
