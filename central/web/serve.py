"""Running the application on uvicorn: in a thread of this process (``ThreadedServer``, for
``CentralServer``), on a socket bound here so that ``--port 0`` knows its port at once."""

from __future__ import annotations

import logging
import resource
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from starlette.types import ASGIApp

from ..errors import ConfigError
from .protocol import Limits, protocol_class

log = logging.getLogger(__name__)

BACKLOG = 2048
START_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class TlsFiles:
    cert: Path
    key: Path


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (``0``: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    sock.set_inheritable(True)
    return sock


def fit_open_files(max_connections: int, spare: int = 256) -> int:
    """Raise this process's open-file limit to hold ``max_connections`` (and ``spare`` for
    the store and the rest); the bound that fits if the hard limit is lower."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = max_connections + spare
    if soft < wanted and (hard == resource.RLIM_INFINITY or soft < hard):
        soft = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        except (ValueError, OSError):
            soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    if soft < wanted:
        fitting = max(1, soft - spare)
        log.warning("open-file limit %d: at most %d connections, not %d", soft, fitting,
                    max_connections)
        return fitting
    return max_connections


def uvicorn_config(app: ASGIApp, limits: Limits, tls: TlsFiles | None,
                   workers: int = 1) -> uvicorn.Config:
    """uvicorn's settings for the central: our protocol, no lifespan, no access log (the
    application logs what matters, and never a header)."""
    for path in () if tls is None else (tls.cert, tls.key):
        if not Path(path).is_file():
            raise ConfigError(f"{path}: no such TLS file")
    return uvicorn.Config(
        app, http=protocol_class(limits), lifespan="off", log_config=None, access_log=False,
        proxy_headers=False, server_header=False, backlog=BACKLOG, workers=workers,
        timeout_keep_alive=max(1, int(limits.request_timeout_s)),
        timeout_graceful_shutdown=2,
        ssl_certfile=None if tls is None else str(tls.cert),
        ssl_keyfile=None if tls is None else str(tls.key))


class ThreadedServer:
    """uvicorn serving ``app`` on ``sock`` from a background thread."""

    def __init__(self, config: uvicorn.Config, sock: socket.socket) -> None:
        self._server = uvicorn.Server(config)
        self._sock = sock
        self._thread = threading.Thread(target=self._run, name="central-http", daemon=True)
        self._error: BaseException | None = None

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as exc:  # noqa: BLE001 - reported to start()
            self._error = exc

    def start(self) -> None:
        try:
            self._server.config.load()  # a TLS file that cannot be used fails here
        except Exception as exc:  # noqa: BLE001 - ssl errors and the like, as one line
            self._sock.close()
            raise ConfigError(f"cannot serve: {exc}") from None
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise ConfigError(f"the web server did not start ({self._error!r})")
            time.sleep(0.005)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout=5)
        self._sock.close()
