"""The release manifest and its signature (issue #15): shape, version order, and the
purpose tag that keeps menu and release signatures apart."""

from __future__ import annotations

import pytest

from contract.release import (
    ReleaseError,
    is_newer,
    manifest_problems,
    parse_version,
    sign_release,
    verify_release,
)
from contract.signing import SignatureError, generate_keypair, sign_menu, verify_bundle

KEY = generate_keypair()
WHEEL = {"name": "village_kiosk-0.2.0-py3-none-any.whl", "size": 10, "sha256": "a" * 64}
MANIFEST = {"version": "0.2.0", "project": "village-kiosk", "min_from": "0.1.0", "notes": "",
            "wheels": [WHEEL]}


def test_versions_order_numerically():
    assert is_newer("0.10.0", "0.9.9") and not is_newer("0.2", "0.2.0")
    assert parse_version("1") == (1, 0, 0, 0)
    for bad in ("1.0a1", "01.2", "", None, "1.2.3.4.5"):
        with pytest.raises(ReleaseError):
            parse_version(bad)


@pytest.mark.parametrize("change, problem", [
    ({"wheels": []}, "$.wheels"),
    ({"wheels": [{**WHEEL, "sha256": "A" * 64}]}, "sha256"),
    ({"wheels": [WHEEL, WHEEL]}, "listed twice"),
    ({"wheels": [{**WHEEL, "size": 0}]}, "size"),
    ({"min_from": "0.3.0"}, "greater than the version"),
    ({"extra": 1}, "unknown key"),
])
def test_manifest_problems(change, problem):
    problems = manifest_problems({**MANIFEST, **change})
    assert any(problem in p for p in problems), problems


def test_sign_and_verify_round_trip_and_tampering():
    signed = sign_release(MANIFEST, KEY[0], "rel")
    assert verify_release(signed, {"rel": KEY[1]}) == MANIFEST
    assert verify_release({**signed, "rollout": {"id": 3}}, {"rel": KEY[1]}) == MANIFEST
    tampered = {**signed, "release": {**MANIFEST, "notes": "x"}}
    with pytest.raises(SignatureError, match="does not verify"):
        verify_release(tampered, {"rel": KEY[1]})
    with pytest.raises(SignatureError, match="not a trusted release key"):
        verify_release(signed, {"menu": KEY[1]})


def test_menu_and_release_signatures_never_cross():
    as_menu = sign_menu(MANIFEST, KEY[0], "rel")  # the same key, the menu's way
    with pytest.raises(SignatureError):
        verify_release({"release": MANIFEST, "key_id": "rel", "signature": as_menu["signature"]},
                       {"rel": KEY[1]})
    signed = sign_release(MANIFEST, KEY[0], "rel")
    with pytest.raises(SignatureError):
        verify_bundle({"menu": MANIFEST, "key_id": "rel", "signature": signed["signature"]},
                      {"rel": KEY[1]})
