"""sd_notify against a real datagram socket: the Qt-free sender, and the crash-loop ledger."""

from __future__ import annotations

import json
import socket

import pytest
from notify_listener import NotifyListener

from kiosk.systemd import Notifier, StartLedger


@pytest.fixture
def listener(tmp_path):
    nl = NotifyListener(tmp_path)
    yield nl
    nl.close()


def test_messages_arrive_on_the_socket(listener):
    n = Notifier(listener.env(watchdog_usec=2_000_000))
    assert n.enabled and n.watchdog_interval_ms == 1000
    n.ready("home; window 1920x1080+0+0")
    n.watchdog()
    n.status("diagnostics\nsecond line")
    n.stopping()
    listener.wait_for(lambda m: "STOPPING" in m)
    got = [m for _, m in listener.messages]
    assert got[0] == {"READY": "1", "STATUS": "home; window 1920x1080+0+0"}
    assert got[1] == {"WATCHDOG": "1"}
    assert got[2] == {"STATUS": "diagnostics second line"}  # one line, always
    assert got[3] == {"STOPPING": "1"}
    n.close()


def test_abstract_namespace_socket():
    name = f"kiosk-test-{id(object())}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(5)
    try:
        assert Notifier({"NOTIFY_SOCKET": "@" + name}).ready()
        assert sock.recv(100) == b"READY=1"
    finally:
        sock.close()


def test_without_systemd_nothing_is_sent():
    n = Notifier({})
    assert not n.enabled and n.watchdog_interval_ms is None
    assert not n.ready() and not n.watchdog()


def test_watchdog_meant_for_another_process_is_ignored(listener):
    env = {**listener.env(watchdog_usec=1_000_000), "WATCHDOG_PID": "1"}
    assert Notifier(env).watchdog_interval_ms is None


def test_a_gone_supervisor_does_not_stop_the_kiosk(tmp_path):
    n = Notifier({"NOTIFY_SOCKET": str(tmp_path / "nobody-listens")})
    assert n.ready() is False  # logged, not raised


class Clock:
    def __init__(self):
        self.now = 1_000_000.0

    def __call__(self):
        return self.now


def test_quick_failures_put_the_kiosk_out_of_service(tmp_path):
    clock = Clock()
    ledger = StartLedger(tmp_path, limit=3, window_s=600, clock=clock)
    for _ in range(3):
        assert ledger.record_start() is False
        clock.now += 30  # crashed; systemd starts it again
    assert ledger.record_start() is True
    assert (tmp_path / "starts.json").stat().st_mode & 0o777 == 0o600


def test_a_clean_stop_or_old_failures_reset_the_count(tmp_path):
    clock = Clock()
    ledger = StartLedger(tmp_path, limit=2, window_s=600, clock=clock)
    ledger.record_start()
    ledger.record_start()
    ledger.clean_stop()
    assert ledger.record_start() is False
    clock.now += 601  # the earlier failures are old news
    ledger.record_start()
    assert ledger.record_start() is False
    assert len(ledger.recent()) == 2


def test_an_unreadable_ledger_counts_from_zero(tmp_path):
    (tmp_path / "starts.json").write_text("{not json")
    ledger = StartLedger(tmp_path, limit=1)
    assert ledger.record_start() is False
    assert len(json.loads((tmp_path / "starts.json").read_text())) == 1
