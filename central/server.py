"""``CentralServer``: the reference central server, in-process or behind ``kiosk-central``."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .admins import AdminRegistry, check_menu_keys
from .catalog import MenuCatalog
from .errors import ConfigError
from .faults import Faults
from .handler import CentralRequestHandler
from .kiosks import Kiosk, KioskRegistry
from .menus import MenuPublisher, PublishedMenu
from .signing import load_private_key, public_key_b64, read_private_key
from .store import Store, open_store

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_REQUEST_TIMEOUT_S = 10.0
DEFAULT_MAX_PUBLISH_BYTES = 3 * 1024 * 1024  # a 2 MiB menu, signed and wrapped


class _HTTPServer(ThreadingHTTPServer):
    """One thread per connection; knows its open connections so that ``stop`` is prompt."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], central: CentralServer) -> None:
        self.central = central
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, CentralRequestHandler)

    def track(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(conn)

    def untrack(self, conn: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(conn)

    def close_connections(self) -> None:
        """Wake every handler blocked on a client: idle keep-alives end at once."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)


class CentralServer:
    """The central API on ``host:port`` with a SQLite store.

    ``kiosks`` maps kiosk ids to ``{"token": ..., "group": ...}`` (or is a ``KioskRegistry``).
    ``signing_key`` is an ``Ed25519PrivateKey``, a key as text (base64 of the raw 32 bytes,
    or PEM), or the ``Path`` of a key file. ``admins`` maps admin names to ``{"token": ...}``
    (or is an ``AdminRegistry``); ``menu_keys`` maps key ids to the base64 public keys whose
    bundles admins may publish (the server's own key is trusted too). ``clock`` gives the
    time heartbeats are received at (tests move it). Nothing is opened before ``start()``.
    """

    def __init__(self, db_path: str | Path, host: str = "127.0.0.1", port: int = 0,
                 kiosks: Mapping[str, Mapping[str, Any]] | KioskRegistry | None = None,
                 menu_file: str | Path | None = None,
                 signing_key: Ed25519PrivateKey | str | Path | None = None,
                 key_id: str | None = None, *,
                 admins: Mapping[str, Mapping[str, Any]] | AdminRegistry | None = None,
                 menu_keys: Mapping[str, str] | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 max_publish_bytes: int = DEFAULT_MAX_PUBLISH_BYTES,
                 request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
                 fleet_refresh_s: int = 30,
                 clock: Callable[[], float] = time.time) -> None:
        self.db_path = Path(db_path)
        self.db = db_path  # a --db value: postgresql://..., sqlite:///..., or a path
        self.host = host
        self.port = port
        self.kiosks = kiosks if isinstance(kiosks, KioskRegistry) else KioskRegistry(kiosks or {})
        self.menu_file = None if menu_file is None else Path(menu_file)
        self._signing_key = signing_key
        self.key_id = key_id
        self.admins = admins if isinstance(admins, AdminRegistry) else AdminRegistry(admins or {})
        self.admins.check_disjoint(self.kiosks)
        self.max_body_bytes = max_body_bytes
        self.max_publish_bytes = max_publish_bytes
        self.request_timeout_s = request_timeout_s
        self.fleet_refresh_s = fleet_refresh_s
        self.clock = clock
        #: Fault injection for tests and demos; see ``central.faults``.
        self.faults = Faults()
        #: Set while stopping; waits inside handlers (an injected delay) end early.
        self.stopping = threading.Event()
        self.store: Store | None = None
        self.menus = MenuPublisher(None, None)
        #: Admin-published bundles by target; ``menus`` is the fallback.
        self.catalog = MenuCatalog(self.kiosks, check_menu_keys(menu_keys or {}),
                                   self.menus.current)
        self._key_loaded = False
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> CentralServer:
        """Open the store, publish the menu, listen, and serve on a background thread."""
        if self._httpd is not None:
            raise RuntimeError("the server is already started")
        if self.menu_file is not None and (self._signing_key is None or not self.key_id):
            raise ConfigError("a menu file needs a signing key and a key id")
        self._load_key()
        if self.menu_file is not None:
            self.menus.watch_file(self.menu_file)
        self.stopping.clear()
        self.store = open_store(self.db)
        self.catalog.load(self.store)
        try:
            self._httpd = _HTTPServer((self.host, self.port), self)
        except OSError as exc:
            self.store.close()
            raise ConfigError(f"cannot listen on {self.host}:{self.port} ({exc.strerror})"
                              ) from None
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="central-http", daemon=True)
        self._thread.start()
        log.info("central listening on %s; kiosks: %d, admins: %d, menu: %s", self.url,
                 len(self.kiosks), len(self.admins),
                 "published" if self.menus.current() else "none")
        return self

    def stop(self) -> None:
        """Stop listening, end open connections, wait for handlers, close the store."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            self.stopping.set()
            httpd.shutdown()
            httpd.close_connections()
            httpd.server_close()  # joins the handler threads
            if self._thread is not None:
                self._thread.join()
        if self.store is not None:
            self.store.close()

    def __enter__(self) -> CentralServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def fleet_url(self) -> str:
        """The admins' fleet page (HTML; an admin token as the Basic password)."""
        return f"{self.url}/admin/fleet"

    # -- menus -----------------------------------------------------------------------------

    def publish_menu(self, menu: dict[str, Any], *, validate: bool = True) -> PublishedMenu:
        """Sign ``menu`` with the server's key and serve it from now on (``validate``: refuse
        a menu that kiosks would reject; off to test kiosk rejections)."""
        self._load_key()
        return self.menus.publish(menu, validate=validate)

    def publish_bundle(self, bundle: dict[str, Any]) -> PublishedMenu:
        """Serve ``bundle`` as given, e.g. one with a bad signature, to test kiosk rejections."""
        return self.menus.publish_bundle(bundle)

    def menu_for(self, kiosk: Kiosk) -> PublishedMenu | None:
        """The bundle ``kiosk`` gets: the newest version aimed at it, its group or all kiosks
        (``catalog``), or the server-signed menu."""
        return self.catalog.for_kiosk(kiosk)

    def _load_key(self) -> None:
        if not self._key_loaded and self._signing_key is not None:
            key = _private_key(self._signing_key)
            self.menus.set_signing_key(key, self.key_id)
            if self.key_id:  # what the server signs, kiosks trust: so may its admins
                self.catalog.trusted_keys.setdefault(self.key_id, public_key_b64(key))
        self._key_loaded = True


def _private_key(value: Ed25519PrivateKey | str | Path) -> Ed25519PrivateKey:
    if isinstance(value, Ed25519PrivateKey):
        return value
    if isinstance(value, os.PathLike):
        return read_private_key(value)
    return load_private_key(value)
