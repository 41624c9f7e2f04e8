"""Each configuration key is declared once, in kiosk.config.SCHEMA: the typed settings,
config/kiosk.example.toml and README's table are checked against it here."""

from __future__ import annotations

import dataclasses
import runpy
import tomllib
from pathlib import Path

from kiosk import config as config_mod

REPO = Path(__file__).resolve().parents[2]


def test_every_key_has_a_one_line_meaning():
    for section, keys in config_mod.SCHEMA.items():
        for name, spec in keys.items():
            assert spec.meaning.strip(), f"[{section}] {name} has no meaning"
            assert "\n" not in spec.meaning, f"[{section}] {name}: meaning is not one line"


def test_settings_classes_have_exactly_the_declared_keys():
    assert set(config_mod.SECTIONS) == set(config_mod.SCHEMA)
    for section, cls in config_mod.SECTIONS.items():
        fields = [f.name for f in dataclasses.fields(cls)]
        assert sorted(fields) == sorted(config_mod.SCHEMA[section]), section


def test_example_file_holds_exactly_the_declared_keys_with_their_defaults():
    example = tomllib.loads((REPO / "config" / "kiosk.example.toml").read_text("utf-8"))
    assert list(example) == list(config_mod.SCHEMA), "sections differ from SCHEMA"
    for section, keys in config_mod.SCHEMA.items():
        assert sorted(example[section]) == sorted(keys), f"[{section}] keys differ from SCHEMA"
        for name, spec in keys.items():
            assert example[section][name] == spec.default, f"[{section}] {name}"
            assert type(example[section][name]) is type(spec.default), f"[{section}] {name}"


def test_readme_table_is_generated_from_the_schema():
    tool = runpy.run_path(str(REPO / "docs" / "config_table.py"))
    readme = (REPO / "README.md").read_text("utf-8")
    assert readme == tool["readme_with_table"](readme), (
        "README's configuration table is stale: run python docs/config_table.py --write"
    )
    for section, keys in config_mod.SCHEMA.items():
        for name in keys:
            assert f"| `{section}.{name}` |" in readme
