"""`kiosk diag read-card` and `kiosk diag test-print` on simulated devices, as a technician
runs them: one JSON object on stdout, masked data, exit codes, one line on failure."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def kiosk(tmp_path: Path, devices: str, *args: str) -> subprocess.CompletedProcess:
    cfg = tmp_path / "kiosk.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "data"\n[devices]\n{devices}\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "kiosk", *args, "--config", str(cfg)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)


def test_read_card_prints_masked_json(tmp_path):
    result = kiosk(tmp_path, 'card_reader = "sim:?card=0"', "diag", "read-card", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out == {"reader": "sim:?card=0", "method": "sim", "name": "张**",
                   "id_number": "330106********0016", "id_number_valid": True,
                   "valid_to": "长期"}
    assert "330106195503120016" not in result.stdout + result.stderr
    assert "张建国" not in result.stdout + result.stderr


def test_read_card_times_out_with_one_line(tmp_path):
    result = kiosk(tmp_path, 'card_reader = "sim:"', "diag", "read-card", "--timeout", "0.5")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == ["kiosk: no card was read within 0.5 s"]


def test_read_card_with_an_unknown_reader_uri(tmp_path):
    result = kiosk(tmp_path, 'card_reader = "nfc://x"', "diag", "read-card")
    assert result.returncode == 2
    assert "nfc://x" in result.stderr and "Traceback" not in result.stderr


def test_test_print_reports_status_and_saves_the_page(tmp_path):
    result = kiosk(tmp_path, 'printer = "sim:"', "diag", "test-print", "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["printed"] is True and out["state"] == "online" and out["paper"] == "full"
    pages = list((tmp_path / "data" / "receipts").glob("TEST-*.png"))
    assert len(pages) == 1
    from PIL import Image
    from pyzbar.pyzbar import decode

    assert decode(Image.open(pages[0]).convert("L"))[0].data.decode().startswith("TEST-")


def test_test_print_out_of_paper_fails_clearly(tmp_path):
    result = kiosk(tmp_path, 'printer = "sim:?paper=out"', "diag", "test-print", "--json")
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert out["printed"] is False and out["paper"] == "out"
    assert len(result.stderr.strip().splitlines()) == 1


def test_test_print_paper_low_still_prints(tmp_path):
    result = kiosk(tmp_path, 'printer = "sim:?paper=low"', "diag", "test-print", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["paper"] == "low"
