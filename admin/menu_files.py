"""Reading menu and bundle files the way a kiosk would judge them, every problem with its
JSON path. A signed bundle is accepted wherever a menu is read: its ``menu`` is used. Files
are read by ``contract.menu.read_json``, with the kiosk's one size limit."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contract import menu as contract_menu
from contract.menu import MenuError, MenuUnreadable
from contract.menu import validate as validate_menu
from contract.signing import BUNDLE_KEYS, canonical_bytes

from .errors import AdminError


@dataclass(frozen=True)
class MenuFile:
    """A menu read from ``path``; ``bundle`` is set when the file was a signed bundle."""

    path: Path
    menu: Any
    problems: list[str]
    bundle: dict[str, Any] | None = None

    @property
    def valid(self) -> bool:
        return not self.problems


class _Object(dict):
    """A JSON object that remembers keys given more than once (the last one would win)."""

    duplicates: tuple[str, ...] = ()


def _object(pairs: list[tuple[str, Any]]) -> _Object:
    obj = _Object(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        obj.duplicates = tuple(k for k, _ in pairs if k in seen or seen.add(k))
    return obj


def read_json(path: Path) -> Any:
    """A menu or bundle file's JSON; ``AdminError`` when it cannot be read, ``ValueError``
    saying why it is not JSON (or is over the kiosks' size limit)."""
    try:
        return contract_menu.read_json(path, object_pairs_hook=_object)
    except MenuUnreadable as exc:
        raise AdminError(f"{path}: cannot read ({exc.reason})") from None
    except MenuError as exc:
        raise ValueError(exc.problems[0].removeprefix("$: ")) from None


def read_menu(path: str | Path) -> MenuFile:
    """The menu in ``path`` (a menu document or a signed bundle) and all its problems."""
    path = Path(path)
    try:
        doc = read_json(path)
    except ValueError as exc:
        return MenuFile(path, None, [f"$: {exc}"])
    bundle = None
    if isinstance(doc, dict) and set(doc) == BUNDLE_KEYS:
        bundle, doc = doc, doc["menu"]
    problems = [f"{where}: key {key!r} is given more than once"
                for where, key in _duplicates(doc)]
    problems += validate_menu(doc)
    size = len(canonical_bytes(doc))
    if size > contract_menu.MAX_MENU_BYTES:
        problems.append(f"$: the menu is {size} bytes, over the {contract_menu.MAX_MENU_TEXT} "
                        f"limit ({contract_menu.MAX_MENU_BYTES} bytes)")
    return MenuFile(path, doc, problems, bundle)


def _duplicates(value: Any, where: str = "$") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        found += [(where, key) for key in getattr(value, "duplicates", ())]
        for key, item in value.items():
            found += _duplicates(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found += _duplicates(item, f"{where}[{i}]")
    return found
