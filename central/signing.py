"""The central's view of menu bundle signing: ``contract.signing`` (the one implementation
the kiosk and the admin tool use too), with its errors turned into the central's own
(``ConfigError`` for keys, ``SignatureError`` for bundles)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from contract import signing as _contract
from contract.signing import BUNDLE_KEYS as BUNDLE_KEYS  # re-exported
from contract.signing import bundle_version as bundle_version  # re-exported
from contract.signing import canonical_bytes as canonical_bytes  # re-exported
from contract.signing import generate_keypair as generate_keypair  # re-exported
from contract.signing import public_key_b64 as public_key_b64  # re-exported

from .errors import ConfigError, SignatureError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def load_private_key(data: str | bytes) -> Ed25519PrivateKey:
    """A private key from base64 of its raw 32 bytes, or from an unencrypted PEM block."""
    try:
        return _contract.load_private_key(data)
    except _contract.SigningKeyError as exc:
        raise ConfigError(str(exc)) from None


def read_private_key(path: str | Path) -> Ed25519PrivateKey:
    """Read a private key file; errors name the file."""
    try:
        return _contract.read_private_key(path)
    except _contract.SigningKeyError as exc:
        raise ConfigError(str(exc)) from None


def sign_menu(menu: Mapping[str, Any], private_key: Ed25519PrivateKey | str,
              key_id: str) -> dict[str, Any]:
    """The signed bundle ``{"menu", "key_id", "signature"}`` for ``menu``."""
    try:
        return _contract.sign_menu(menu, private_key, key_id)
    except _contract.SigningKeyError as exc:
        raise ConfigError(str(exc)) from None


def verify_bundle(bundle: Any, public_keys: Mapping[str, str]) -> dict[str, Any]:
    """The menu of ``bundle`` if its signature verifies with the named trusted key; raises
    the central's ``SignatureError`` with the contract's message. Never returns an
    unverified menu."""
    try:
        return _contract.verify_bundle(bundle, public_keys)
    except _contract.SignatureError as exc:
        raise SignatureError(str(exc)) from None
