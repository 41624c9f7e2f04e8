"""A whole visit in the real window with the PC/SC driver: a real pcscd, the vpcd virtual
reader and the card emulator; and `kiosk diag read-card` against the same rig."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kiosk_helpers import open_window, touch
from pcsc_rig import PcscdRig, clean_rig, module_rig
from PySide6.QtWidgets import QLabel
from vpcd_card import EmulatedCard

UID = "04A2245A3C5E80"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def rig(tmp_path_factory):
    yield from module_rig(tmp_path_factory)


@pytest.fixture
def pcscd(rig: PcscdRig):
    yield from clean_rig(rig)


def screen(window) -> str:
    return window.stack.currentWidget().objectName()


def test_visit_with_a_contactless_card(qtbot, tmp_path, pcscd):
    window = open_window(qtbot, tmp_path, """\
        [kiosk]
        data_dir = "data"
        [devices]
        card_reader = "pcsc:?reader=Kiosk Test VPCD 00 00&profile=uid"
        printer = "sim:"
        """)
    try:
        qtbot.waitUntil(lambda: getattr(window.ctl.device_status.get("card_reader"), "state",
                                        "") == "online", timeout=10000)
        touch(qtbot, window, "category:housing-fund")
        touch(qtbot, window, "tile:hpf-balance")
        pcscd.card(0, EmulatedCard()).insert()
        qtbot.waitUntil(lambda: screen(window) == "screen:confirm", timeout=10000)
        text = " ".join(w.text() for w in window.router.current.findChildren(QLabel))
        assert UID in text
        touch(qtbot, window, "btn:confirm")
        qtbot.waitUntil(lambda: screen(window) == "screen:done", timeout=5000)
        tx = window.queue.get(window.ctl.session.visit.transaction_id)
        assert tx.identity == {"method": "pcsc-uid", "card_uid": UID}
    finally:
        window.close()


def test_diag_read_card_with_pcsc(tmp_path, pcscd):
    cfg = tmp_path / "diag.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\n[devices]\ncard_reader = "pcsc:?profile=uid"\n')
    pcscd.card(0, EmulatedCard()).insert()
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "read-card", "--json", "--timeout", "5",
         "--config", str(cfg)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["method"] == "pcsc-uid" and out["card_uid"] == UID
    assert out["reader"].startswith("Kiosk Test VPCD")


def test_diag_read_card_without_pcscd_is_one_line(tmp_path, pcscd):
    pcscd.stop()
    cfg = tmp_path / "diag.toml"
    cfg.write_text('[kiosk]\ndata_dir = "data"\n[devices]\ncard_reader = "pcsc:"\n')
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "read-card", "--timeout", "2", "--config",
         str(cfg)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
