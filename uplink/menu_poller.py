"""Fetching signed menus from the central platform and deciding whether to apply them. Qt-free.

``MenuUpdater.check()`` is one round of central API section 2: a GET with ``If-None-Match``;
on a ``200`` the body must be at most 2 MiB of JSON, a bundle whose signature verifies with
the trusted key it names, a valid menu, and a version greater than the running one. Such a
menu is stored atomically as the last known good and handed to ``on_menu`` (the app shows it
from the next return home). Anything else is a rejection: the running menu stays, and the
reason is logged, kept on disk and put on the status board for the heartbeat. Network
failures and error statuses are not rejections; the next poll tries again.

``MenuPoller`` runs the checks on its own thread every ``menu_poll_s``.
"""

from __future__ import annotations

import enum
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from contract import menu as menu_mod
from contract.signing import SignatureError, verify_bundle
from uplink.errors import MenuStoreError, SyncError
from uplink.loop import BackgroundLoop
from uplink.menu_store import MenuStore, bundle_version

if TYPE_CHECKING:
    from uplink.client import CentralClient

log = logging.getLogger(__name__)

MAX_MENU_BYTES = menu_mod.MAX_MENU_BYTES
MAX_REASON_CHARS = 300

# The first words of a rejection's reason (the signature's kinds come from menu_signature).
OVER_SIZE = "over 2 MiB"
NOT_JSON = "not JSON"
INVALID = "invalid document"
NOT_NEWER = "not newer"


class Result(enum.StrEnum):
    UNCHANGED = "unchanged"  # 304, or nothing to do
    APPLIED = "applied"  # a newer menu was stored and handed over
    REJECTED = "rejected"  # a fetched menu was refused; the running one stays
    FAILED = "failed"  # no usable answer (network, auth, 5xx...); the next poll tries again


@dataclass(frozen=True)
class Outcome:
    result: Result
    version: int | None = None
    reason: str = ""


class MenuBoard(Protocol):
    """What the updater needs of ``uplink.status_board.StatusBoard``."""

    def set_menu(self, version: int, rejected: dict | None = None) -> None: ...


