"""The last known good menu on disk, and the menu a kiosk starts with. Qt-free.

``<data_dir>/menu/menu.json`` holds the signed bundle the kiosk applied, with the ETag it came
with and the digest of the schema that validated it. It is replaced atomically: written to a
temporary file in the same folder, fsynced, renamed over the old file, then the folder is
fsynced; a power cut at any moment leaves the old or the new file, never a broken one.
Temporary files a cut leaves behind are never read, and ``clean()`` removes them.
``rejection.json`` keeps the last rejection (``{version, reason, at}``) across a restart, so
the heartbeat goes on reporting it until a fetched menu is applied.
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import menu as menu_mod
from contract import resources
from contract.atomic import TEMP_PREFIX, fsync_dir, write_atomic
from contract.signing import bundle_version as bundle_version  # re-exported for menu_poller
from contract.times import utc_now
from uplink.errors import MenuStoreError

log = logging.getLogger(__name__)

MENU_NAME = "menu.json"
REJECTION_NAME = "rejection.json"
FORMAT = 1
# The stored file is the bundle (at most 2 MiB as fetched) plus a few lines of our own.
MAX_STORED_BYTES = menu_mod.MAX_MENU_BYTES + 64 * 1024


@dataclass(frozen=True)
class StoredBundle:
    """What ``menu.json`` holds: the signed bundle as fetched and how it was stored."""

    bundle: dict[str, Any]
    etag: str | None
    schema: str  # digest of the menu schema that validated the menu when it was stored
    stored_at: str

    @property
    def version(self) -> int | None:
        return bundle_version(self.bundle)


@functools.cache
def schema_digest() -> str:
    """A digest of the menu schema this kiosk validates with (it changes with the software)."""
    import hashlib  # here, not at import: OpenSSL's load is not start-up's

    return hashlib.sha256(resources.menu_schema_path().read_bytes()).hexdigest()[:32]


class MenuStore:
    """The menu folder, ``<data_dir>/menu``. No I/O happens before a method is called."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @property
    def menu_path(self) -> Path:
        return self.folder / MENU_NAME

    @property
    def rejection_path(self) -> Path:
        return self.folder / REJECTION_NAME

    # -- the last known good bundle ---------------------------------------------------------

    def read(self) -> StoredBundle | None:
        """The stored bundle, unverified; None when there is none. Raises MenuStoreError when
        the file cannot be read or is not what this store writes."""
        path = self.menu_path
        try:
            size = path.stat().st_size
            if size > MAX_STORED_BYTES:
                raise MenuStoreError(f"{path}: {size} bytes, over the size limit")
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise MenuStoreError(f"{path}: cannot be read ({exc.strerror})") from None
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise MenuStoreError(f"{path}: not valid JSON ({exc!r})") from None
        if (not isinstance(doc, dict) or doc.get("format") != FORMAT
                or not isinstance(doc.get("bundle"), dict)
                or not isinstance(doc.get("etag"), (str, type(None)))
                or not isinstance(doc.get("schema"), str)
                or not isinstance(doc.get("stored_at"), str)):
            raise MenuStoreError(f"{path}: not a stored menu bundle")
        return StoredBundle(doc["bundle"], doc["etag"], doc["schema"], doc["stored_at"])

    def save(self, bundle: dict[str, Any], etag: str | None) -> StoredBundle:
        """Store ``bundle`` (verified and validated by the caller) as the last known good."""
        stored = StoredBundle(bundle, etag, schema_digest(), utc_now())
        data = json.dumps({"format": FORMAT, "etag": etag, "schema": stored.schema,
                           "stored_at": stored.stored_at, "bundle": bundle},
                          ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._ensure_folder()
        write_atomic(self.menu_path, data)
        return stored

    def load_menu(self, stored: StoredBundle,
                  public_keys: Mapping[str, str]) -> menu_mod.Menu:
        """The stored bundle's menu, its signature verified again with ``public_keys`` and
        validated; raises MenuStoreError saying why it cannot be used.

        The schema check runs again only when the schema has changed since the bundle was
        stored (new software); the rules always run. Both were passed when it arrived, and
        the signature proves the menu is the one that passed them.
        """
        from contract.signing import SignatureError, verify_bundle

        source = str(self.menu_path)
        try:
            doc = verify_bundle(stored.bundle, public_keys)
            if stored.schema == schema_digest():
                return menu_mod.parse_schema_checked(doc, source)
            return menu_mod.parse(doc, source)
        except SignatureError as exc:
            raise MenuStoreError(f"{source}: {exc.kind}: {exc}") from None
        except menu_mod.MenuError as exc:
            raise MenuStoreError(f"{source}: invalid document: {exc.problems[0]}") from None
        except RecursionError:
            raise MenuStoreError(f"{source}: invalid document: nested too deeply") from None

    # -- the last rejection -----------------------------------------------------------------

    def rejection(self) -> dict | None:
        """The last rejection ``{"version", "reason", "at"}``, or None. Never raises: a file
        that cannot be read is logged and counts as none."""
        try:
            doc = json.loads(self.rejection_path.read_bytes().decode("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            log.warning("%s cannot be read (%s); no menu rejection known",
                        self.rejection_path, exc)
            return None
        if doc is None:
            return None
        version = doc.get("version") if isinstance(doc, dict) else None
        if (not isinstance(doc, dict) or not isinstance(doc.get("reason"), str)
                or not isinstance(doc.get("at"), str)
                or not (version is None or (isinstance(version, int)
                                            and not isinstance(version, bool)))):
            log.warning("%s is not a menu rejection; ignored", self.rejection_path)
            return None
        return {"version": version, "reason": doc["reason"], "at": doc["at"]}

    def set_rejection(self, version: int | None, reason: str) -> dict:
        """Remember a rejection (written atomically); returns what was stored."""
        rejection = {"version": version, "reason": reason, "at": utc_now()}
        self._ensure_folder()
        write_atomic(self.rejection_path,
                     json.dumps(rejection, ensure_ascii=False).encode("utf-8"))
        return rejection

    def clear_rejection(self) -> None:
        """Forget the last rejection: the last fetched menu was applied."""
        try:
            self.rejection_path.unlink()
        except FileNotFoundError:
            return
        fsync_dir(self.folder)

    # -- housekeeping -----------------------------------------------------------------------

    def clean(self) -> list[Path]:
        """Remove temporary files an interrupted write left behind; returns them."""
        removed = []
        try:
            entries = list(self.folder.iterdir())
        except FileNotFoundError:
            return removed
        for entry in entries:
            if entry.name.startswith(TEMP_PREFIX) and entry.is_file():
                entry.unlink(missing_ok=True)
                removed.append(entry)
        if removed:
            log.info("removed %d unfinished menu file(s) from %s", len(removed), self.folder)
        return removed

    def _ensure_folder(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            fsync_dir(self.folder.parent)


def load_running_menu(store: MenuStore, menu_file: Path | None,
                      public_keys: Mapping[str, str]) -> menu_mod.Menu:
    """The menu a kiosk starts with: the menu in ``store`` when it is newer than the local
    one (``menu_file``, else the shipped default) and still verifies with ``public_keys``
    and validates; else the local one. A stored menu that cannot be used is logged, never
    fatal. A broken ``menu_file`` raises MenuError, as it always did."""
    if menu_file is not None:
        local, what = menu_mod.load(menu_file), "menu file"
    else:
        local, what = menu_mod.load_default(), "shipped menu"
    try:
        stored = store.read()
    except MenuStoreError as exc:
        log.error("stored menu not used: %s; starting with the %s, version %d",
                  exc, what, local.version)
        return local
    if stored is None:
        return local
    if stored.version is None or stored.version <= local.version:
        log.info("the %s (version %d) is not older than the stored menu (version %s)",
                 what, local.version, stored.version)
        return local
    try:
        menu = store.load_menu(stored, public_keys)
    except MenuStoreError as exc:
        log.error("stored menu version %s not used: %s; starting with the %s, version %d",
                  stored.version, exc, what, local.version)
        return local
    log.info("starting with the stored signed menu, version %d", menu.version)
    return menu
