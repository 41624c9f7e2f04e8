"""``CentralServer``: the reference central server, in-process or behind ``kiosk-central``."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from .admins import AdminRegistry, check_menu_keys
from .catalog import MenuCatalog
from .drafts import DraftBook
from .errors import ConfigError
from .faults import Faults
from .fleet_view import FleetView
from .kiosks import Kiosk, KioskRegistry
from .menus import MenuPublisher, PublishedMenu
from .previews import PreviewRunner
from .signing import load_private_key, public_key_b64, read_private_key
from .store import Store, open_store
from .upload_janitor import DEFAULT_UPLOAD_MAX_AGE_S, UploadJanitor
from .web.app import SaturationGuard, build_app
from .web.protocol import Limits
from .web.serve import ThreadedServer, TlsFiles, bind, fit_open_files, uvicorn_config

if TYPE_CHECKING:
    from .outbox import Outbox

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
DEFAULT_REQUEST_TIMEOUT_S = 10.0
DEFAULT_MAX_PUBLISH_BYTES = 3 * 1024 * 1024  # a 2 MiB menu, signed and wrapped
DEFAULT_MAX_CONNECTIONS = 10_000
DEFAULT_MAX_INFLIGHT = 512
DEFAULT_RETRY_AFTER_S = 5
DEFAULT_PURGE_AFTER_S = 7 * 86400.0  # as central.outbox's
DEFAULT_COMMAND_EXPIRY_S = 3600.0  # a fleet command not delivered within it is expired


class CentralServer:
    """The central API on ``host:port`` with the store a ``--db`` value names, served by
    uvicorn on a thread.

    ``kiosks`` maps kiosk ids to ``{"token": ..., "group": ...}`` (or is a ``KioskRegistry``).
    ``signing_key`` is an ``Ed25519PrivateKey``, a key as text (base64 of the raw 32 bytes,
    or PEM), or the ``Path`` of a key file. ``admins`` maps admin names to ``{"token": ...}``
    (or is an ``AdminRegistry``); ``menu_keys`` maps key ids to the base64 public keys whose
    bundles admins may publish (the server's own key is trusted too); ``release_keys`` the
    keys of signed releases admins may publish (none: only the manifest is checked).
    ``clock`` gives the time heartbeats are received at (tests move it).
    ``tls_cert``/``tls_key`` serve HTTPS.
    Limits: ``request_timeout_s`` for a whole request (head and body), ``max_connections``
    open at once, ``max_inflight`` requests handled at once (past it: 503 with
    ``Retry-After: retry_after_s``). ``forward_url`` starts the outbox with the server
    (``forward_secret`` the HMAC key, ``purge_after_s`` as ``--purge-after``,
    ``outbox_options`` more keywords of ``Outbox``). ``store_options``: ``pool_size`` and
    ``pool_wait_s`` of a PostgreSQL store (past the wait: 503 with ``Retry-After``).
    ``require_approval``: menu drafts (``drafts``, previews in ``previews``) need a second
    admin's approval to be published. ``command_expiry_s``: a fleet command not delivered
    within it is ``expired`` and never sent (None: kept until delivered).
    Nothing is opened before ``start()``.
    """

    def __init__(self, db_path: str | Path, host: str = "127.0.0.1", port: int = 0,
                 kiosks: Mapping[str, Mapping[str, Any]] | KioskRegistry | None = None,
                 menu_file: str | Path | None = None,
                 signing_key: Ed25519PrivateKey | str | Path | None = None,
                 key_id: str | None = None, *,
                 admins: Mapping[str, Mapping[str, Any]] | AdminRegistry | None = None,
                 menu_keys: Mapping[str, str] | None = None,
                 release_keys: Mapping[str, str] | None = None,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
                 max_publish_bytes: int = DEFAULT_MAX_PUBLISH_BYTES,
                 request_timeout_s: float = DEFAULT_REQUEST_TIMEOUT_S,
                 fleet_refresh_s: int = 30,
                 clock: Callable[[], float] = time.time,
                 tls_cert: str | Path | None = None, tls_key: str | Path | None = None,
                 max_connections: int = DEFAULT_MAX_CONNECTIONS,
                 max_inflight: int = DEFAULT_MAX_INFLIGHT,
                 retry_after_s: int = DEFAULT_RETRY_AFTER_S,
                 forward_url: str | None = None, forward_secret: bytes | None = None,
                 purge_after_s: float | None = DEFAULT_PURGE_AFTER_S,
                 outbox_options: Mapping[str, Any] | None = None,
                 store_options: Mapping[str, Any] | None = None,
                 require_approval: bool = False,
                 command_expiry_s: float | None = DEFAULT_COMMAND_EXPIRY_S,
                 upload_max_age_s: float | None = DEFAULT_UPLOAD_MAX_AGE_S) -> None:
        self.db = db_path  # a --db value: postgresql://..., sqlite:///..., or a path
        self.host, self.port = host, port
        self.kiosks = kiosks if isinstance(kiosks, KioskRegistry) else KioskRegistry(kiosks or {})
        self.menu_file = None if menu_file is None else Path(menu_file)
        self._signing_key, self.key_id = signing_key, key_id
        self.admins = admins if isinstance(admins, AdminRegistry) else AdminRegistry(admins or {})
        self.admins.check_disjoint(self.kiosks)
        self.max_body_bytes, self.max_publish_bytes = max_body_bytes, max_publish_bytes
        self.request_timeout_s, self.fleet_refresh_s = request_timeout_s, fleet_refresh_s
        self.clock = clock
        if (tls_cert is None) != (tls_key is None):
            raise ConfigError("TLS needs both a certificate and a key file")
        self.tls = None if tls_cert is None else TlsFiles(Path(tls_cert), Path(tls_key))
        self.max_connections, self.max_inflight = max_connections, max_inflight
        self.retry_after_s, self.purge_after_s = retry_after_s, purge_after_s
        self.command_expiry_s = command_expiry_s
        #: True in a worker process of ``serve --workers``: its answers name the worker.
        self.is_worker = False
        self.forward_url, self.forward_secret = forward_url, forward_secret
        self.outbox_options = dict(outbox_options or {})
        self.store_options = dict(store_options or {})
        self.outbox: Outbox | None = None  # the deliverer, while running (``start_outbox``)
        self.fleet_view = FleetView(self)  # every kiosk's last heartbeats, for the fleet page
        self.faults = Faults()  # fault injection for tests and demos; see central.faults
        self.stopping = threading.Event()  # set while stopping: waits in handlers end early
        self.store: Store | None = None
        self.menus = MenuPublisher(None, None)
        self.release_keys = check_menu_keys(release_keys or {}, "release_keys")
        #: Admin-published bundles by target; ``menus`` is the fallback.
        self.catalog = MenuCatalog(self.kiosks, check_menu_keys(menu_keys or {}),
                                   self.menus.current)
        self.drafts, self.previews = DraftBook(self, require_approval), PreviewRunner()
        self.uploads = UploadJanitor(lambda: self.store, clock, upload_max_age_s)  # None: keep
        self._key_loaded = False
        self._web: ThreadedServer | None = None
        self._app: SaturationGuard | None = None

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> CentralServer:
        """Open the store, publish the menu, listen, and serve on a background thread."""
        if self._web is not None:
            raise RuntimeError("the server is already started")
        self.open()
        try:
            sock = bind(self.host, self.port)
            self.port = sock.getsockname()[1]
            self._app = build_app(self)
            self._web = ThreadedServer(uvicorn_config(self._app, self.limits(), self.tls), sock)
            self._web.start()
        except BaseException:
            self._web = None
            self.store.close()
            raise
        try:
            self.start_outbox()
        except BaseException:
            self.stop()
            raise
        log.info("central listening on %s; kiosks: %d, admins: %d, menu: %s", self.url,
                 len(self.kiosks), len(self.admins),
                 "published" if self.menus.current() else "none")
        return self

    def open(self) -> CentralServer:
        """Everything but listening: the signing key, the menu, the store, published menus.
        ``start`` calls it; a worker process of ``kiosk-central serve --workers`` too."""
        if self.menu_file is not None and (self._signing_key is None or not self.key_id):
            raise ConfigError("a menu file needs a signing key and a key id")
        self._load_key()
        if self.menu_file is not None:
            self.menus.watch_file(self.menu_file)
        self.stopping.clear()
        self.store = open_store(self.db, **self.store_options)
        self.catalog.load(self.store)
        self.fleet_view.preload()
        return self

    def command_deadline(self, now: float) -> float | None:
        """Fleet commands created before this and not yet delivered are expired (None:
        none expire)."""
        return None if self.command_expiry_s is None else now - self.command_expiry_s

    def limits(self) -> Limits:
        """What the HTTP protocol enforces for this central (the connection bound lowered to
        what the process's open-file limit allows)."""
        return Limits(self.request_timeout_s, fit_open_files(self.max_connections),
                      self.retry_after_s)

    def start_outbox(self) -> Outbox | None:
        """Deliver accepted transactions to ``forward_url`` on a thread and a store
        connection of its own (None without a URL). ``start`` calls it; with ``serve
        --workers`` the supervising process does, once, and no worker."""
        if self.forward_url is None or self.outbox is not None:
            return self.outbox
        from .outbox import Outbox

        store = open_store(self.db)
        try:
            self.outbox = Outbox(store, self.forward_url, self.forward_secret,
                                 purge_after_s=self.purge_after_s, **self.outbox_options)
            self.outbox.start()
        except BaseException:
            self.outbox = None
            store.close()
            raise
        return self.outbox

    def stop_outbox(self) -> None:
        """Stop delivering (what is pending waits in the store) and close its store."""
        outbox, self.outbox = self.outbox, None
        if outbox is not None:
            outbox.stop()
            outbox.store.close()

    def stop(self) -> None:
        """Stop the outbox and listening, end open connections, wait for handlers, close
        the store."""
        self.stop_outbox()
        web, self._web = self._web, None
        if web is not None:
            self.stopping.set()
            web.stop()
        if self.store is not None:
            self.store.close()
        self.previews.close()

    def __enter__(self) -> CentralServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def requests_in_flight(self) -> int:
        """Requests being handled now (0 when not serving)."""
        return 0 if self._app is None else self._app.inflight

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def own_origins(self) -> set[str]:
        """The ``Origin`` a browser sends from a page this central served itself. The Host
        header is not trusted for it (DNS rebinding); no page of the central posts anyway."""
        return {self.url}

    @property
    def fleet_url(self) -> str:
        """The admins' fleet page (HTML; an admin token as the Basic password)."""
        return f"{self.url}/admin/fleet"

    @property
    def editor_url(self) -> str:
        """The admins' menu editor (HTML; an admin token as the Basic password)."""
        return f"{self.url}/admin/menus/editor"

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