class MenuUpdater:
    """Decides about fetched menus. ``check`` runs on one thread at a time (the poller's).

    ``public_keys`` is ``central.menu_keys``; ``running_version`` the version the kiosk runs
    now; ``on_menu(Menu)`` is called with each applied menu, on the checking thread.
    """

    def __init__(self, client: CentralClient, store: MenuStore, board: MenuBoard,
                 public_keys: Mapping[str, str], running_version: int,
                 on_menu: Callable[[menu_mod.Menu], None] | None = None):
        self.client = client
        self.store = store
        self.board = board
        self.public_keys = dict(public_keys)
        self.running_version = running_version
        self.on_menu = on_menu
        self.etag: str | None = None  # sent as If-None-Match: the last fetched bundle's
        self._applied_etag: str | None = None  # the ETag of the stored bundle that runs

    def prepare(self) -> None:
        """Before the first check: remove unfinished writes, take the stored bundle's ETag
        when it is the running menu, and report a rejection remembered from before."""
        self.store.clean()
        try:
            stored = self.store.read()
        except MenuStoreError as exc:
            log.warning("stored menu: %s", exc)
            stored = None
        if stored is not None and stored.version == self.running_version:
            self.etag = self._applied_etag = stored.etag
        rejection = self.store.rejection()
        if rejection is not None:
            self.board.set_menu(self.running_version, {"version": rejection["version"],
                                                       "reason": rejection["reason"]})

    def close(self) -> None:
        self.client.close()

    def check(self) -> Outcome:
        """One poll: fetch, and apply or reject what came."""
        try:
            response = self.client.get_menu(self.etag)
        except SyncError as exc:
            log.warning("menu check failed (%s); trying again at the next poll", exc)
            return Outcome(Result.FAILED, reason=str(exc))
        if response.status == 304:
            if self.etag is not None and self.etag == self._applied_etag:
                self._clear_rejection()  # the last fetched menu is the one that runs
            log.debug("menu unchanged (version %d)", self.running_version)
            return Outcome(Result.UNCHANGED, self.running_version)
        if response.status != 200:
            # 404: the central has no menu for this kiosk yet, a normal state of a new
            # central; the kiosk keeps its own menu without a warning every poll.
            level = logging.INFO if response.status == 404 else logging.WARNING
            log.log(level, "menu check: HTTP %d (%s); trying again at the next poll",
                    response.status, response.text(200))
            return Outcome(Result.FAILED, reason=f"HTTP {response.status}")
        etag = response.headers.get("ETag") or None
        if response.truncated or len(response.body) > MAX_MENU_BYTES:
            return self._reject(None, OVER_SIZE,
                                f"the answer is over {MAX_MENU_BYTES} bytes", etag)
        return self.consider(response.body, etag)

    def consider(self, body: bytes, etag: str | None = None) -> Outcome:
        """Apply or reject a fetched bundle's bytes (at most 2 MiB)."""
        if not body.strip():
            return self._reject(None, NOT_JSON, "the answer is empty", etag)
        try:
            bundle = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            return self._reject(None, NOT_JSON, str(exc), etag)
        except RecursionError:
            return self._reject(None, NOT_JSON, "nested too deeply", etag)
        version = bundle_version(bundle)  # for the report, before anything is verified
        try:
            doc = verify_bundle(bundle, self.public_keys)
            menu = menu_mod.parse(doc, "menu")
        except SignatureError as exc:
            return self._reject(version, exc.kind, str(exc), etag)
        except menu_mod.MenuError as exc:
            more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
            return self._reject(version, INVALID, exc.problems[0] + more, etag)
        except RecursionError:
            return self._reject(version, INVALID, "nested too deeply", etag)
        if menu.version <= self.running_version:
            return self._reject(menu.version, NOT_NEWER, f"version {menu.version} is not "
                                f"greater than the running version {self.running_version}",
                                etag)
        try:
            self.store.save(bundle, etag)
        except OSError as exc:
            log.error("menu version %d not stored (%s); not applied, trying again at the "
                      "next poll", menu.version, exc)
            return Outcome(Result.FAILED, menu.version, f"cannot store the menu: {exc}")
        self.running_version = menu.version
        self.etag = self._applied_etag = etag
        self._clear_rejection()
        log.info("menu version %d verified (key %r) and stored; it shows from the next "
                 "return to the home screen", menu.version, bundle["key_id"])
        if self.on_menu is not None:
            try:
                self.on_menu(menu)
            except Exception:
                log.exception("handing over menu version %d failed", menu.version)
        return Outcome(Result.APPLIED, menu.version)

    def _reject(self, version: int | None, kind: str, detail: str,
                etag: str | None) -> Outcome:
        reason = f"{kind}: {detail}"
        if len(reason) > MAX_REASON_CHARS:
            reason = reason[:MAX_REASON_CHARS - 1] + "…"
        self.etag = etag  # the same bundle is not fetched again until the central changes it
        log.warning("menu %s rejected: %s; version %d keeps running",
                    "?" if version is None else f"version {version}", reason,
                    self.running_version)
        self.board.set_menu(self.running_version, {"version": version, "reason": reason})
        try:
            self.store.set_rejection(version, reason)
        except OSError as exc:
            log.error("the menu rejection could not be saved: %s", exc)
        return Outcome(Result.REJECTED, version, reason)

    def _clear_rejection(self) -> None:
        self.board.set_menu(self.running_version, None)
        try:
            self.store.clear_rejection()
        except OSError as exc:
            log.error("the old menu rejection could not be removed: %s", exc)


class MenuPoller(BackgroundLoop):
    """Runs ``updater.check`` on its own daemon thread: once at start, then every
    ``poll_s`` seconds, or at once after ``wake()``. Closes the updater's client at the end."""

    round_name = "menu check"

    def __init__(self, updater: MenuUpdater, poll_s: float, name: str = "menu-poller"):
        super().__init__(poll_s, name=name)
        self.updater = updater

    @property
    def poll_s(self) -> float:
        return self.interval_s

    def prepare(self) -> bool:
        self.updater.prepare()
        return True

    def run_round(self) -> None:
        self.updater.check()

    def finish(self) -> None:
        self.updater.close()
