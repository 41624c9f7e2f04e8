"""Admin-published menus: which bundle each kiosk gets, and the checks before one is kept.

A bundle is aimed at all kiosks, a group or one kiosk. A kiosk gets the greatest version
among the newest bundles aimed at it, its group and all kiosks, and the server-signed menu
(``MenuPublisher``) as a fallback; on a tie the most specific target wins. The bytes and
ETag of each target's newest bundle are computed once, at publication or at start; another
central process's publications on the same database are picked up within ``refresh_s``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from contract.menu import MAX_MENU_BYTES

from .errors import CentralError, SignatureError, VersionTaken
from .kiosks import Kiosk, KioskRegistry
from .menus import PublishedMenu, menu_problems, published
from .signing import BUNDLE_KEYS, verify_bundle
from .store import Store

log = logging.getLogger(__name__)

TARGET_KINDS = ("kiosk", "group", "all")  # most specific first


@dataclass(frozen=True)
class MenuTarget:
    """Who a bundle is for: ``all`` kiosks, a ``group`` by name, or one ``kiosk`` by id."""

    kind: str
    value: str = ""

    def __str__(self) -> str:
        return "all kiosks" if self.kind == "all" else f"{self.kind} {self.value}"

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "value": self.value or None}


ALL = MenuTarget("all")


class PublishRefused(CentralError):
    """A bundle the central does not keep; ``status`` is the HTTP answer, ``details`` extra
    JSON keys for the admin (the menu's problems, the newest version...)."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.details = details


@dataclass(frozen=True)
class Publication:
    """A kept bundle: its store record, what kiosks receive, and whom it reaches now."""

    record: dict[str, Any]
    menu: PublishedMenu
    reaches: list[str]
    #: kiosk id -> (the version it keeps getting, where that comes from)
    shadowed: dict[str, tuple[int, str]] = field(default_factory=dict)


class MenuCatalog:
    """The newest admin-published bundle of every target, kept in memory and in the store."""

    def __init__(self, kiosks: KioskRegistry, trusted_keys: Mapping[str, str],
                 fallback: Callable[[], PublishedMenu | None]) -> None:
        self.kiosks = kiosks
        self.trusted_keys = dict(trusted_keys)
        self._fallback = fallback
        self._lock = threading.Lock()  # one publication at a time: check, store, serve
        self._newest: dict[MenuTarget, PublishedMenu] = {}
        self._store: Store | None = None
        self._generation = 0
        self._checked_at = float("-inf")
        #: How stale the view of publications by other processes on the database may be.
        self.refresh_s = 1.0

    def load(self, store: Store) -> None:
        """Serve what was published before a restart (or by another process)."""
        self._store = store
        self._checked_at = time.monotonic()
        self._generation = store.menus_generation()
        newest = {}
        for record, body in store.newest_menus():
            target = MenuTarget(record["target_kind"], record["target"])
            newest[target] = PublishedMenu(record["version"], body, record["etag"])
        self._newest = newest
        if newest:
            log.info("menus published by admins: %s",
                     ", ".join(f"v{m.version} for {t}" for t, m in newest.items()))

    # -- serving ---------------------------------------------------------------------------

    def for_kiosk(self, kiosk: Kiosk) -> PublishedMenu | None:
        """The bundle ``kiosk`` gets now: the greatest version aimed at it, or None."""
        return self.source_for(kiosk)[0]

    def source_for(self, kiosk: Kiosk) -> tuple[PublishedMenu | None, MenuTarget | None]:
        """The bundle ``kiosk`` gets now and the target it was published for (None: the
        server-signed menu, or no menu at all)."""
        self._refresh()
        newest = self._newest  # replaced whole on publication, never changed in place
        best: tuple[PublishedMenu | None, MenuTarget | None] = (None, None)
        targets = [MenuTarget("kiosk", kiosk.id), ALL]
        if kiosk.group:
            targets.insert(1, MenuTarget("group", kiosk.group))
        for target in targets:  # most specific first: it wins a tie
            menu = newest.get(target)
            if menu is not None and _greater(best[0], menu) is menu:
                best = (menu, target)
        fallback = self._fallback()
        if best[0] is None or _greater(best[0], fallback) is fallback:
            return fallback, None
        return best

    def _refresh(self, force: bool = False) -> None:
        """Reload if another process published since (checked at most every ``refresh_s``)."""
        store = self._store
        if store is None or (not force and
                             time.monotonic() - self._checked_at < self.refresh_s):
            return
        self._checked_at = time.monotonic()
        try:
            if store.menus_generation() != self._generation:
                self.load(store)
        except CentralError as exc:  # the database is away: serve what is known
            log.warning("menus: cannot check for new publications (%s)", exc)

    def newest(self) -> dict[MenuTarget, PublishedMenu]:
        return dict(self._newest)

    def kiosks_of(self, target: MenuTarget) -> list[Kiosk]:
        if target.kind == "kiosk":
            kiosk = self.kiosks.get(target.value)
            return [kiosk] if kiosk is not None else []
        if target.kind == "group":
            return self.kiosks.in_group(target.value)
        return self.kiosks.all()

    # -- publishing ------------------------------------------------------------------------

    def publish(self, bundle: Any, target: MenuTarget, admin: str,
                store: Store) -> Publication:
        """Check ``bundle`` (signature, menu, version) and keep it; raises ``PublishRefused``."""
        covered = self._check_target(target)
        menu = self._check_bundle(bundle)
        served = published(bundle)
        if len(served.body) > MAX_MENU_BYTES:
            raise PublishRefused(413, f"the bundle is {len(served.body)} bytes; kiosks take at "
                                 f"most {MAX_MENU_BYTES}")
        version = menu["version"]
        with self._lock:
            self._refresh(force=True)
            self._check_version(version, target, covered)
            try:
                record = store.add_menu(version=version, target_kind=target.kind,
                                        target=target.value, key_id=bundle["key_id"],
                                        etag=served.etag, body=served.body, admin=admin)
            except VersionTaken:  # another process published it since the check
                self._refresh(force=True)
                raise PublishRefused(
                    409, f"version {version} was just published for {target} by another "
                    "central process; publish it with a greater version") from None
            self._newest = {**self._newest, target: served}
        reaches, shadowed = [], {}
        for kiosk in covered:
            gets, source = self.source_for(kiosk)
            if gets is served:
                reaches.append(kiosk.id)
            elif gets is not None and gets.version is not None:
                shadowed[kiosk.id] = (gets.version, str(source or "the server-signed menu"))
        log.info("admin %s published menu version %d for %s (key %s); it reaches %d of %d "
                 "kiosks", admin, version, target, bundle["key_id"], len(reaches), len(covered))
        return Publication(record, served, reaches, shadowed)

    def _check_target(self, target: MenuTarget) -> list[Kiosk]:
        if target.kind not in TARGET_KINDS:
            raise PublishRefused(400, f"unknown target kind {target.kind!r}")
        covered = self.kiosks_of(target)
        if target.kind == "kiosk" and not covered:
            raise PublishRefused(404, f"no kiosk {target.value!r} is known to this central")
        if target.kind == "group" and not covered:
            raise PublishRefused(404, f"no kiosk belongs to group {target.value!r}",
                                 groups=self.kiosks.groups())
        return covered

    def _check_bundle(self, bundle: Any) -> dict[str, Any]:
        if not isinstance(bundle, dict) or set(bundle) != BUNDLE_KEYS:
            raise PublishRefused(400, "the bundle must be an object with exactly menu, key_id "
                                 "and signature")
        if not isinstance(bundle["menu"], dict) or not isinstance(bundle["key_id"], str) or \
                not isinstance(bundle["signature"], str):
            raise PublishRefused(400, "the bundle's menu must be an object, its key_id and "
                                 "signature strings")
        if bundle["key_id"] not in self.trusted_keys:
            trusted = ", ".join(sorted(self.trusted_keys)) or "none (start it with --menu-keys)"
            raise PublishRefused(403, f"key {bundle['key_id']!r} is not trusted by this central"
                                 f" (it trusts: {trusted})")
        try:
            menu = verify_bundle(bundle, self.trusted_keys)
        except SignatureError as exc:
            raise PublishRefused(403, f"signature: {exc}") from None
        problems = menu_problems(menu)
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            raise PublishRefused(400, f"not a valid menu: {problems[0]}{more}",
                                 problems=problems)
        return menu

    def _check_version(self, version: int, target: MenuTarget, covered: list[Kiosk]) -> None:
        """Kiosks only ever move to a greater version: refuse one that none would take."""
        newest = self._newest.get(target)
        if newest is not None and newest.version is not None and version <= newest.version:
            raise PublishRefused(
                409, f"version {version} is not greater than version {newest.version}, already "
                f"published for {target}; kiosks never go back to an older menu, so publish it "
                f"with a version above {newest.version}", newest=newest.version)
        current = [self.for_kiosk(k) for k in covered]
        versions = [m.version if m is not None and m.version is not None else 0 for m in current]
        if covered and min(versions) >= version:
            raise PublishRefused(
                409, f"every kiosk of {target} already gets version {min(versions)} or newer; "
                f"kiosks never go back to an older menu, so publish it with a version above "
                f"{max(versions)}", newest=max(versions))


def _greater(best: PublishedMenu | None, other: PublishedMenu | None) -> PublishedMenu | None:
    """The greater version of two; ``best`` (the more specific target) on a tie."""
    if other is None or other.version is None:
        return best
    if best is None or best.version is None or other.version > best.version:
        return other
    return best
