"""Central admins: who may publish menus and read the fleet, and the menu keys they sign with.

Admin tokens are a set of their own. They are never accepted on kiosk endpoints, kiosk
tokens never on admin ones, and no token may be both (``check_disjoint``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.signing import decode_b64

from .errors import ConfigError
from .kiosks import KIOSK_ID, KioskRegistry, hashed_token, read_tables, read_toml
from .tokens import TokenIndex, basic_password, bearer_token

ADMIN_NAME = KEY_ID = KIOSK_ID  # one syntax for kiosk ids, admin names and key ids
MIN_ADMIN_TOKEN = 16  # an admin token changes what every kiosk offers: no short ones


@dataclass(frozen=True)
class Admin:
    name: str
    token_hash: bytes = field(repr=False)  # SHA-256 of the token; the token is not kept


class AdminRegistry:
    """Admin name -> ``Admin``; finds the admin a Bearer or Basic credential belongs to."""

    def __init__(self, admins: Mapping[str, Mapping[str, Any]], source: str = "admins") -> None:
        self._by_name: dict[str, Admin] = {}
        self._tokens: TokenIndex[Admin] = TokenIndex()
        for name, entry in admins.items():
            admin = _admin(name, entry, source)
            other = self._tokens.add(admin)
            if other is not None:
                raise ConfigError(f"{source}: admins {other.name} and {name} have the same token")
            self._by_name[name] = admin

    @classmethod
    def from_toml(cls, path: str | Path) -> AdminRegistry:
        """Read ``[admins.<name>]`` tables with a ``token`` (or ``token_sha256``)."""
        return cls(read_tables(path, "admins", "<name>"), str(path))

    def __len__(self) -> int:
        return len(self._by_name)

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def owner_of(self, token: str | None) -> Admin | None:
        return self._tokens.find(token)

    def authenticate(self, authorization: str | None, allow_basic: bool = True
                     ) -> Admin | None:
        """The admin of ``Authorization: Bearer <token>`` or, with ``allow_basic``, ``Basic``
        with the token as the password (any user name: browsers ask for one), or None."""
        token = bearer_token(authorization)
        if token is None and allow_basic:
            token = basic_password(authorization)
        return self._tokens.find(token)

    def check_disjoint(self, kiosks: KioskRegistry) -> None:
        """Refuse a token that is both an admin's and a kiosk's."""
        for admin in self._by_name.values():
            kiosk = kiosks.owner_of_hash(admin.token_hash)
            if kiosk is not None:
                raise ConfigError(f"admin {admin.name} and kiosk {kiosk.id} have the same "
                                  "token; admin tokens must be their own")


def read_menu_keys(path: str | Path, table: str = "menu_keys") -> dict[str, str]:
    """Trusted menu keys from TOML: a ``[menu_keys]`` table, or ``[central.menu_keys]`` as in
    a kiosk configuration, of ``key_id = "<base64 raw Ed25519 public key>"``. ``table``
    ``release_keys`` reads the release keys the same way."""
    doc = read_toml(path, f"{table.replace('_', ' ')} file")
    keys = doc.get(table)
    if keys is None and isinstance(doc.get("central"), dict):
        keys = doc["central"].get(table)
    if not isinstance(keys, dict) or not keys:
        raise ConfigError(f"{path}: no [{table}] table of key_id = \"<base64 public key>\"")
    return check_menu_keys(keys, str(path))


def check_menu_keys(keys: Mapping[str, Any], source: str = "menu_keys") -> dict[str, str]:
    """``keys`` if every entry is a key id and a base64 raw 32-byte public key."""
    checked: dict[str, str] = {}
    for key_id, value in keys.items():
        if not isinstance(key_id, str) or not KEY_ID.match(key_id):
            raise ConfigError(f"{source}: key id {key_id!r}: expected letters, digits, '.', '_'"
                              " or '-', at most 64")
        try:
            raw = decode_b64(value, key_id) if isinstance(value, str) else b""
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise ConfigError(f"{source}: {key_id}: expected base64 of a raw 32-byte Ed25519 "
                              "public key")
        checked[key_id] = value.strip()
    return checked


def _admin(name: Any, entry: Any, source: str) -> Admin:
    if not isinstance(name, str) or not ADMIN_NAME.match(name):
        raise ConfigError(f"{source}: admin name {name!r}: expected letters, digits, '.', '_' "
                          "or '-', at most 64")
    where = f"{source}: [admins.{name}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a table with a token")
    unknown = sorted(set(entry) - {"token", "token_sha256"})
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (expected token)")
    return Admin(name, hashed_token(entry, where, f"at least {MIN_ADMIN_TOKEN} characters",
                                    MIN_ADMIN_TOKEN))
