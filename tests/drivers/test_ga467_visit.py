"""A whole visit in the real window with the GA 467 serial driver against its emulator on a
pseudo-terminal: the card's identity reaches the stored transaction; an expired card is
refused; an unplugged reader is reported and comes back."""

from __future__ import annotations

import pytest
from ga467_emulator import Ga467Emulator
from kiosk_helpers import open_window, touch
from PySide6.QtWidgets import QAbstractButton, QLabel


@pytest.fixture
def emulator(tmp_path):
    emu = Ga467Emulator(tmp_path / "ttyGA").start()
    yield emu
    emu.stop()


@pytest.fixture
def window(qtbot, tmp_path, emulator):
    win = open_window(qtbot, tmp_path, f"""\
        [kiosk]
        data_dir = "data"
        [devices]
        card_reader = "serial://{tmp_path / 'ttyGA'}?protocol=ga467&baudrate=115200"
        printer = "sim:"
        """)
    yield win
    win.close()


def screen(window) -> str:
    return window.stack.currentWidget().objectName()


def test_visit_with_a_real_ga467_read(qtbot, window, emulator):
    qtbot.waitUntil(lambda: window.ctl.device_status.get("card_reader") is not None
                    and window.ctl.device_status["card_reader"].state == "online",
                    timeout=5000)
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-balance")
    assert window.findChild(QAbstractButton, "sim:card:0") is None  # no simulator panel
    emulator.place_card()
    qtbot.waitUntil(lambda: screen(window) == "screen:confirm", timeout=5000)
    text = " ".join(w.text() for w in window.router.current.findChildren(QLabel))
    assert "欧***" in text and "330106********0016" in text and "欧阳建国" not in text
    touch(qtbot, window, "btn:confirm")
    qtbot.waitUntil(lambda: screen(window) == "screen:done", timeout=5000)
    tx = window.queue.get(window.ctl.session.visit.transaction_id)
    assert tx.identity == {"method": "ga467", "id_number": "330106195503120016",
                           "name": "欧阳建国"}


def test_expired_card_is_refused(qtbot, window, emulator):
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-balance")
    emulator.place_card(valid_to="20200101")
    qtbot.waitUntil(lambda: window.ctl.identify_message == "identify.expired", timeout=5000)
    assert screen(window) == "screen:identify"


def test_unplugged_reader_is_reported_and_recovers(qtbot, window, emulator):
    qtbot.waitUntil(lambda: window.ctl.device_status.get("card_reader") is not None
                    and window.ctl.device_status["card_reader"].state == "online",
                    timeout=5000)
    emulator.unplug()
    qtbot.waitUntil(lambda: window.ctl.device_status["card_reader"].state != "online",
                    timeout=5000)
    emulator.replug()
    qtbot.waitUntil(lambda: window.ctl.device_status["card_reader"].state == "online",
                    timeout=10000)
    touch(qtbot, window, "category:housing-fund")
    touch(qtbot, window, "tile:hpf-balance")
    emulator.place_card()
    qtbot.waitUntil(lambda: screen(window) == "screen:confirm", timeout=5000)


def test_diag_read_card_with_ga467(tmp_path, emulator):
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    uri = f"serial://{tmp_path / 'ttyGA'}?protocol=ga467&baudrate=115200"
    cfg = tmp_path / "diag.toml"
    cfg.write_text(f'[kiosk]\ndata_dir = "data"\n[devices]\ncard_reader = "{uri}"\n')
    emulator.place_card()
    result = subprocess.run(
        [sys.executable, "-m", "kiosk", "diag", "read-card", "--json", "--timeout", "5",
         "--config", str(cfg)], cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(root)},
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["method"] == "ga467" and out["name"] == "欧***"
    assert out["id_number"] == "330106********0016" and out["id_number_valid"] is True
    assert "330106195503120016" not in result.stdout + result.stderr
