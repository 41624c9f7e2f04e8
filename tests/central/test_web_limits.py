"""The limits of the web stack: authentication before the body, a deadline on the request
head, a bound on connections, 503 with Retry-After when saturated, admin changes only by
bearer token, JSON and the central's own Origin; tokens kept hashed."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time

import pytest
import requests
from central_helpers import (
    ADMIN_TOKEN,
    ADMINS,
    FLEET,
    K1,
    KEY_ID,
    KIOSKS,
    admin_headers,
    make_tx,
    post_batch,
)

from central.admins import AdminRegistry
from central.kiosks import KioskRegistry
from central.server import CentralServer


def _exchange(srv: CentralServer, head: bytes) -> bytes:
    """Send a request head (no body), read the answer (its head, then as many body bytes as
    its Content-Length says: they may come in a later segment) until the server closes or
    10 s."""
    with socket.create_connection((srv.host, srv.port), timeout=10) as s:
        s.sendall(head)
        data = b""
        while b"\r\n\r\n" not in data or len(data) < _answer_length(data):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        return data


def _answer_length(data: bytes) -> int:
    """The whole answer's length, as far as its head says (the head alone without one)."""
    head, _, _ = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            return len(head) + 4 + int(value)
    return len(head) + 4


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def test_a_wrong_token_is_refused_before_the_body_arrives(admin_central):
    # 3 MB announced, none of it sent: the answer comes from the headers alone.
    answer = _exchange(admin_central, (
        b"POST /api/v1/admin/menus HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n"
        b"Content-Type: application/json\r\nContent-Length: 3000000\r\n\r\n"))
    assert _status(answer) == 401
    answer = _exchange(admin_central, (
        f"POST /api/v1/transactions HTTP/1.1\r\nHost: x\r\nX-Kiosk-Id: {K1}\r\n"
        "Authorization: Bearer wrong\r\nContent-Length: 500\r\n\r\n").encode())
    assert _status(answer) == 401


def test_a_body_announced_over_the_limit_is_413_before_it_is_sent(central):
    token = KIOSKS[K1]["token"]
    answer = _exchange(central, (
        f"POST /api/v1/transactions HTTP/1.1\r\nHost: x\r\nX-Kiosk-Id: {K1}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Length: 5000000\r\n\r\n").encode())
    assert _status(answer) == 413
    assert b"byte limit" in answer


def test_a_request_head_dripped_slowly_is_cut_off(bare_central):
    head = f"GET /api/v1/kiosks/{K1}/menu HTTP/1.1\r\nHost: x\r\n" + "X-Pad: y\r\n" * 200
    closed = False
    with socket.create_connection((bare_central.host, bare_central.port), timeout=10) as s:
        s.settimeout(0.1)
        for byte in head.encode():  # each byte quick, the whole head far past 0.5 s
            try:
                s.sendall(bytes([byte]))
                if s.recv(1024) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except OSError:
                closed = True
                break
    assert closed


def test_connections_past_the_bound_get_503_with_retry_after(tmp_path):
    with CentralServer(tmp_path / "c.db", kiosks=KIOSKS, max_connections=2,
                       retry_after_s=7) as srv:
        held = [socket.create_connection((srv.host, srv.port), timeout=10) for _ in range(2)]
        try:
            with socket.create_connection((srv.host, srv.port), timeout=10) as extra:
                answer = b""
                while chunk := extra.recv(65536):
                    answer += chunk
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 503") and b"Retry-After: 7" in head
            assert json.loads(body)["error"]
        finally:
            for s in held:
                s.close()


def test_saturated_central_answers_503_with_retry_after_at_once(tmp_path):
    srv = CentralServer(tmp_path / "c.db", kiosks=KIOSKS, max_inflight=1, retry_after_s=3)
    srv.start()
    try:
        srv.faults.delay_s = 30  # the first request stays in flight
        first = threading.Thread(target=lambda: _quietly(post_batch, srv.url, [make_tx()]))
        first.start()
        for _ in range(1000):  # until the first request is in flight
            if srv.requests_in_flight == 1:
                break
            time.sleep(0.01)
        r = post_batch(srv.url, [make_tx()])
        assert r.status_code == 503 and r.headers["Retry-After"] == "3"
        assert "saturated" in r.json()["error"]
    finally:
        srv.stop()
        first.join()


