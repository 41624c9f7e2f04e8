"""Admins and trusted menu keys: the files, and tokens that must stay apart from kiosks'."""

from __future__ import annotations

import pytest
from central_helpers import ADMIN_TOKEN, KIOSKS

from central.admins import AdminRegistry, check_menu_keys, read_menu_keys
from central.errors import ConfigError
from central.server import CentralServer
from central.signing import generate_keypair


def test_admins_file(tmp_path):
    path = tmp_path / "admins.toml"
    path.write_text(f'[admins.alice]\ntoken = "{ADMIN_TOKEN}"\n'
                    '[admins.bob]\ntoken = "bob-admin-token-0123456789"\n', "utf-8")
    admins = AdminRegistry.from_toml(path)
    assert admins.names() == ["alice", "bob"]
    assert admins.authenticate(f"Bearer {ADMIN_TOKEN}").name == "alice"
    assert admins.authenticate(f"bearer  {ADMIN_TOKEN} ").name == "alice"
    assert admins.authenticate(f"Bearer {ADMIN_TOKEN}x") is None
    assert admins.authenticate(None) is None
    assert ADMIN_TOKEN not in repr(admins.owner_of(ADMIN_TOKEN))


@pytest.mark.parametrize(("text", "message"), [
    ("", "no admins"),
    ("[admins]\n", "no admins"),
    ('[admins.alice]\ntoken = "short"\n', "at least 16"),
    ('[admins.alice]\ntoken = "has a space in it 0123"\n', "at least 16"),
    ('[admins.alice]\ntoken = "alice-admin-token-0123456789"\nrole = "x"\n', "unknown key 'role'"),
    ('[admins."bad name"]\ntoken = "alice-admin-token-0123456789"\n', "admin name"),
    ('[admins.a]\ntoken = "same-token-0123456789"\n[admins.b]\ntoken = "same-token-0123456789"\n',
     "admins a and b have the same token"),
    ('[kiosks.a]\ntoken = "x"\n', "unknown table or key 'kiosks'"),
    ("not toml [", "not valid TOML"),
])
def test_bad_admins_files(tmp_path, text, message):
    path = tmp_path / "admins.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message):
        AdminRegistry.from_toml(path)


def test_missing_admins_file(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the admins file"):
        AdminRegistry.from_toml(tmp_path / "nope.toml")


def test_an_admin_token_may_not_be_a_kiosk_token(tmp_path):
    shared = KIOSKS["ZJ-HZ-0001"]["token"]
    with pytest.raises(ConfigError, match="admin eve and kiosk ZJ-HZ-0001 have the same token"):
        CentralServer(tmp_path / "c.db", kiosks=KIOSKS, admins={"eve": {"token": shared}})


def test_menu_keys_files(tmp_path):
    _, public = generate_keypair()
    plain = tmp_path / "keys.toml"
    plain.write_text(f'[menu_keys]\nadmin-2026 = "{public}"\n', "utf-8")
    assert read_menu_keys(plain) == {"admin-2026": public}
    kiosk_style = tmp_path / "kiosk.toml"  # a kiosk configuration's table works as is
    kiosk_style.write_text(f'[central]\nurl = "x"\n[central.menu_keys]\nk1 = "{public}"\n')
    assert read_menu_keys(kiosk_style) == {"k1": public}
    empty = tmp_path / "empty.toml"
    empty.write_text("[menu_keys]\n")
    with pytest.raises(ConfigError, match="no \\[menu_keys\\]"):
        read_menu_keys(empty)


@pytest.mark.parametrize("keys", [{"k": "not base64!"}, {"k": "AAAA"}, {"k": 5},
                                  {"bad id": "x"}])
def test_bad_menu_keys(keys):
    with pytest.raises(ConfigError):
        check_menu_keys(keys)
