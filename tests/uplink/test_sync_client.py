"""CentralClient over real HTTP on 127.0.0.1: headers, token file, transport failures."""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sync_server import KIOSK_ID, TOKEN, Scripted, SyncServer, running
from tls_cert import self_signed, server_context

from uplink.client import CentralClient, ClientResponse, TokenError, TransportError

WIRE_TX = {
    "id": "3f1c7a52-8a7e-4f7e-9a55-0d1f4f3b2c11",
    "service_id": "hpf-withdraw",
    "menu_version": 12,
    "created_at": "2026-11-24T09:30:00Z",
    "identity": {"method": "ga467", "id_number": "330106199001011234", "name": "张三"},
    "fields": {"phone": "13800000000"},
}


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    """The token with blanks around it: the client strips them."""
    path = tmp_path / "token"
    path.write_text(f"  {TOKEN}\n")
    return path


@pytest.fixture
def client(server: SyncServer, token_file: Path) -> Iterator[CentralClient]:
    with CentralClient(server.url + "/", KIOSK_ID, token_file, read_timeout=0.5) as c:
        yield c


def test_upload_carries_token_kiosk_id_and_utf8_json(client, server) -> None:
    response = client.post_transactions([WIRE_TX])
    assert response.status == 200
    assert response.json() == {"results": [{"id": WIRE_TX["id"], "status": "accepted"}]}
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/api/v1/transactions")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["x-kiosk-id"] == KIOSK_ID
    assert request.headers["content-type"] == "application/json"
    assert "张三".encode() in request.body  # UTF-8, not \u escapes
    assert request.json() == {"kiosk_id": KIOSK_ID, "transactions": [WIRE_TX]}


def test_heartbeat_and_menu_paths(client, server) -> None:
    assert client.post_heartbeat({"kiosk_id": KIOSK_ID}).status == 204
    server.script(Scripted(304), endpoint="menu")
    assert client.get_menu('"v12"').status == 304
    heartbeat, menu = server.requests
    assert (heartbeat.method, heartbeat.path) == ("POST", f"/api/v1/kiosks/{KIOSK_ID}/heartbeat")
    assert heartbeat.headers["content-type"] == "application/json"
    assert (menu.method, menu.path) == ("GET", f"/api/v1/kiosks/{KIOSK_ID}/menu")
    assert menu.headers["if-none-match"] == '"v12"'
    assert menu.headers["authorization"] == f"Bearer {TOKEN}"
    assert "content-type" not in menu.headers


def test_a_changed_token_file_is_used_without_a_restart(client, server, token_file) -> None:
    token_file.write_text("wrong\n")
    assert client.post_heartbeat({}).status == 401
    token_file.write_text(TOKEN)
    assert client.post_heartbeat({}).status == 204
    assert [r.headers["authorization"] for r in server.requests] == [
        "Bearer wrong", f"Bearer {TOKEN}"]


@pytest.mark.parametrize("content", [None, "", "  \n", "two words", "line\nbreak"])
def test_a_missing_or_bad_token_file_raises_token_error_before_any_request(
        client, server, token_file, content) -> None:
    if content is None:
        token_file.unlink()
    else:
        token_file.write_text(content)
    with pytest.raises(TokenError, match="token file"):
        client.post_transactions([WIRE_TX])
    assert server.requests == []


def test_connection_refused(client, server) -> None:
    server.stop()
    with pytest.raises(TransportError, match="^connection refused$"):
        client.post_heartbeat({})


def test_reset_in_the_middle_of_the_answer(client, server) -> None:
    server.script(Scripted(reset=True))
    with pytest.raises(TransportError) as info:
        client.post_transactions([WIRE_TX])
    assert str(info.value) in {"connection reset", "the answer broke off (protocol error)"}


def test_a_hanging_server_is_given_up_after_the_read_timeout(client, server) -> None:
    server.script(Scripted(delay=5))
    start = time.monotonic()
    with pytest.raises(TransportError, match="^read timed out$"):
        client.post_transactions([WIRE_TX])
    assert time.monotonic() - start < 4.5  # not the server's 5 s


def test_a_huge_answer_is_cut_off(server, token_file) -> None:
    server.script(Scripted(body=b"x" * (3 * 1024 * 1024)))
    with CentralClient(server.url, KIOSK_ID, token_file) as client:
        response = client.post_transactions([WIRE_TX])
    assert response.truncated and len(response.body) == 1024 * 1024
    with pytest.raises(ValueError):
        response.json()


def test_redirects_are_not_followed(client, server) -> None:
    server.script(Scripted(302, {"Location": "/elsewhere"}))
    assert client.post_transactions([WIRE_TX]).status == 302
    assert len(server.requests) == 1


def test_offline_only_sends_nothing(token_file) -> None:
    client = CentralClient("", KIOSK_ID, token_file)
    assert client.offline_only
    with pytest.raises(TransportError, match="offline-only"):
        client.post_heartbeat({})


def test_unresolvable_host_is_a_transport_error(token_file) -> None:
    with CentralClient("http://no-such-host.invalid", KIOSK_ID, token_file,
                       connect_timeout=2) as client, pytest.raises(TransportError):
        client.post_heartbeat({})


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0),
    ("0", 0.0),
    ("1.5", 1.5),
    (email.utils.formatdate(1000.0 + 600, usegmt=True), 600.0),
    (email.utils.formatdate(1000.0 - 600, usegmt=True), 0.0),  # already past
    ("-5", None),
    ("soon", None),
    ("", None),
])
def test_retry_after_in_seconds_or_as_an_http_date(value, expected) -> None:
    response = ClientResponse(429, {"Retry-After": value} if value else {})
    assert response.retry_after(now=1000.0) == expected


def test_tls_is_verified_against_the_configured_ca_file(tmp_path, token_file) -> None:
    pytest.importorskip("cryptography")
    now = dt.datetime.now(dt.UTC)
    cert_file, key_file = self_signed(tmp_path, now - dt.timedelta(hours=1),
                                      now + dt.timedelta(days=1))
    context = server_context(cert_file, key_file)
    with running(tls=context) as server:
        with CentralClient(server.url, KIOSK_ID, token_file, ca_file=cert_file) as trusting:
            assert trusting.post_heartbeat({}).status == 204
        with CentralClient(server.url, KIOSK_ID, token_file, connect_timeout=2,
                           read_timeout=2) as default_store, \
                pytest.raises(TransportError, match="^TLS error"):
            default_store.post_heartbeat({})
    assert len(server.heartbeats) == 1


def test_tls_to_a_plain_http_server_is_a_transport_error(server, token_file) -> None:
    url = server.url.replace("http://", "https://")
    with CentralClient(url, KIOSK_ID, token_file, read_timeout=2) as client, \
            pytest.raises(TransportError, match="^TLS error"):
        client.post_heartbeat({})
