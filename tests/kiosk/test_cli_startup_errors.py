"""Start-up with a bad configuration or menu: one clear line, a non-zero exit, no traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contract import resources
from kiosk.config import load_config_file

ROOT = Path(__file__).resolve().parents[2]
SIMULATED_OK = "[devices]\nallow_simulated = true\n"  # `kiosk run` on the sim: devices


def run_kiosk(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    env.pop("KIOSK_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "kiosk", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60)


def test_example_config_matches_the_schema():
    config = load_config_file(resources.config_dir() / "kiosk.example.toml")
    assert config.kiosk.id == "ZJ-HZ-0001"
    assert config.devices.card_reader == "sim:"


@pytest.mark.parametrize("menu_text, expected", [
    ("{not json", "not valid JSON"),
    (json.dumps({"version": 1}), "$"),
])
def test_run_with_a_bad_menu_file_stops_with_one_line(tmp_path, menu_text, expected):
    (tmp_path / "menu.json").write_text(menu_text, encoding="utf-8")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\nmenu_file = "menu.json"\n' + SIMULATED_OK,
                   encoding="utf-8")
    result = run_kiosk("run", "--windowed", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(tmp_path / "menu.json") in lines[0] and expected in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_menu_with_a_wrong_field_names_its_path(tmp_path):
    doc = json.loads(resources.default_menu_path().read_text("utf-8"))
    doc["services"][2]["fields"] = [{"id": "x", "type": "colour", "label": {"zh_CN": "颜色",
                                                                             "en": "Colour"}}]
    (tmp_path / "menu.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\nmenu_file = "menu.json"\n' + SIMULATED_OK,
                   encoding="utf-8")
    result = run_kiosk("run", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2
    assert "$.services[2].fields[0].type" in result.stderr


def test_run_with_a_bad_config_names_file_and_key(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\nidle_timeout_s = "soon"\n', encoding="utf-8")
    result = run_kiosk("run", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2
    line = result.stderr.strip()
    assert str(cfg) in line and "idle_timeout_s" in line and "whole number" in line
    assert "Traceback" not in result.stderr


def test_unknown_device_uri_is_a_clear_error(tmp_path):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\n[devices]\nprinter = "lpt://1"\n'
                   'allow_simulated = true\n',
                   encoding="utf-8")
    result = run_kiosk("run", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode == 2
    assert "lpt://1" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("devices, key", [
    ("", "card_reader"),
    ('card_reader = "pcsc:"\nprinter = "sim:?paper=low"\n', "printer"),
])
def test_run_refuses_simulated_devices_unless_allowed(tmp_path, devices, key):
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "data"\n[devices]\n{devices}', encoding="utf-8")
    result = run_kiosk("run", "--config", str(cfg), cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert f"[devices] {key}" in lines[0] and "allow_simulated" in lines[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert not (tmp_path / "data").exists()  # refused before anything was written
