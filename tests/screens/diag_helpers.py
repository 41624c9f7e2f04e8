"""Shared by the diagnostics tests: a kiosk window with a technician PIN, the corner press,
and the audit log as written to disk."""

from __future__ import annotations

import functools
import json
import textwrap
from pathlib import Path

from kiosk_helpers import current_screen
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

PIN = "246813"
CORNER = QPoint(20, 20)


@functools.cache
def pin_hash() -> str:
    from kiosk.technician.pin import hash_pin

    return hash_pin(PIN)


def diag_toml(tmp_path: Path, *, printer: str = "sim:", pin: bool = True,
              central: str = "") -> Path:
    """A kiosk.toml in ``tmp_path`` on simulated devices, with the PIN's hash (or none)."""
    path = tmp_path / "kiosk.toml"
    path.write_text(textwrap.dedent(f"""\
        [kiosk]
        id = "DIAG-0001"
        data_dir = "data"
        locale = "zh_CN"
        {central}
        [devices]
        card_reader = "sim:"
        printer = "{printer}"
        [diagnostics]
        pin_hash = "{pin_hash() if pin else ''}"
        [voice]
        engine = "sim"
        """), encoding="utf-8")
    return path


def make_window(qtbot, config: Path, size=(1920, 1080)):
    """The window shown, with its first-frame work done (the gesture filter installed)."""
    from kiosk.app import create_window
    from kiosk.demo.simulators import add_simulator_controls

    win = create_window(str(config))
    add_simulator_controls(win)
    qtbot.addWidget(win)
    win.resize(*size)
    win.show()
    qtbot.waitExposed(win)
    qtbot.waitUntil(lambda: win.started, timeout=15000)
    return win


def sync_worker(qtbot, win):
    """The window's sync worker, once its deferred start (after the first frame, on the
    queue's executor) has made it: on a loaded machine that is well after the first frame."""
    qtbot.waitUntil(lambda: win.sync_worker is not None, timeout=20000)
    return win.sync_worker


def close_window(win) -> None:
    win.locked = False
    win.close()


def corner_target(window, point=CORNER):
    """The widget under ``point`` of the window and the point in its coordinates."""
    widget = window.childAt(point) or window
    return widget, widget.mapFrom(window, point)


def press_corner(window, point=CORNER) -> None:
    widget, pos = corner_target(window, point)
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


def release_corner(window, point=CORNER) -> None:
    widget, pos = corner_target(window, point)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, pos)


def open_pad(qtbot, window) -> None:
    """The gesture's result, without its five seconds (test_diagnostics_entry times one)."""
    window.tech.hold.hold_s = 0.05
    press_corner(window)
    qtbot.waitUntil(lambda: window.tech.pad_open, timeout=3000)
    release_corner(window)


def enter(qtbot, window) -> None:
    """Into diagnostics through the gesture and the PIN pad."""
    from kiosk_helpers import touch, type_keys

    open_pad(qtbot, window)
    type_keys(qtbot, window, PIN)
    touch(qtbot, window, "btn:pin-ok")
    qtbot.waitUntil(lambda: current_screen(window) == "screen:diagnostics", timeout=5000)


def audit_entries(window) -> list[dict]:
    """What the audit log holds on disk, once the diagnostics executor has written it."""
    window.tech.executor.submit(lambda: None).result(timeout=10)
    entries = []
    for path in sorted((window.config.kiosk.data_dir / "diagnostics" / "audit").glob("*.jsonl")):
        entries += [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    return entries


def audit_text(window) -> str:
    audit_entries(window)
    folder = window.config.kiosk.data_dir / "diagnostics" / "audit"
    return "".join(p.read_text("utf-8") for p in folder.glob("*.jsonl"))
