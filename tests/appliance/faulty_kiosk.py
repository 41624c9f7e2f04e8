"""``kiosk run`` with a fault injected on request, for the crash and hang tests.

Usage: python faulty_kiosk.py TRIGGER_FILE -- <kiosk arguments>. The real ``kiosk run``
starts; once TRIGGER_FILE exists its text says what happens on the GUI thread:
``exception`` (an uncaught exception in a slot), ``segfault`` (a real SIGSEGV) or ``hang``
(the event loop blocks for good).
"""

from __future__ import annotations

import ctypes
import sys
import time
from pathlib import Path


def _arm(trigger: Path) -> None:
    from PySide6.QtCore import QCoreApplication, QTimer

    def check() -> None:
        if not trigger.exists():
            return
        fault = trigger.read_text().strip()
        timer.stop()
        if fault == "exception":
            raise RuntimeError("injected fault")
        if fault == "segfault":
            ctypes.string_at(0)
        if fault == "hang":
            while True:
                time.sleep(3600)

    timer = QTimer(QCoreApplication.instance())
    timer.timeout.connect(check)
    timer.start(50)


def main() -> int:
    trigger = Path(sys.argv[1])
    kiosk_args = sys.argv[sys.argv.index("--") + 1:]
    import kiosk.app as app_mod

    real_supervise = app_mod._supervise

    def supervise(*args, **kwargs):
        _arm(trigger)
        return real_supervise(*args, **kwargs)

    app_mod._supervise = supervise
    from kiosk.cli import main as kiosk_main

    return kiosk_main(kiosk_args)


if __name__ == "__main__":
    sys.exit(main())
