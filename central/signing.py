"""Ed25519 signing of menu bundles, as in central API section 2.

Keys travel as base64 of their raw 32 bytes: the kiosk's ``central.menu_keys`` holds public
keys that way, and ``kiosk-central keygen`` writes private keys that way. A private key file
may also be PEM (PKCS#8, as ``openssl genpkey -algorithm ed25519`` writes it).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import signing as _kiosk_signature
from contract.signing import BUNDLE_KEYS as BUNDLE_KEYS  # re-exported
from contract.signing import canonical_bytes as canonical_bytes  # re-exported

from .errors import ConfigError, SignatureError

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

    The kiosk's own check (``contract.signing.verify_bundle``), raising the central's
    ``SignatureError`` with the same message; it never returns an unverified menu.
    """
    try:
        return _kiosk_signature.verify_bundle(bundle, public_keys)
    except _kiosk_signature.SignatureError as exc:
        raise SignatureError(str(exc)) from None


def _b64(text: str, what: str) -> bytes:
    try:
        return _kiosk_signature.decode_b64(text, what)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
