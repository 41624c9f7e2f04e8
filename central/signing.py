"""Ed25519 signing of menu bundles, as in central API section 2.

Keys travel as base64 of their raw 32 bytes: the kiosk's ``central.menu_keys`` holds public
keys that way, and ``kiosk-central keygen`` writes private keys that way. A private key file
may also be PEM (PKCS#8, as ``openssl genpkey -algorithm ed25519`` writes it).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import ConfigError, SignatureError

BUNDLE_KEYS = frozenset({"menu", "key_id", "signature"})
_RAW = serialization.Encoding.Raw, serialization.PublicFormat.Raw


def generate_keypair() -> tuple[str, str]:
    """A new key pair as ``(private_b64, public_b64)``, each base64 of the raw 32 bytes."""
    key = Ed25519PrivateKey.generate()
    raw = key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                            serialization.NoEncryption())
    return base64.b64encode(raw).decode("ascii"), public_key_b64(key)


def public_key_b64(private_key: Ed25519PrivateKey) -> str:
    """The public half of ``private_key`` as base64 of its raw 32 bytes."""
    return base64.b64encode(private_key.public_key().public_bytes(*_RAW)).decode("ascii")


def load_private_key(data: str | bytes) -> Ed25519PrivateKey:
    """A private key from base64 of its raw 32 bytes, or from an unencrypted PEM block."""
    text = data.decode("ascii", "replace") if isinstance(data, bytes) else data
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"not a usable PEM private key ({exc})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(f"the PEM key is {type(key).__name__}, not Ed25519")
        return key
    raw = _b64(text, "the private key")
    if len(raw) != 32:
        raise ConfigError(f"the private key is {len(raw)} bytes, expected 32 (base64 of the "
                          "raw Ed25519 key, or PEM)")
    return Ed25519PrivateKey.from_private_bytes(raw)


def read_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read a private key file (see ``load_private_key``); errors name the file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the signing key ({exc.strerror})") from None
    try:
        return load_private_key(data)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def canonical_bytes(menu: Any) -> bytes:
    """The bytes a menu signature covers (central API section 2)."""
    return json.dumps(menu, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def sign_menu(menu: Mapping[str, Any], private_key: Ed25519PrivateKey | str,
              key_id: str) -> dict[str, Any]:
    """The signed bundle ``{"menu", "key_id", "signature"}`` for ``menu``."""
    if isinstance(private_key, str):
        private_key = load_private_key(private_key)
    if not isinstance(key_id, str) or not key_id:
        raise ConfigError("key_id must be a non-empty string")
    signature = private_key.sign(canonical_bytes(menu))
    return {"menu": menu, "key_id": key_id,
            "signature": base64.b64encode(signature).decode("ascii")}


def verify_bundle(bundle: Any, public_keys: Mapping[str, str]) -> dict[str, Any]:
    """The menu of ``bundle`` if its signature verifies with the named trusted key.

    ``public_keys`` maps key ids to base64 raw public keys (the kiosk's ``central.menu_keys``).
    Raises ``SignatureError`` saying what is wrong; it never returns an unverified menu.
    """
    if not isinstance(bundle, Mapping):
        raise SignatureError(f"the bundle is {type(bundle).__name__}, not an object")
    missing = sorted(BUNDLE_KEYS - bundle.keys())
    if missing:
        raise SignatureError(f"the bundle has no {', '.join(missing)}")
    unknown = sorted(str(k) for k in bundle.keys() - BUNDLE_KEYS)
    if unknown:
        raise SignatureError(f"the bundle has unknown keys: {', '.join(unknown)}")
    menu, key_id, signature = bundle["menu"], bundle["key_id"], bundle["signature"]
    if not isinstance(menu, dict):
        raise SignatureError("the bundle's menu is not an object")
    if not isinstance(key_id, str):
        raise SignatureError("the bundle's key_id is not a string")
    if key_id not in public_keys:
        raise SignatureError(f"key {key_id!r} is not a trusted key")
    if not isinstance(signature, str):
        raise SignatureError("the bundle's signature is not a string")
    try:
        raw_public = _b64(public_keys[key_id], f"trusted key {key_id!r}")
        public = Ed25519PublicKey.from_public_bytes(raw_public)
    except (ConfigError, ValueError) as exc:
        raise SignatureError(f"trusted key {key_id!r} is not usable: {exc}") from None
    try:
        raw_signature = _b64(signature, "the signature")
    except ConfigError as exc:
        raise SignatureError(str(exc)) from None
    try:
        public.verify(raw_signature, canonical_bytes(menu))
    except InvalidSignature:
        raise SignatureError(f"signature does not verify with key {key_id!r}") from None
    return menu


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{what} is not valid base64") from None
