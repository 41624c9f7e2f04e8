"""The menu the server hands out: validated, signed once, and kept as response bytes."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contract import menu as contract_menu

from .errors import ConfigError
from .signing import bundle_version, sign_menu

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishedMenu:
    """A bundle ready to send: the exact 200 body and its strong ETag."""

    version: int | None
    body: bytes
    etag: str

    def matches(self, if_none_match: str | None) -> bool:
        """True when an ``If-None-Match`` header names this representation (or ``*``)."""
        if not if_none_match:
            return False
        for tag in if_none_match.split(","):
            tag = tag.strip()
            if tag == "*" or tag.removeprefix("W/") == self.etag:
                return True
        return False


def published(bundle: dict[str, Any]) -> PublishedMenu:
    body = json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    version = bundle_version(bundle)
    digest = hashlib.sha256(body).hexdigest()[:16]
    return PublishedMenu(version, body, f'"v{version if version is not None else 0}-{digest}"')


def menu_problems(menu: Any) -> list[str]:
    """Problems kiosks would find in ``menu`` (the kiosk's own schema and rules)."""
    return contract_menu.validate(menu)  # the same checks the kiosk applies before it switches


def read_menu_file(path: Path) -> dict[str, Any]:
    """A menu document from a JSON file, read and checked as a kiosk would (one reader, one
    size limit: ``contract.menu.read_json``)."""
    try:
        menu = contract_menu.read_json(path)
    except contract_menu.MenuUnreadable as exc:
        raise ConfigError(f"{path}: cannot read the menu ({exc.reason})") from None
    except contract_menu.MenuError as exc:
        raise ConfigError(f"{path}: {exc.problems[0].removeprefix('$: ')}") from None
    problems = menu_problems(menu)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ConfigError(f"{path}: not a valid menu: {problems[0]}{more}")
    return menu


class MenuPublisher:
    """Signs menus with the server's key and hands out the current bundle.

    With a menu file, the file is read again when its modification time or size changes, so
    an admin publishes a new version by replacing the file; a replacement that does not
    validate is logged and the previous menu stays.
    """

    def __init__(self, signing_key: Ed25519PrivateKey | None, key_id: str | None) -> None:
        self._key = signing_key
        self._key_id = key_id
        self._lock = threading.Lock()
        self._current: PublishedMenu | None = None
        self._file: Path | None = None
        self._file_stamp: tuple[int, int] | None = None

    def set_signing_key(self, signing_key: Ed25519PrivateKey, key_id: str | None) -> None:
        self._key, self._key_id = signing_key, key_id

    @property
    def can_sign(self) -> bool:
        return self._key is not None and bool(self._key_id)

    def publish(self, menu: dict[str, Any], *, validate: bool = True) -> PublishedMenu:
        """Sign ``menu`` and serve it from now on."""
        if not self.can_sign:
            raise ConfigError("no signing key and key id: cannot publish a menu")
        if validate:
            problems = menu_problems(menu)
            if problems:
                raise ConfigError(f"not a valid menu: {problems[0]}")
        assert self._key is not None and self._key_id is not None
        return self.publish_bundle(sign_menu(menu, self._key, self._key_id))

    def publish_bundle(self, bundle: dict[str, Any]) -> PublishedMenu:
        """Serve ``bundle`` exactly as given, signed or not (for tests of kiosk rejections)."""
        menu = published(bundle)
        with self._lock:
            self._current = menu
        log.info("menu version %s published, ETag %s", menu.version, menu.etag)
        return menu

    def watch_file(self, path: str | Path) -> PublishedMenu:
        """Publish the menu in ``path`` now, and again whenever the file changes."""
        path = Path(path)
        stamp = _stamp(path)
        published_menu = self.publish(read_menu_file(path), validate=False)
        with self._lock:
            self._file, self._file_stamp = path, stamp
        return published_menu

    def current(self) -> PublishedMenu | None:
        """The bundle to serve now, or None when no menu is configured."""
        self._reload_if_changed()
        with self._lock:
            return self._current

    def _reload_if_changed(self) -> None:
        with self._lock:
            path, old = self._file, self._file_stamp
        if path is None:
            return
        stamp = _stamp(path)
        if stamp == old or stamp is None:
            return
        with self._lock:
            self._file_stamp = stamp  # tried once per change, not on every request
        try:
            self.publish(read_menu_file(path), validate=False)
        except ConfigError as exc:
            log.error("menu file changed but is not used: %s", exc)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size
