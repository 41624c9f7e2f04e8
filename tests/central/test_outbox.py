"""The outbox against a real HTTP receiver on 127.0.0.1, on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from central_helpers import K1, K2, KIOSKS, ROOT, make_tx, post_batch

from central.cli import main
from central.outbox import SIGNATURE_HEADER, Outbox, backoff_s
from central.storage import open_store
from central.wire import check_transaction

SECRET = b"forward-secret-0123456789"


class Receiver:
    """The platform's receiver double: records every POST, answers from ``answers`` (then
    200). Bound at once but listening only after ``up()``: until then connections are
    refused."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes, int]] = []  # headers, body, answer
        self.answers: list[int] = []
        self.release = threading.Event()  # cleared: requests hang until it is set
        self.release.set()
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.release.wait()
                with receiver.changed:
                    status = receiver.answers.pop(0) if receiver.answers else 200
                    receiver.requests.append((dict(self.headers), body, status))
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler, bind_and_activate=False)
        self.httpd.server_bind()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/intake"
        self._thread: threading.Thread | None = None

    def up(self) -> Receiver:
        self.httpd.server_activate()
        self._thread = threading.Thread(target=self.httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self.release.set()
        if self._thread is not None:
            self.httpd.shutdown()
        self.httpd.server_close()

    def delivered_ids(self) -> list[str]:
        """Ids of every batch answered 2xx, in order, repeats kept."""
        return [t["id"] for _, body, status in list(self.requests) if 200 <= status < 300
                for t in json.loads(body)["transactions"]]

    def wait(self, condition: Callable[[], bool], timeout: float = 30.0) -> None:
        with self.changed:
            assert self.changed.wait_for(condition, timeout), "the receiver never saw it"


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition never became true"
        time.sleep(0.02)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def outbox_of(db_url) -> Iterator[Callable[..., Outbox]]:
    """``outbox_of(url, **options)``: a started outbox on its own store of ``db_url``."""
    made: list[Outbox] = []

    def make(url: str, secret: bytes | None = SECRET, **options) -> Outbox:
        options = {"poll_s": 0.02, "retry_base_s": 0.02, "max_backoff_s": 0.2, **options}
        made.append(Outbox(open_store(db_url), url, secret, **options).start())
        return made[-1]

    yield make
    for box in made:
        box.stop()
        box.store.close()


def test_accepted_transactions_are_delivered_signed(central, receiver, outbox_of):
    receiver.up()
    batch = [make_tx() for _ in range(3)]
    post_batch(central.url, batch)
    outbox_of(receiver.url)
    receiver.wait(lambda: len(receiver.delivered_ids()) >= 3)
    headers, body, _ = receiver.requests[0]
    expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
    assert headers[SIGNATURE_HEADER] == expected
    assert headers["Content-Type"] == "application/json"
    sent = json.loads(body)["transactions"]
    assert sorted(t["id"] for t in sent) == sorted(t["id"] for t in batch)
    by_id = {t["id"]: t for t in sent}
    for tx in batch:
        got = by_id[tx["id"]]
        assert {k: got[k] for k in tx} == tx and got["kiosk_id"] == K1
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", got["received_at"])
    wait_until(lambda: central.store.outbox_stats()["outbox_pending"] == 0)


def test_without_a_secret_there_is_no_signature_and_at_most_100_a_request(
        central, receiver, outbox_of):
    receiver.up()
    for kiosk in (K1, K2):
        post_batch(central.url, [make_tx() for _ in range(100)], kiosk=kiosk)
    outbox_of(receiver.url, secret=None)
    receiver.wait(lambda: len(receiver.delivered_ids()) >= 200)
    assert all(SIGNATURE_HEADER not in h for h, _, _ in receiver.requests)
    assert all(1 <= len(json.loads(b)["transactions"]) <= 100 for _, b, _ in receiver.requests)
    assert sorted(receiver.delivered_ids()) == sorted(set(receiver.delivered_ids()))


def test_an_in_process_central_given_a_forward_url_runs_the_outbox(db_url, receiver):
    from central.server import CentralServer

    receiver.up()
    srv = CentralServer(db_url, kiosks=KIOSKS, forward_url=receiver.url, forward_secret=SECRET,
                        outbox_options={"poll_s": 0.02})
    with srv:
        assert srv.outbox is not None and srv.outbox.store is not srv.store  # its own
        batch = [make_tx() for _ in range(3)]
        post_batch(srv.url, batch)
        receiver.wait(lambda: len(receiver.delivered_ids()) >= 3)
    assert srv.outbox is None  # stopped with the server
    assert sorted(receiver.delivered_ids()) == sorted(t["id"] for t in batch)
    headers, body, _ = receiver.requests[0]
    assert headers[SIGNATURE_HEADER] == "sha256=" + hmac.new(SECRET, body,
                                                             hashlib.sha256).hexdigest()


def test_a_receiver_that_is_down_then_up_gets_everything(central, receiver, outbox_of):
    batch = [make_tx() for _ in range(5)]
    post_batch(central.url, batch)
    box = outbox_of(receiver.url)
    wait_until(lambda: box.failures >= 2)  # connection refused, twice, nothing dropped
    assert central.store.outbox_stats()["outbox_pending"] == 5
    receiver.answers = [503, 500, 404]  # answers that are not 2xx are failures too
    receiver.up()
    receiver.wait(lambda: len(receiver.delivered_ids()) >= 5)
    assert [s for _, _, s in receiver.requests][:3] == [503, 500, 404]
    assert sorted(receiver.delivered_ids()) == sorted(t["id"] for t in batch)
    wait_until(lambda: central.store.outbox_stats()["outbox_pending"] == 0)


def test_a_receiver_that_does_not_answer_in_time_is_retried(central, receiver, outbox_of):
    receiver.release.clear()
    receiver.up()
    tx = make_tx()
    post_batch(central.url, [tx])
    box = outbox_of(receiver.url, timeout_s=0.3)
    wait_until(lambda: box.failures >= 1)  # the read timed out
    assert central.store.outbox_stats()["outbox_pending"] == 1
    receiver.release.set()
    wait_until(lambda: central.store.outbox_stats()["outbox_pending"] == 0)
    assert set(receiver.delivered_ids()) == {tx["id"]}  # perhaps twice: at least once


def test_a_central_restarted_mid_outbox_delivers_what_it_had_claimed(
        db_url, central, receiver, outbox_of):
    receiver.up()
    batch = [make_tx() for _ in range(4)]
    post_batch(central.url, batch)
    crashed = open_store(db_url)  # a central that claimed the batch, then died
    assert len(crashed.claim_outbox(100, lease_s=0.5)) == 4
    crashed.close()
    central.stop()
    central.start()  # and came back
    post_batch(central.url, [late := make_tx()])
    outbox_of(receiver.url)
    receiver.wait(lambda: len(receiver.delivered_ids()) >= 5)
    assert sorted(receiver.delivered_ids()) == sorted([t["id"] for t in batch] + [late["id"]])


def test_an_outbox_stopped_while_failing_leaves_its_batch_to_the_next(
        central, receiver, outbox_of):
    tx = make_tx()
    post_batch(central.url, [tx])
    first = outbox_of(receiver.url)
    wait_until(lambda: first.failures >= 1)
    first.stop()
    receiver.up()
    outbox_of(receiver.url, retry_base_s=0.01)
    receiver.wait(lambda: receiver.delivered_ids() == [tx["id"]])


def test_personal_data_is_purged_after_delivery(central, receiver, outbox_of):
    receiver.up()
    tx = make_tx()
    post_batch(central.url, [tx])
    outbox_of(receiver.url, purge_after_s=0.0, purge_every_s=0.0)
    receiver.wait(lambda: receiver.delivered_ids() == [tx["id"]])
    wait_until(lambda: central.store.transaction(tx["id"])["purged_at"] is not None)
    kept = central.store.transaction(tx["id"])
    assert kept["identity"] is None and kept["fields"] is None
    r = post_batch(central.url, [tx])  # a resend after the purge is still known
    assert r.json()["results"][0]["status"] == "duplicate"


def test_purge_waits_for_its_time(db_url, receiver):
    store = open_store(db_url)
    try:
        store.ingest(K1, [check_transaction(make_tx())], now=100.0)
        clock = [200.0]
        box = Outbox(store, receiver.up().url, SECRET, purge_after_s=3600.0,
                     clock=lambda: clock[0])
        assert box.deliver_once() == 1
        assert box.purge_now() == 0
        clock[0] = 200.0 + 3601.0
        assert box.purge_now() == 1
    finally:
        store.close()


def test_backoff_grows_to_five_minutes():
    assert 0.5 <= backoff_s(1, 1.0) <= 1.0
    assert 4.0 <= backoff_s(4, 1.0) <= 8.0
    assert 150.0 <= backoff_s(40, 1.0) <= 300.0


def test_stats_json_reports_outbox_pending(db_url, capsys):
    store = open_store(db_url)
    try:
        store.ingest(K1, [check_transaction(make_tx()) for _ in range(3)])
        store.mark_delivered([store.claim_outbox(1, lease_s=60)[0]["id"]])
    finally:
        store.close()
    assert main(["stats", "--db", str(db_url), "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["outbox_pending"] == 2 and stats["transactions"] == 3


# -- two central processes on one database -----------------------------------------------


def _serve(tmp_path, db_url, receiver_url: str, name: str) -> tuple[subprocess.Popen, str]:
    kiosks = tmp_path / "kiosks.toml"
    kiosks.write_text("".join(f'[kiosks.{k}]\ntoken = "{v["token"]}"\ngroup = "{v["group"]}"\n'
                              for k, v in KIOSKS.items()), "utf-8")
    kiosks.chmod(0o600)
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET + b"\n")
    secret.chmod(0o600)
    with open(tmp_path / f"{name}.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "central", "serve", "--db", str(db_url), "--port", "0",
             "--kiosks", str(kiosks), "--forward-url", receiver_url,
             "--forward-secret-file", str(secret)],
            stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=tmp_path)
    line = proc.stdout.readline()
    m = re.search(r"listening on (\S+)", line)
    assert m, f"{name} did not start: {(tmp_path / f'{name}.log').read_text()}"
    return proc, m.group(1)


def test_two_centrals_on_one_database_ingest_and_deliver_once(tmp_path, db_url, receiver):
    receiver.up()
    procs = []
    try:
        for name in ("a", "b"):
            procs.append(_serve(tmp_path, db_url, receiver.url, name))
        (_, url_a), (_, url_b) = procs
        batches = [[make_tx() for _ in range(20)] for _ in range(10)]
        results = []
        for i, batch in enumerate(batches):  # each batch to both, in turn first
            first, second = (url_a, url_b) if i % 2 else (url_b, url_a)
            results += [r["status"] for r in post_batch(first, batch).json()["results"]]
            results += [r["status"] for r in post_batch(second, batch).json()["results"]]
        assert results.count("accepted") == 200 and results.count("duplicate") == 200
        receiver.wait(lambda: len(receiver.delivered_ids()) >= 200)
        for proc, _ in procs:
            proc.terminate()
            assert proc.wait(timeout=30) == 0
            proc.stdout.close()
        ids = receiver.delivered_ids()
        assert len(ids) == 200 and set(ids) == {t["id"] for b in batches for t in b}
        signed = {h[SIGNATURE_HEADER] for h, _, _ in receiver.requests}
        assert len(signed) == len(receiver.requests)  # one signature per body
    finally:
        for proc, _ in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                proc.stdout.close()
    store = open_store(db_url, readonly=True)
    try:
        assert store.transactions_count() == 200
        assert store.outbox_stats()["outbox_pending"] == 0
    finally:
        store.close()
