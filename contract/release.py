"""Software releases (issue #15): the manifest, its canonical signing, version order.
Qt-free, HTTP-free; the admin tool signs, the central checks and serves, the kiosk verifies.

A manifest names the project's version, the wheels a kiosk installs (file name, size,
SHA-256), the oldest version it may update from, and notes. A signed release is
``{"release": manifest, "key_id": "...", "signature": "<base64>"}``. The signature covers
``canonical_bytes({"purpose": PURPOSE, "release": manifest})``: the purpose tag keeps a menu
signature (over the bare menu document) from ever verifying as a release, and the kiosk
trusts release keys from their own table (``central.release_keys``), never its menu keys.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contract.errors import ContractError
from contract.signing import (
    BAD_KEY,
    BAD_SIGNATURE,
    NOT_A_BUNDLE,
    UNKNOWN_KEY,
    SignatureError,
    SigningKeyError,
    canonical_bytes,
    decode_b64,
    load_private_key,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PURPOSE = "village-kiosk release"
SIGNED_KEYS = frozenset({"release", "key_id", "signature"})
MANIFEST_KEYS = frozenset({"version", "project", "wheels", "min_from", "notes", "created_at"})
WHEEL_KEYS = frozenset({"name", "size", "sha256"})
MAX_WHEELS = 500
UPLOAD_CHUNK = 1024 * 1024  # an admin uploads a wheel in pieces of this size
_VERSION = re.compile(r"^(0|[1-9][0-9]{0,8})(\.(0|[1-9][0-9]{0,8})){0,3}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_WHEEL_NAME = re.compile(r"^[A-Za-z0-9_.+-]{1,200}\.whl$")
_PROJECT = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


class ReleaseError(ContractError):
    """A manifest that breaks the release rules; ``problems`` lists each, with its path."""

    def __init__(self, problems: list[str]):
        super().__init__(problems[0] if problems else "not a valid release")
        self.problems = problems


def parse_version(text: Any) -> tuple[int, ...]:
    """``"0.4.12"`` as ``(0, 4, 12)``; release versions are one to four dotted integers so
    that every kiosk orders them the same way. Raises ``ReleaseError``."""
    if not isinstance(text, str) or not _VERSION.match(text):
        raise ReleaseError([f"{text!r} is not a release version (1 to 4 dotted integers)"])
    parts = tuple(int(p) for p in text.split("."))
    return parts + (0,) * (4 - len(parts))


def is_newer(candidate: str, running: str) -> bool:
    """True when ``candidate`` is a greater version than ``running``."""
    return parse_version(candidate) > parse_version(running)


def manifest_problems(manifest: Any) -> list[str]:
    """Everything wrong with ``manifest`` (empty when it is valid)."""
    if not isinstance(manifest, Mapping):
        return ["$: the manifest is not an object"]
    problems = [f"$.{k}: unknown key" for k in sorted(str(k) for k in manifest.keys()
                                                       - MANIFEST_KEYS)]
    for key in ("version", "min_from"):
        try:
            parse_version(manifest.get(key))
        except ReleaseError as exc:
            problems.append(f"$.{key}: {exc}")
    if not problems and parse_version(manifest["min_from"]) > parse_version(manifest["version"]):
        problems.append("$.min_from: greater than the version itself")
    if not isinstance(manifest.get("project"), str) or not _PROJECT.match(manifest["project"]):
        problems.append("$.project: expected the project's distribution name")
    if not isinstance(manifest.get("notes", ""), str):
        problems.append("$.notes: expected a string")
    if not isinstance(manifest.get("created_at", ""), str):
        problems.append("$.created_at: expected an RFC 3339 string")
    problems += _wheel_problems(manifest.get("wheels"))
    return problems


def _wheel_problems(wheels: Any) -> list[str]:
    if not isinstance(wheels, list) or not 1 <= len(wheels) <= MAX_WHEELS:
        return [f"$.wheels: expected a list of 1 to {MAX_WHEELS} wheels"]
    problems, names = [], set()
    for i, wheel in enumerate(wheels):
        where = f"$.wheels[{i}]"
        if not isinstance(wheel, Mapping) or set(wheel) != WHEEL_KEYS:
            problems.append(f"{where}: expected exactly name, size and sha256")
            continue
        if not isinstance(wheel["name"], str) or not _WHEEL_NAME.match(wheel["name"]):
            problems.append(f"{where}.name: not a wheel file name")
        elif wheel["name"] in names:
            problems.append(f"{where}.name: {wheel['name']} is listed twice")
        else:
            names.add(wheel["name"])
        size = wheel["size"]
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            problems.append(f"{where}.size: expected a positive integer")
        if not isinstance(wheel["sha256"], str) or not _SHA256.match(wheel["sha256"]):
            problems.append(f"{where}.sha256: expected 64 lower-case hex digits")
    return problems


def check_manifest(manifest: Any) -> dict[str, Any]:
    """``manifest`` if valid; raises ``ReleaseError`` otherwise."""
    problems = manifest_problems(manifest)
    if problems:
        raise ReleaseError(problems)
    return dict(manifest)


def signed_bytes(manifest: Mapping[str, Any]) -> bytes:
    """The bytes a release signature covers: the manifest under the release purpose tag."""
    return canonical_bytes({"purpose": PURPOSE, "release": manifest})


def sign_release(manifest: Mapping[str, Any], private_key: Ed25519PrivateKey | str,
                 key_id: str) -> dict[str, Any]:
    """The signed release for a valid ``manifest``."""
    check_manifest(manifest)
    if isinstance(private_key, str):
        private_key = load_private_key(private_key)
    if not isinstance(key_id, str) or not key_id:
        raise SigningKeyError("key_id must be a non-empty string")
    signature = private_key.sign(signed_bytes(manifest))
    return {"release": dict(manifest), "key_id": key_id,
            "signature": base64.b64encode(signature).decode("ascii")}


def verify_release(signed: Any, release_keys: Mapping[str, str]) -> dict[str, Any]:
    """The manifest of ``signed`` if its signature verifies with the named trusted release
    key and the manifest is valid. Members beside the three signed ones (the central's
    ``rollout``) are ignored. Raises ``SignatureError`` or ``ReleaseError``."""
    if not isinstance(signed, Mapping) or not SIGNED_KEYS <= signed.keys():
        raise SignatureError("not a signed release (release, key_id, signature)", NOT_A_BUNDLE)
    manifest, key_id, signature = signed["release"], signed["key_id"], signed["signature"]
    if not isinstance(manifest, dict) or not isinstance(signature, str):
        raise SignatureError("the signed release is malformed", NOT_A_BUNDLE)
    if not isinstance(key_id, str) or key_id not in release_keys:
        raise SignatureError(f"key {key_id!r} is not a trusted release key", UNKNOWN_KEY)

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        public = Ed25519PublicKey.from_public_bytes(
            decode_b64(release_keys[key_id], f"release key {key_id!r}"))
        raw_signature = decode_b64(signature, "the signature")
    except (ValueError, TypeError) as exc:
        raise SignatureError(f"release key {key_id!r} or signature unusable: {exc}",
                             BAD_KEY) from None
    try:
        public.verify(raw_signature, signed_bytes(manifest))
    except InvalidSignature:
        raise SignatureError(f"release signature does not verify with key {key_id!r}",
                             BAD_SIGNATURE) from None
    return check_manifest(manifest)
