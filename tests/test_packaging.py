"""The wheel carries everything `kiosk demo` needs: config, menu, schema, translations, icons."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                    str(ROOT)], check=True, timeout=300)
    (path,) = out.glob("village_kiosk-*.whl")
    return path


def test_wheel_ships_data_files(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("kiosk_config/menu.default.json", "kiosk_config/menu.schema.json",
                     "kiosk_config/kiosk.example.toml", "kiosk_config/translations/zh_CN.json",
                     "kiosk_config/translations/en.json", "kiosk_config/icons/card-reader.svg",
                     "kiosk/app.py", "screens/home.py", "drivers/sim/reader.py",
                     "offline_queue/queue.py"):
        assert required in names, f"{required} missing from the wheel"
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_runs_the_demo_tour(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target",
                    str(target), str(wheel)], check=True, timeout=300)
    env = {**os.environ, "PYTHONPATH": str(target), "QT_QPA_PLATFORM": "offscreen",
           "XDG_DATA_HOME": str(tmp_path / "xdg")}
    env.pop("KIOSK_CONFIG", None)
    probe = subprocess.run(
        [sys.executable, "-c", "import kiosk, contract.resources as r; "
         "print(kiosk.__file__); print(r.config_dir())"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    kiosk_file, config_dir = probe.stdout.split()
    assert kiosk_file.startswith(str(target)) and config_dir.startswith(str(target))
    tour = tmp_path / "tour"
    run = subprocess.run([sys.executable, "-m", "kiosk", "demo", "--tour", str(tour)],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    shots = sorted(p.name for p in tour.glob("*.png"))
    for screen in ("home", "services", "identify", "form", "confirm", "done", "error",
                   "idle-prompt"):
        for locale in ("zh_CN", "en"):
            assert any(screen in s and locale in s for s in shots), (screen, locale)
