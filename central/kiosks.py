"""The kiosks the central server knows, their bearer tokens, and who a request comes from."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .tokens import TokenIndex, bearer_token, parse_token_sha256, token_hash, valid_token

KIOSK_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_KIOSK_KEYS = frozenset({"token", "token_sha256", "group"})


@dataclass(frozen=True)
class Kiosk:
    id: str
    token_hash: bytes = field(repr=False)  # SHA-256 of the token; the token is not kept
    group: str = ""


class KioskRegistry:
    """Kiosk id -> ``Kiosk``; finds the kiosk a bearer token belongs to."""

    def __init__(self, kiosks: Mapping[str, Mapping[str, Any]], source: str = "kiosks") -> None:
        self._by_id: dict[str, Kiosk] = {}
        self._tokens: TokenIndex[Kiosk] = TokenIndex()
        self._ids: tuple[str, ...] | None = None
        for kiosk_id, entry in kiosks.items():
            kiosk = _kiosk(kiosk_id, entry, source)
            other = self._tokens.add(kiosk)
            if other is not None:
                raise ConfigError(f"{source}: kiosks {other.id} and {kiosk_id} have the same "
                                  "token")
            self._by_id[kiosk_id] = kiosk

    @classmethod
    def from_toml(cls, path: str | Path) -> KioskRegistry:
        """Read ``[kiosks.<id>]`` tables with ``token`` (or ``token_sha256``, the hex SHA-256
        of the token) and optional ``group``."""
        return cls(read_tables(path, "kiosks", "<id>"), str(path))

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, kiosk_id: object) -> bool:
        return kiosk_id in self._by_id

    def ids(self) -> list[str]:
        return list(self._sorted_ids())

    def _sorted_ids(self) -> tuple[str, ...]:
        if self._ids is None:  # the registry never changes after it is read
            self._ids = tuple(sorted(self._by_id))
        return self._ids

    def get(self, kiosk_id: str) -> Kiosk | None:
        return self._by_id.get(kiosk_id)

    def all(self) -> list[Kiosk]:
        """Every kiosk, by id."""
        return [self._by_id[k] for k in self._sorted_ids()]

    def in_group(self, group: str) -> list[Kiosk]:
        return [k for k in self.all() if k.group == group]

    def groups(self) -> list[str]:
        return sorted({k.group for k in self._by_id.values() if k.group})

    def owner_of(self, token: str | None) -> Kiosk | None:
        """The kiosk holding ``token``, or None."""
        return self._tokens.find(token)

    def owner_of_hash(self, digest: bytes) -> Kiosk | None:
        """The kiosk whose token has SHA-256 ``digest``, or None."""
        return self._tokens.find_hash(digest)

    def authenticate(self, authorization: str | None) -> Kiosk | None:
        """The kiosk whose token an ``Authorization: Bearer <token>`` header carries, or None."""
        return self._tokens.find(bearer_token(authorization))


def read_toml(path: str | Path, what: str) -> dict[str, Any]:
    """A TOML file (the kiosks, admins or menu keys file); ``ConfigError`` naming ``what``."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the {what} ({exc.strerror})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None


def read_tables(path: str | Path, name: str, placeholder: str) -> dict[str, Any]:
    """The ``[<name>.<placeholder>]`` tables of a TOML file that holds nothing else and at
    least one of them (the kiosks file, the admins file)."""
    doc = read_toml(path, f"{name} file")
    unknown = sorted(set(doc) - {name})
    if unknown:
        raise ConfigError(f"{path}: unknown table or key {unknown[0]!r} "
                          f"(expected [{name}.{placeholder}] tables)")
    tables = doc.get(name, {})
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: no {name} (expected [{name}.{placeholder}] tables with a "
                          "token)")
    return tables


def _kiosk(kiosk_id: Any, entry: Any, source: str) -> Kiosk:
    if not isinstance(kiosk_id, str) or not KIOSK_ID.match(kiosk_id):
        raise ConfigError(f"{source}: kiosk id {kiosk_id!r}: expected letters, digits, '.', '_'"
                          " or '-', at most 64")
    where = f"{source}: [kiosks.{kiosk_id}]"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a table with a token")
    unknown = sorted(set(entry) - _KIOSK_KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (expected token, group)")
    digest, group = hashed_token(entry, where, "a non-empty string"), entry.get("group", "")
    if not isinstance(group, str):
        raise ConfigError(f"{where}: group: expected a string")
    return Kiosk(kiosk_id, digest, group)


def hashed_token(entry: Mapping[str, Any], where: str, what: str, min_length: int = 1
                 ) -> bytes:
    """The SHA-256 of an entry's ``token``, or its ``token_sha256``; one of them, not both."""
    if "token_sha256" in entry:
        digest = parse_token_sha256(entry["token_sha256"])
        if digest is None or "token" in entry:
            raise ConfigError(f"{where}: token_sha256: expected 64 hex digits, and no token "
                              "beside it")
        return digest
    token = entry.get("token")
    if not valid_token(token) or len(token) < min_length:
        raise ConfigError(f"{where}: token: expected {what} of printable ASCII without spaces")
    return token_hash(token)
