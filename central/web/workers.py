"""``kiosk-central serve --workers N``: N processes serving one listening socket.

uvicorn's own supervisor starts the workers (spawned, so each imports afresh) and restarts
one that dies. Each worker builds its central from the same command line, passed in the
environment (``ARGS_ENV``), and opens the store itself: a worker keeps no state another
needs (menus another process published are picked up by ``MenuCatalog``, which reloads
when the store's menus generation moved). The outbox runs in the supervising process only.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import socket
from collections.abc import Callable
from typing import TYPE_CHECKING

from uvicorn.supervisors import Multiprocess

from .protocol import LimitedHttpProtocol, Limits
from .serve import TlsFiles, uvicorn_config

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from ..server import CentralServer

log = logging.getLogger(__name__)

ARGS_ENV = "KIOSK_CENTRAL_WORKER_ARGS"
LIMITS_ENV = "KIOSK_CENTRAL_WORKER_LIMITS"
PORT_ENV = "KIOSK_CENTRAL_WORKER_PORT"  # the real port when the command line said 0


def _limits_from_env() -> Limits:
    raw = json.loads(os.environ.get(LIMITS_ENV) or "{}")
    return Limits(raw.get("request_timeout_s", 10.0), raw.get("max_connections", 10_000),
                  raw.get("retry_after_s", 5))


class WorkerProtocol(LimitedHttpProtocol):
    """The protocol of a worker process: its limits come from the environment."""

    limits = _limits_from_env()


def make_app() -> ASGIApp:
    """The application of one worker (uvicorn calls this factory in the worker)."""
    from ..cli import build_central
    from .app import build_app

    argv = json.loads(os.environ[ARGS_ENV])
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    central = build_central(argv)
    central.port = int(os.environ[PORT_ENV])
    central.is_worker = True
    app = build_app(central.open())
    gc.freeze()  # what start-up built (the kiosks, the menus) is left out of every collection
    return app


def serve_workers(central: CentralServer, argv: list[str], workers: int,
                  sock: socket.socket, announce: Callable[[], None]) -> None:
    """Serve with ``workers`` processes on ``sock`` until SIGINT or SIGTERM."""
    limits = central.limits()
    os.environ[ARGS_ENV] = json.dumps(argv)
    os.environ[PORT_ENV] = str(central.port)
    os.environ[LIMITS_ENV] = json.dumps({
        "request_timeout_s": limits.request_timeout_s,
        "max_connections": limits.max_connections, "retry_after_s": limits.retry_after_s})
    tls = central.tls
    config = uvicorn_config("central.web.workers:make_app", limits,
                            None if tls is None else TlsFiles(tls.cert, tls.key), workers)
    config.factory = True
    config.http = "central.web.workers:WorkerProtocol"
    announce()
    Multiprocess(config, sockets=[sock]).run()

