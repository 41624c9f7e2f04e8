"""Menu bundle signing: canonical bytes, sign, verify, and every way a bundle can be wrong."""

from __future__ import annotations

import base64
import copy
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.errors import ConfigError, SignatureError
from central.signing import (
    canonical_bytes,
    generate_keypair,
    load_private_key,
    public_key_b64,
    sign_menu,
    verify_bundle,
)

MENU = {"version": 3, "default_locale": "zh_CN", "title": {"zh_CN": "住房", "en": "Housing"}}


def test_keypair_is_base64_of_raw_32_bytes():
    private_b64, public_b64 = generate_keypair()
    assert len(base64.b64decode(private_b64)) == 32
    assert len(base64.b64decode(public_b64)) == 32
    assert public_key_b64(load_private_key(private_b64)) == public_b64


def test_canonical_bytes_are_the_spec_formula():
    expected = json.dumps(MENU, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")
    assert canonical_bytes(MENU) == expected
    assert "住房".encode() in canonical_bytes(MENU)  # not \\u escapes


def test_sign_then_verify_returns_the_menu():
    private_b64, public_b64 = generate_keypair()
    bundle = sign_menu(MENU, private_b64, "admin-2026")
    assert set(bundle) == {"menu", "key_id", "signature"}
    assert bundle["key_id"] == "admin-2026"
    # The bundle survives a JSON round trip, as it does over the wire.
    assert verify_bundle(json.loads(json.dumps(bundle)), {"admin-2026": public_b64}) == MENU


@pytest.mark.parametrize("tamper, message", [
    (lambda b: b["menu"].__setitem__("version", 4), "does not verify"),
    (lambda b: b["menu"]["title"].__setitem__("en", "Housing!"), "does not verify"),
    (lambda b: b.__setitem__("key_id", "admin-2024"), "not a trusted key"),
    (lambda b: b.__setitem__("key_id", "admin-2025"), "'admin-2025' is not usable"),
    (lambda b: b.__setitem__("signature", "not base64!"), "not valid base64"),
    (lambda b: b.__setitem__("signature", base64.b64encode(b"x" * 64).decode()),
     "does not verify"),
    (lambda b: b.__setitem__("signature", base64.b64encode(b"short").decode()),
     "does not verify"),
    (lambda b: b.pop("signature"), "has no signature"),
    (lambda b: b.__setitem__("extra", 1), "unknown keys"),
    (lambda b: b.__setitem__("menu", [1]), "menu is not an object"),
])
def test_tampered_bundle_fails_verify(tamper, message):
    private_b64, public_b64 = generate_keypair()
    bundle = copy.deepcopy(sign_menu(MENU, private_b64, "admin-2026"))
    tamper(bundle)
    with pytest.raises(SignatureError, match=message):
        verify_bundle(bundle, {"admin-2026": public_b64, "admin-2025": "broken"})


def test_signature_by_another_key_fails_verify():
    other_private, _ = generate_keypair()
    _, trusted_public = generate_keypair()
    bundle = sign_menu(MENU, other_private, "admin-2026")
    with pytest.raises(SignatureError, match="does not verify with key 'admin-2026'"):
        verify_bundle(bundle, {"admin-2026": trusted_public})


def test_not_a_bundle():
    with pytest.raises(SignatureError, match="not an object"):
        verify_bundle([], {})


def test_pem_private_key_is_accepted():
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    assert public_key_b64(load_private_key(pem)) == public_key_b64(key)


@pytest.mark.parametrize("text, message", [
    ("@@@", "not valid base64"),
    (base64.b64encode(b"x" * 31).decode(), "31 bytes, expected 32"),
    ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a usable PEM"),
])
def test_bad_private_keys(text, message):
    with pytest.raises(ConfigError, match=message):
        load_private_key(text)
