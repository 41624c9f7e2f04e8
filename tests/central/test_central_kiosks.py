"""The kiosks file: strict TOML, one token per kiosk, constant-time token matching."""

from __future__ import annotations

import pytest

from central.errors import ConfigError
from central.kiosks import KioskRegistry


def test_tokens_find_their_kiosk():
    reg = KioskRegistry({"A-1": {"token": "alpha", "group": "g"}, "B-2": {"token": "beta"}})
    assert reg.authenticate("Bearer alpha").id == "A-1"
    assert reg.authenticate("bearer  beta ").id == "B-2"
    assert reg.authenticate("Bearer gamma") is None
    assert reg.authenticate("alpha") is None
    assert reg.authenticate(None) is None
    assert "alpha" not in repr(reg.get("A-1"))


@pytest.mark.parametrize("text, message", [
    ('[kiosks.A-1]\ntoken = "t"\ncolour = "red"\n', "unknown key 'colour'"),
    ('[kiosks.A-1]\ngroup = "g"\n', "token"),
    ('[kiosks.A-1]\ntoken = "has space"\n', "token"),
    ('[kiosks.A-1]\ntoken = 5\n', "token"),
    ('[kiosks."A 1"]\ntoken = "t"\n', "kiosk id"),
    ('[kiosks.A-1]\ntoken = "t"\n[kiosks.B-2]\ntoken = "t"\n', "the same token"),
    ('[kiosk.A-1]\ntoken = "t"\n', "unknown table or key 'kiosk'"),
    ("", "no kiosks"),
])
def test_bad_kiosks_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "kiosks.toml"
    path.write_text(text, "utf-8")
    with pytest.raises(ConfigError, match=message) as exc:
        KioskRegistry.from_toml(path)
    assert str(path) in str(exc.value)
