"""Driving the kiosk window the way a resident would: by touching named widgets."""

from __future__ import annotations

import textwrap
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QWidget

# Test windows speak through the recording voice: no espeak-ng, no sound card.
SIM_VOICE = '[voice]\nengine = "sim"\n'


def write_config(tmp_path: Path, **kiosk) -> Path:
    extra = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in kiosk.items())
    path = tmp_path / "kiosk.toml"
    path.write_text(textwrap.dedent(f"""\
        [kiosk]
        id = "TEST-0001"
        data_dir = "data"
        locale = "zh_CN"
        service_point = "测试便民服务点"
        {extra}
        [devices]
        card_reader = "sim:"
        printer = "sim:"
        [voice]
        engine = "sim"
        """), encoding="utf-8")
    return path


def current_screen(window) -> str:
    return window.stack.currentWidget().objectName()


def find(window, name: str, cls=QWidget) -> QWidget:
    """The visible widget called ``name``; fails if there is none or it is hidden."""
    matches = [w for w in window.findChildren(cls, name) if w.isVisible()]
    assert matches, f"no visible widget {name!r} on {current_screen(window)}"
    assert len(matches) == 1, f"{len(matches)} visible widgets called {name!r}"
    return matches[0]


def _visible(window, name: str, cls) -> bool:
    return any(w.isVisible() for w in window.findChildren(cls, name))


def touch(qtbot, window, name: str) -> None:
    # Widgets added to a shown layout appear on the next turn of the event loop.
    qtbot.waitUntil(lambda: _visible(window, name, QAbstractButton), timeout=3000)
    button = find(window, name, QAbstractButton)
    assert button.isEnabled(), f"{name} is disabled"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def wait_find(qtbot, window, name: str, cls=QWidget) -> QWidget:
    qtbot.waitUntil(lambda: _visible(window, name, cls), timeout=3000)
    return find(window, name, cls)


def type_keys(qtbot, window, text: str) -> None:
    for ch in text:
        touch(qtbot, window, f"key:{ch}")


def wait_screen(qtbot, window, name: str, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: current_screen(window) == f"screen:{name}", timeout=timeout)


def open_window(qtbot, tmp_path: Path, toml: str):
    """The kiosk window built from the configuration text ``toml`` (written to tmp_path)."""
    from kiosk.app import create_window

    cfg = tmp_path / "kiosk.toml"
    toml = textwrap.dedent(toml)
    if "[voice]" not in toml:
        toml = f"{toml.rstrip()}\n{SIM_VOICE}"
    cfg.write_text(toml, encoding="utf-8")
    from kiosk.demo.simulators import add_simulator_controls

    win = create_window(str(cfg))
    add_simulator_controls(win)  # for simulated devices only, as in `kiosk demo`
    qtbot.addWidget(win)
    win.show()
    return win


def quick_visit(qtbot, window) -> None:
    """A whole visit of the one service without card or fields (job vacancies): confirm,
    then wait for the done screen and the receipt's outcome (printed or not)."""
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "done")
    qtbot.waitUntil(lambda: window.ctl.session.visit.printed is not None, timeout=5000)
