"""HTTP behaviour: JSON everywhere, 404/405, Content-Length only, no hanging on slow clients."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests
from central_helpers import K1, KIOSKS, headers, heartbeat_body, make_tx, post_batch

from central.server import CentralServer


def _raw(srv: CentralServer, data: bytes, timeout: float = 5.0) -> tuple[int, dict, bytes]:
    """Send raw bytes, read until the server closes; (status, headers, body)."""
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as s:
        s.sendall(data)
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    hdrs = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), hdrs, body


def _post_head(length: str, extra: str = "") -> bytes:
    token = KIOSKS[K1]["token"]
    return (f"POST /api/v1/transactions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"X-Kiosk-Id: {K1}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


@pytest.mark.parametrize("path", ["/", "/api/v1", "/api/v1/transactions/x",
                                  f"/api/v1/kiosks/{K1}/other", "/api/v2/transactions"])
def test_unknown_path_is_404_json(shared_central, path):
    r = requests.get(shared_central.url + path, headers=headers(K1), timeout=10)
    assert r.status_code == 404
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]


@pytest.mark.parametrize("method, path, allow", [
    ("GET", "/api/v1/transactions", "POST"),
    ("PUT", "/api/v1/transactions", "POST"),
    ("DELETE", f"/api/v1/kiosks/{K1}/menu", "GET"),
    ("POST", f"/api/v1/kiosks/{K1}/menu", "GET"),
    ("GET", f"/api/v1/kiosks/{K1}/heartbeat", "POST"),
])
def test_wrong_method_is_405_json(shared_central, method, path, allow):
    r = requests.request(method, shared_central.url + path, headers=headers(K1),
                         json={"a": 1}, timeout=10)
    assert r.status_code == 405
    assert r.headers["Allow"] == allow
    assert r.headers["Content-Type"] == "application/json"
    assert r.json()["error"]


def test_query_string_is_ignored(central):
    r = requests.post(central.url + "/api/v1/transactions?x=1", headers=headers(K1),
                      json={"kiosk_id": K1, "transactions": [make_tx()]}, timeout=10)
    assert r.status_code == 200


def test_keep_alive_connection_serves_many_requests(central):
    with requests.Session() as s:
        for _ in range(5):
            assert post_batch(central.url, [make_tx()], session=s).status_code == 200
            r = s.post(f"{central.url}/api/v1/kiosks/{K1}/heartbeat", json=heartbeat_body(K1),
                       headers=headers(K1), timeout=10)
            assert r.status_code == 204
        # An error answer in between does not spoil the connection either.
        assert s.get(central.url + "/nowhere", timeout=10).status_code == 404
        assert post_batch(central.url, [make_tx()], session=s).status_code == 200
    assert central.store.transactions_count() == 6


@pytest.mark.parametrize("length", ["abc", "-5", "1.5", "12, 12", "０"])
def test_bad_content_length_is_400(shared_central, length):
    status, hdrs, body = _raw(shared_central, _post_head(length) + b"{}")
    assert status == 400
    assert hdrs["Content-Type"] == "application/json"
    assert json.loads(body)["error"]


def test_missing_content_length_is_411(shared_central):
    request = _post_head("0").replace(b"Content-Length: 0\r\n", b"")
    status, hdrs, body = _raw(shared_central, request)
    assert status == 411
    assert json.loads(body)["error"]


def test_chunked_body_is_411(shared_central):
    request = _post_head("0").replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
    status, _, _ = _raw(shared_central, request + b"2\r\n{}\r\n0\r\n\r\n")
    assert status == 411


def test_garbage_request_line_is_answered_in_json(shared_central):
    status, hdrs, body = _raw(shared_central, b"HELLO THERE\r\n\r\n")
    assert status == 400
    assert hdrs["Content-Type"] == "application/json"
    assert json.loads(body)["error"]


def test_a_body_that_never_arrives_gets_408_in_time(bare_central):
    t0 = time.monotonic()
    status, _, body = _raw(bare_central, _post_head("500") + b'{"kiosk_id": ')
    assert status == 408
    assert json.loads(body)["error"]
    assert time.monotonic() - t0 < 3  # the server's time-out is 0.5 s here


def test_a_trickling_client_is_cut_off(bare_central):
    t0 = time.monotonic()
    with socket.create_connection((bare_central.host, bare_central.port), timeout=5) as s:
        s.sendall(_post_head("500"))
        try:
            for _ in range(40):  # one byte every 0.1 s: each read is quick, the whole is not
                s.sendall(b" ")
                time.sleep(0.1)
        except OSError:
            pass  # the server closed the connection: what this test wants
        reply = s.recv(65536)
    assert reply.startswith(b"HTTP/1.1 408") or reply == b""
    assert time.monotonic() - t0 < 4.5


def test_an_idle_connection_is_closed(bare_central):
    with socket.create_connection((bare_central.host, bare_central.port), timeout=5) as s:
        t0 = time.monotonic()
        assert s.recv(1024) == b""  # the server hangs up after its time-out
        assert time.monotonic() - t0 < 3


def test_stop_is_prompt_with_open_keep_alive_connections(tmp_path):
    srv = CentralServer(tmp_path / "c.db", kiosks=KIOSKS)
    srv.start()
    sessions = [requests.Session() for _ in range(3)]
    for s in sessions:
        assert post_batch(srv.url, [make_tx()], session=s).status_code == 200
    t0 = time.monotonic()
    srv.stop()
    assert time.monotonic() - t0 < 2  # not the 10 s keep-alive time-out
    for s in sessions:
        s.close()
    with pytest.raises(requests.ConnectionError):
        post_batch(srv.url, [make_tx()])
