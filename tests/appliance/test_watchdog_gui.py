"""The GUI-thread watchdog: READY after the first paint, pings while the event loop turns,
none while the GUI thread is blocked (what makes systemd restart a frozen kiosk)."""

from __future__ import annotations

import threading

import pytest
from notify_listener import NotifyListener
from PySide6.QtWidgets import QLabel

from kiosk.shell.supervision import SystemdLink
from kiosk.systemd import Notifier

PERIOD_USEC = 100_000  # pings every 50 ms


@pytest.fixture
def listener(tmp_path):
    nl = NotifyListener(tmp_path)
    yield nl
    nl.close()


def test_ready_after_paint_then_pings_that_stop_when_the_gui_thread_blocks(qtbot, listener):
    window = QLabel("home")
    qtbot.addWidget(window)
    link = SystemdLink(Notifier(listener.env(watchdog_usec=PERIOD_USEC)), window, "home")
    link.start()
    assert listener.count("READY") == 0  # not painted yet
    window.resize(640, 480)
    window.show()
    qtbot.waitUntil(lambda: listener.count("READY") == 1, timeout=10_000)
    ready = listener.wait_for(lambda m: "READY" in m)
    assert ready["STATUS"].startswith("home; window 640x480")

    qtbot.waitUntil(lambda: link.pings >= 5, timeout=10_000)  # the loop turns: pings come

    released = threading.Event()
    stopped = threading.Event()

    def watch() -> None:
        listener.wait_for_silence(quiet_s=1.0, timeout=20)  # 20 periods without a ping
        stopped.set()
        released.set()

    threading.Thread(target=watch, daemon=True).start()
    released.wait(30)  # the GUI thread is blocked here, as a hung event handler would be
    assert stopped.is_set(), "pings went on while the GUI thread was blocked"

    before = listener.count("WATCHDOG")
    qtbot.waitUntil(lambda: listener.count("WATCHDOG") >= before + 3, timeout=10_000)
    link.set_state("diagnostics")
    assert listener.wait_for(lambda m: m.get("STATUS", "").startswith("diagnostics;"))
    link.stopping()
    assert listener.wait_for(lambda m: "STOPPING" in m)
