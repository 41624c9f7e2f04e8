"""A wrong kiosk clock: learned from the central's Date header, said in uploads made while it
was unknown, and a certificate "not yet valid" by it reported as a clock problem."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from sync_server import KIOSK_ID, running
from tls_cert import self_signed, server_context

from contract.clock import KioskClock
from offline_queue import OfflineQueue
from uplink.client import CentralClient, ClockError
from uplink.uploader import SyncState, Uploader, wire_transaction

IN_1970 = 3 * 86400.0  # a kiosk without a clock battery, just started


class FakeSystemClock:
    """The kiosk's system clock: real time moved by ``shift`` seconds."""

    def __init__(self, at: float) -> None:
        self.shift = at - time.time()

    def __call__(self) -> float:
        return time.time() + self.shift


def test_the_date_header_corrects_a_clock_in_1970(tmp_path, token_file) -> None:
    clock = KioskClock(system=FakeSystemClock(IN_1970), ntp=lambda: False)
    assert not clock.known() and clock.status()["state"] == "unknown"
    with OfflineQueue(tmp_path / "queue.db", clock=clock.now,
                      clock_known=clock.known) as queue:
        before = queue.enqueue("job-vacancies", {})
        with running() as server, CentralClient(server.url, KIOSK_ID, token_file,
                                                clock=clock) as client:
            assert client.post_heartbeat({}).status == 204
            assert clock.known()
            assert abs(clock.now() - time.time()) < 5
            assert clock.status()["source"] == "central"
            assert clock.status()["state"] == "corrected"
            after = queue.enqueue("job-vacancies", {})
            wire = {tx.id: wire_transaction(tx) for tx in queue.due_batch()}
            assert wire[before]["clock"] == "unknown"
            assert wire[before]["created_at"].startswith("1970-")
            assert "clock" not in wire[after]
            assert wire[after]["created_at"][:4] == str(dt.datetime.now(dt.UTC).year)
            # The central takes the extra member (it ignores members it does not know).
            assert Uploader(queue, client).sync_once().sent == 2
            sent = server.requests_to("transactions")[-1].json()["transactions"]
            assert [tx.get("clock") for tx in sent] == ["unknown", None]


def test_ntp_makes_the_system_clock_trusted() -> None:
    clock = KioskClock(system=FakeSystemClock(IN_1970), ntp=lambda: True)
    assert clock.known()
    assert clock.status()["source"] == "ntp"


def test_a_certificate_not_yet_valid_is_a_clock_problem(tmp_path, token_file) -> None:
    # notBefore a day after the kiosk's clock (the real one here): not valid yet by it
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    cert_file, key_file = self_signed(tmp_path, start, start + dt.timedelta(days=30))
    context = server_context(cert_file, key_file)
    clock = KioskClock(ntp=lambda: False)
    with running(tls=context) as server, \
            CentralClient(server.url, KIOSK_ID, token_file, ca_file=cert_file, clock=clock,
                          connect_timeout=2, read_timeout=2) as client, \
            OfflineQueue(tmp_path / "queue.db") as queue:
        with pytest.raises(ClockError, match="clock"):
            client.post_heartbeat({})
        assert clock.status()["state"] == "wrong"
        assert "not yet valid" in clock.status()["problem"]
        queue.enqueue("job-vacancies", {})
        uploader = Uploader(queue, client)
        report = uploader.sync_once()
        assert report.state == SyncState.CLOCK == uploader.status.as_dict()["state"]
        assert "clock" in uploader.status.last_error
        assert queue.counts()["pending"] == 1


def test_the_overview_calls_it_a_clock_problem_not_the_network(tmp_path) -> None:
    from kiosk.config import demo_config
    from kiosk.technician.status import collect_status
    from uplink.uploader import SyncStatus

    config = demo_config(tmp_path)
    config = config.__class__(**{**config.__dict__, "central": config.central.__class__(
        **{**config.central.__dict__, "url": "https://127.0.0.1:1"})})
    sync = SyncStatus(state=SyncState.CLOCK, last_error="the kiosk's clock looks wrong",
                      last_attempt_at=time.time())
    status = collect_status(config, devices={}, device_since={}, sync=sync, queue=None,
                            menu_version=0, menu_rejected=None, started_at=None,
                            central_probe=None)
    assert status["central"]["problem"] == "clock"
    assert status["central"]["level"] == "fault"
    assert "clock" in status["central"]["last_error"]
    assert "clock" in status["kiosk"] and status["kiosk"]["timezone"] == "Asia/Shanghai"
