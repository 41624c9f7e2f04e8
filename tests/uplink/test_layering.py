"""The uplink and the queue stay two packages: ``uplink/`` speaks to the central and knows
nothing of the kiosk app; ``offline_queue/`` is the SQLite queue and speaks no HTTP.

Every import statement counts, including those inside functions and ``TYPE_CHECKING``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# What uplink/ may import from the project (the standard library and requests are fine).
UPLINK_ALLOWED = ("contract", "offline_queue", "drivers.base", "uplink")
PROJECT = ("admin", "central", "contract", "drivers", "kiosk", "kiosk_config",
           "offline_queue", "screens", "uplink")
QUEUE_FORBIDDEN = ("uplink", "kiosk", "screens", "PySide6", "requests", "urllib3", "http",
                   "urllib", "socket", "ssl", "email")


def imports(path: Path) -> list[str]:
    """The absolute names of the modules ``path`` imports (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    names = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names.append(f"{base}.{node.module}" if node.module else base)
            else:
                names.append(node.module or "")
    return names


def within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


@pytest.mark.parametrize("path", sorted((ROOT / "uplink").glob("*.py")), ids=lambda p: p.name)
def test_uplink_imports_nothing_of_the_kiosk_app(path: Path) -> None:
    wrong = [n for n in imports(path) if within(n, PROJECT) and not within(n, UPLINK_ALLOWED)]
    assert wrong == [], f"{path.name} imports {wrong}"
    assert not [n for n in imports(path) if within(n, ("PySide6",))]


@pytest.mark.parametrize("path", sorted((ROOT / "offline_queue").glob("*.py")),
                         ids=lambda p: p.name)
def test_the_queue_speaks_no_http(path: Path) -> None:
    wrong = [n for n in imports(path) if within(n, QUEUE_FORBIDDEN)]
    assert wrong == [], f"{path.name} imports {wrong}"


def test_every_uplink_error_derives_from_one_base() -> None:
    import uplink
    from uplink import client, errors

    assert uplink.UplinkError is errors.UplinkError
    for error in (client.SyncError, client.TransportError, client.TokenError,
                  errors.MenuStoreError):
        assert issubclass(error, uplink.UplinkError)
