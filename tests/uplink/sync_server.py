"""A scriptable central platform on 127.0.0.1 for the upload tests.

By default it answers as central API version 1 says: it checks the bearer token, stores
transactions by id and answers ``accepted`` or ``duplicate``, and takes heartbeats with 204.
A test can queue scripted answers per endpoint (status, headers, body, delay, or a reset in
the middle of the answer), and reads back every request with its headers and body.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

TOKEN = "test-token-1"
KIOSK_ID = "ZJ-HZ-0001"


@dataclass
class Scripted:
    """One scripted answer. ``body`` may be bytes, text, or JSON-able (dict or list).
    ``delay`` waits before answering; ``reset`` sends the headers and a part of the body
    and then resets the connection; ``process`` first handles the request as by default
    (so transactions are stored) and then answers as scripted; ``as_default()`` answers as
    by default, to script a later request."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    reset: bool = False
    process: bool = False
    default: bool = False

    @classmethod
    def as_default(cls) -> Scripted:
        """Answer this one request as the server does by default."""
        return cls(default=True)


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def endpoint(self) -> str:
        return _endpoint(self.path)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def ids(self) -> list[str]:
        return [tx["id"] for tx in self.json()["transactions"]]


class SyncServer:
    """``start()`` listens on an ephemeral port (or the one it had: a restart keeps it)."""

    def __init__(self, token: str = TOKEN, kiosk_id: str = KIOSK_ID,
                 tls: ssl.SSLContext | None = None) -> None:
        self.token = token
        self.tls = tls
        self.kiosk_id = kiosk_id
        self.port = 0
        self.requests: list[Recorded] = []
        self.stored: dict[str, dict] = {}
        self.received: dict[str, int] = defaultdict(int)  # id -> times it arrived
        self.heartbeats: list[dict] = []
        self.reject: dict[str, str] = {}  # id -> reason: answered "rejected"
        self.omit: set[str] = set()  # ids left out of the results
        self.too_large: set[str] = set()  # a batch holding one of them is answered 413
        self._scripts: dict[str, deque[Scripted]] = defaultdict(deque)
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._released = threading.Event()

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def script(self, *answers: Scripted, endpoint: str = "transactions") -> None:
        with self._lock:
            self._scripts[endpoint].extend(answers)

    def requests_to(self, endpoint: str) -> list[Recorded]:
        with self._lock:
            return [r for r in self.requests if r.endpoint == endpoint]

    def start(self) -> SyncServer:
        self._released.clear()
        httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        httpd.daemon_threads = True
        if self.tls is not None:
            httpd.socket = self.tls.wrap_socket(httpd.socket, server_side=True)
        httpd.sync_server = self  # type: ignore[attr-defined]
        httpd.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (connections are then refused) and release delayed answers."""
        self._released.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    # --- called by the handler ----------------------------------------------------------

    def _next_script(self, endpoint: str) -> Scripted | None:
        with self._lock:
            queue = self._scripts[endpoint]
            return queue.popleft() if queue else None

    def _record(self, request: Recorded) -> None:
        with self._lock:
            self.requests.append(request)

    def _default(self, request: Recorded) -> tuple[int, Any]:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {"error": "missing or unknown bearer token"}
        if request.endpoint == "heartbeat":
            with self._lock:
                self.heartbeats.append(request.json())
            return 204, None
        if request.endpoint != "transactions":
            return 404, {"error": "not found"}
        transactions = request.json()["transactions"]
        results = []
        with self._lock:
            if any(tx["id"] in self.too_large for tx in transactions):
                return 413, {"error": "too large"}
            for tx in transactions:
                tx_id = tx["id"]
                self.received[tx_id] += 1
                if tx_id in self.omit:
                    continue
                if tx_id in self.reject:
                    results.append({"id": tx_id, "status": "rejected",
                                    "reason": self.reject[tx_id]})
                elif tx_id in self.stored:
                    results.append({"id": tx_id, "status": "duplicate"})
                else:
                    self.stored[tx_id] = tx
                    results.append({"id": tx_id, "status": "accepted"})
        return 200, {"results": results}


def _endpoint(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


class _Handler(BaseHTTPRequestHandler):
    server_version = "SyncServer/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle()

    def do_POST(self) -> None:  # noqa: N802
        self._handle()

    def _handle(self) -> None:
        server: SyncServer = self.server.sync_server  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Recorded(self.command, self.path,
                           {k.lower(): v for k, v in self.headers.items()}, body)
        server._record(request)
        scripted = server._next_script(request.endpoint)
        if scripted is None or scripted.default:
            self._answer(*server._default(request))
            return
        if scripted.process:
            server._default(request)
        if scripted.delay and server._released.wait(scripted.delay):
            return  # the server is stopping
        if scripted.reset:
            self._reset(scripted)
            return
        self._answer(scripted.status, scripted.body, scripted.headers)

    def _answer(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = _encode(body)
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if data or status not in (204, 304):
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _reset(self, scripted: Scripted) -> None:
        """Promise a long body, send a bit of it, then close with RST (SO_LINGER 0)."""
        part = _encode(scripted.body) or b'{"results": ['
        self.send_response(scripted.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(part) + 1000))
        self.end_headers()
        self.wfile.write(part)
        self.wfile.flush()
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()
        self.rfile.close()


def _encode(body: Any) -> bytes:
    if body is None:
        return b""
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8")
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


@contextmanager
def running(**kwargs: Any) -> Iterator[SyncServer]:
    server = SyncServer(**kwargs).start()
    try:
        yield server
    finally:
        server.stop()
