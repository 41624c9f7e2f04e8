"""Ed25519 menu bundles (central API section 2): canonical bytes, signing, verification.
Qt-free, HTTP-free; the kiosk verifies, the central and the admin tool sign and verify.

A bundle is ``{"menu": {...}, "key_id": "...", "signature": "<base64>"}``; the signature
covers ``canonical_bytes(menu)`` and must verify with the trusted key that ``key_id`` names
(the kiosk's ``central.menu_keys``: key id -> base64 of the raw 32-byte public key). Private
keys travel as base64 of their raw 32 bytes, or as unencrypted PEM (PKCS#8, as
``openssl genpkey -algorithm ed25519`` writes it). ``cryptography`` is imported on first
use, not at start-up.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract.errors import ContractError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

BUNDLE_KEYS = frozenset({"menu", "key_id", "signature"})

# SignatureError.kind: what a kiosk reports when it rejects a bundle for it.
NOT_A_BUNDLE = "not a bundle"
UNKNOWN_KEY = "unknown key id"
BAD_KEY = "unusable trusted key"
BAD_SIGNATURE = "bad signature"


class SignatureError(ContractError):
    """A bundle that is malformed or whose signature does not verify. ``kind`` is one of
    the constants above; the message says what exactly is wrong."""

    def __init__(self, message: str, kind: str = BAD_SIGNATURE):
        super().__init__(message)
        self.kind = kind


class SigningKeyError(ContractError):
    """A private key (or key file) that cannot be used; the message says why."""


def bundle_version(bundle: Any) -> int | None:
    """The version a bundle's menu claims, unverified (for reports and comparisons only)."""
    menu = bundle.get("menu") if isinstance(bundle, Mapping) else None
    version = menu.get("version") if isinstance(menu, Mapping) else None
    return version if isinstance(version, int) and not isinstance(version, bool) else None


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


# --- signing, with a private key --------------------------------------------------------

def generate_keypair() -> tuple[str, str]:
    """A new key pair as ``(private_b64, public_b64)``, each base64 of the raw 32 bytes."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw).decode("ascii"), public_key_b64(key)


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    """The public half of ``private_key`` as base64 of its raw 32 bytes."""
    from cryptography.hazmat.primitives import serialization

    raw = private_key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def load_private_key(data: str | bytes) -> Ed25519PrivateKey:
    """A private key from base64 of its raw 32 bytes, or from an unencrypted PEM block;
    raises ``SigningKeyError``."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError) as exc:
            raise SigningKeyError(f"not a usable PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise SigningKeyError(f"the PEM key is {type(key).__name__}, not Ed25519")
        return key
    try:
        raw = decode_b64(text, "the private key")
    except ValueError as exc:
        raise SigningKeyError(str(exc)) from None
    if len(raw) != 32:
        raise SigningKeyError(f"the private key is {len(raw)} bytes, expected 32 (base64 of "
                              "the raw Ed25519 key, or PEM)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def read_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read a private key file (see ``load_private_key``); errors name the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot read the signing key ({exc.strerror})") from None
    try:
        return load_private_key(data)
    except SigningKeyError as exc:
        raise SigningKeyError(f"{path}: {exc}") from None


def sign_menu(menu: Mapping[str, Any], private_key: Ed25519PrivateKey | str,
              key_id: str) -> dict[str, Any]:
    """The signed bundle ``{"menu", "key_id", "signature"}`` for ``menu``."""
    if isinstance(private_key, str):
        private_key = load_private_key(private_key)
    if not isinstance(key_id, str) or not key_id:
        raise SigningKeyError("key_id must be a non-empty string")
    signature = private_key.sign(canonical_bytes(menu))
    return {"menu": menu, "key_id": key_id,
            "signature": base64.b64encode(signature).decode("ascii")}
