"""``python -m kiosk.demo.preview``: the kiosk's own screens for a menu, as the central's
menu editor shows them (home, category, identify, each form step, confirm; both languages;
the three screen sizes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from PySide6.QtGui import QImage

from contract.resources import default_menu_path


def preview(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.demo.preview", *args],
                          capture_output=True, text=True, timeout=180,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})


def test_every_step_of_a_service_in_both_languages_and_three_sizes(tmp_path):
    run = preview("--menu", str(default_menu_path()), "--out", str(tmp_path),
                  "--services", "hpf-withdraw")
    assert run.returncode == 0, run.stderr
    images = json.loads((tmp_path / "index.json").read_text("utf-8"))["images"]
    screens = {(i["screen"], i["locale"], i["size"]) for i in images}
    for locale in ("zh_CN", "en"):
        for size in ("landscape", "small", "portrait"):
            for screen in ("home", "category", "identify", "form1", "form2", "form3",
                           "confirm"):
                assert (screen, locale, size) in screens
    picture = QImage(str(tmp_path / "confirm-hpf-withdraw-en-small.png"))
    assert (picture.width(), picture.height()) == (1280, 800)


def test_a_menu_that_cannot_be_shown_is_one_line(tmp_path):
    bad = tmp_path / "menu.json"
    bad.write_text('{"version": 1}', encoding="utf-8")
    run = preview("--menu", str(bad), "--out", str(tmp_path / "out"))
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1 and "cannot be shown" in run.stderr
