"""contract.signing and contract.keyfile: the one implementation of bundles and key files
that the kiosk, the central and the admin tool share (the central's wrapper is tested in
tests/central/test_central_signing.py)."""

from __future__ import annotations

import base64
import stat

import pytest

from contract import menu as contract_menu
from contract.errors import ContractError
from contract.keyfile import config_line, write_new_key
from contract.signing import (
    SignatureError,
    SigningKeyError,
    bundle_version,
    generate_keypair,
    load_private_key,
    public_key_b64,
    read_private_key,
    sign_menu,
    verify_bundle,
)

MENU = {"version": 7, "title": {"zh_CN": "住房"}}


def test_every_contract_error_has_one_base():
    for error in (SignatureError, SigningKeyError, contract_menu.MenuError,
                  contract_menu.MenuUnreadable):
        assert issubclass(error, ContractError)


def test_sign_and_verify():
    private_b64, public_b64 = generate_keypair()
    bundle = sign_menu(MENU, private_b64, "k1")
    assert verify_bundle(bundle, {"k1": public_b64}) == MENU
    with pytest.raises(SignatureError, match="not a trusted key"):
        verify_bundle(bundle, {"k2": public_b64})


@pytest.mark.parametrize("text, message", [
    ("@@@", "not valid base64"),
    (base64.b64encode(b"x" * 31).decode(), "31 bytes, expected 32"),
    ("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "not a usable PEM"),
])
def test_bad_private_keys(text, message):
    with pytest.raises(SigningKeyError, match=message):
        load_private_key(text)


def test_an_empty_key_id_is_refused():
    with pytest.raises(SigningKeyError, match="key_id"):
        sign_menu(MENU, generate_keypair()[0], "")


@pytest.mark.parametrize("bundle, version", [
    ({"menu": {"version": 3}}, 3), ({"menu": {"version": True}}, None),
    ({"menu": {"version": "3"}}, None), ({"menu": []}, None), ([], None), (None, None),
])
def test_bundle_version(bundle, version):
    assert bundle_version(bundle) == version


def test_keyfile_is_0600_and_never_replaced_by_accident(tmp_path):
    path = tmp_path / "admin.key"
    public = write_new_key(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert public_key_b64(read_private_key(path)) == public
    with pytest.raises(SigningKeyError, match="exists; use --force"):
        write_new_key(path)
    path.chmod(0o644)
    assert write_new_key(path, force=True) != public
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert config_line("admin", public) == f'admin = "{public}"'


def test_an_unreadable_key_file_names_the_file(tmp_path):
    with pytest.raises(SigningKeyError, match="missing.key: cannot read the signing key"):
        read_private_key(tmp_path / "missing.key")


def test_one_reader_one_limit(tmp_path):
    """Menu and bundle files, and fetched bytes, all stop at MAX_MENU_BYTES."""
    path = tmp_path / "big.json"
    path.write_bytes(b"{}" + b" " * (contract_menu.MAX_MENU_BYTES - 1))
    with pytest.raises(contract_menu.MenuError, match="over the 2 MiB limit"):
        contract_menu.read_json(path)
    with pytest.raises(contract_menu.MenuError, match="over the 2 MiB limit"):
        contract_menu.decode_json(path.read_bytes())
    path.write_bytes(b"{}" + b" " * (contract_menu.MAX_MENU_BYTES - 2))
    assert contract_menu.read_json(path) == {}
    with pytest.raises(contract_menu.MenuUnreadable) as err:
        contract_menu.read_json(tmp_path / "missing.json")
    assert err.value.reason and "cannot be read" in str(err.value)
