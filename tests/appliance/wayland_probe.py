"""Run inside a Wayland compositor by tests/appliance/test_weston_session.py; prints one
JSON line.

  python wayland_probe.py window        a plain 640x480 top-level, shown normally: the
                                        geometry the compositor gave it
  python wayland_probe.py keys CONFIG   the kiosk's window, locked down and fullscreen as
                                        `kiosk run` shows it, sent the key combinations
                                        that switch consoles or close windows
"""

from __future__ import annotations

import json
import sys
import time

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

COMBOS = {
    "Ctrl+Alt+F2": (Qt.Key.Key_F2, Qt.KeyboardModifier.ControlModifier
                    | Qt.KeyboardModifier.AltModifier),
    "Alt+F4": (Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier),
    "Ctrl+Q": (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
    "Escape": (Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier),
}


def _geometry(w: QWidget) -> dict:
    g, s = w.geometry(), w.screen().geometry()
    return {"window": [g.width(), g.height()], "screen": [s.width(), s.height()],
            "fullscreen": w.isFullScreen(), "platform": QApplication.platformName()}


def _wait_exposed(app: QApplication, w: QWidget) -> None:
    while not w.windowHandle().isExposed():
        app.processEvents()
    for _ in range(20):
        app.processEvents()


def plain_window(app: QApplication) -> dict:
    w = QWidget()
    w.resize(640, 480)
    w.show()
    _wait_exposed(app, w)
    # kiosk-shell answers with a configure for the fullscreen state: wait for it (10 s).
    deadline = time.monotonic() + 10
    while not w.isFullScreen() and time.monotonic() < deadline:
        QTest.qWait(20)
    return _geometry(w)


def kiosk_keys(app: QApplication, config: str) -> dict:
    from kiosk.app import create_window
    from kiosk.config import load_config

    window = create_window(config=load_config(config))
    window.lock_down(False)
    window.showFullScreen()
    _wait_exposed(app, window)
    result = {"before": _geometry(window), "after": {}}
    for name, (key, mods) in COMBOS.items():
        QTest.keyClick(window.windowHandle(), key, mods)
        for _ in range(10):
            app.processEvents()
        result["after"][name] = {"visible": window.isVisible(), **_geometry(window),
                                 "screen_name": window.router.current.name}
    window.close()  # what Alt+F4 would ask: refused in kiosk mode
    app.processEvents()
    result["closed_by_request"] = not window.isVisible()
    window.locked = False
    window.close()
    return result


def main() -> int:
    app = QApplication(sys.argv[:1])
    if sys.argv[1] == "window":
        out = plain_window(app)
    else:
        out = kiosk_keys(app, sys.argv[2])
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