def test_a_busy_store_answers_503_with_retry_after_not_a_wait(pg_cluster):
    """Every database connection taken: 503 with Retry-After once the short pool wait is
    over, not a wait into the kiosk's time-out (issue #13 item 7)."""
    import psycopg

    url = pg_cluster.create_database()
    srv = CentralServer(url, kiosks=KIOSKS, retry_after_s=4,
                        store_options={"pool_size": 1, "pool_wait_s": 0.2})
    srv.start()
    locker = psycopg.connect(url)  # holds a lock until rollback: the pool's one
    answers: list[requests.Response] = []  # connection is stuck behind it
    first = threading.Thread(target=lambda: answers.append(post_batch(srv.url, [make_tx()])))
    try:
        locker.execute("LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE")
        first.start()
        with psycopg.connect(url, autocommit=True) as watcher:
            for _ in range(3000):  # until the first upload waits on the lock
                if watcher.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                   ).fetchone()[0]:
                    break
                time.sleep(0.01)
        r = post_batch(srv.url, [make_tx()])
        assert r.status_code == 503 and r.headers["Retry-After"] == "4"
        assert "saturated" in r.json()["error"]
    finally:
        locker.rollback()
        locker.close()
        first.join(30)
        srv.stop()
        pg_cluster.drop_database(url)
    assert answers[0].status_code == 200  # the one in the store went through


def _quietly(call, *args) -> None:
    try:
        call(*args, timeout=60)
    except requests.RequestException:
        pass


# -- admins --------------------------------------------------------------------------------


def _publish(url: str, bundle, **headers: str) -> requests.Response:
    hdrs = {**admin_headers(), "Content-Type": "application/json", **headers}
    return requests.post(f"{url}/api/v1/admin/menus", data=json.dumps({"bundle": bundle}),
                         headers=hdrs, timeout=10)


def test_publishing_takes_a_bearer_token_never_basic(admin_central, signed):
    r = requests.post(f"{admin_central.url}/api/v1/admin/menus", json={"bundle": signed(2)},
                      auth=("admin", ADMIN_TOKEN), timeout=10)
    assert r.status_code == 401 and "never HTTP Basic" in r.json()["error"]
    assert requests.get(f"{admin_central.url}/api/v1/admin/menus",  # reading may
                        auth=("admin", ADMIN_TOKEN), timeout=10).status_code == 200


@pytest.mark.parametrize("headers, status", [
    ({"Origin": "https://evil.example"}, 403),
    ({"Origin": "null"}, 403),
    ({"Sec-Fetch-Site": "cross-site"}, 403),
    ({"Content-Type": "text/plain"}, 415),
    ({"Content-Type": "application/x-www-form-urlencoded"}, 415),
])
def test_no_cross_site_request_can_publish(admin_central, signed, headers, status):
    r = _publish(admin_central.url, signed(2), **headers)
    assert r.status_code == status
    assert admin_central.store.menu_records() == []


def test_the_central_s_own_origin_may_publish(admin_central, signed):
    r = _publish(admin_central.url, signed(2), Origin=admin_central.url,
                 **{"Sec-Fetch-Site": "same-origin"})
    assert r.status_code == 201, r.text


def test_tokens_are_kept_hashed(tmp_path):
    kiosks, admins = KioskRegistry(FLEET), AdminRegistry(ADMINS)
    for owner in [*kiosks.all(), *(admins.owner_of(a["token"]) for a in ADMINS.values())]:
        assert not hasattr(owner, "token")
        assert all(a["token"] not in repr(vars(owner)) for a in [*FLEET.values(),
                                                                 *ADMINS.values()])
    assert kiosks.authenticate(f"Bearer {FLEET[K1]['token']}").id == K1


def test_a_file_may_give_the_token_s_sha256(tmp_path, keypair):
    digest = hashlib.sha256(KIOSKS[K1]["token"].encode()).hexdigest()
    path = tmp_path / "kiosks.toml"
    path.write_text(f'[kiosks.{K1}]\ntoken_sha256 = "{digest}"\n')
    admin_digest = hashlib.sha256(ADMIN_TOKEN.encode()).hexdigest()
    admins_file = tmp_path / "admins.toml"
    admins_file.write_text(f'[admins.alice]\ntoken_sha256 = "{admin_digest}"\n')
    with CentralServer(tmp_path / "c.db", kiosks=KioskRegistry.from_toml(path),
                       admins=AdminRegistry.from_toml(admins_file),
                       menu_keys={KEY_ID: keypair[1]}) as srv:
        assert post_batch(srv.url, [make_tx()]).status_code == 200
        assert requests.get(f"{srv.url}/api/v1/admin/menus", headers=admin_headers(),
                            timeout=10).status_code == 200
