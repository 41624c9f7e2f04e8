"""Who may import whom (issue #11): ``contract`` is Qt-free and HTTP-free and imports no
other package of the project; ``central`` and ``admin`` import nothing of the kiosk; ``admin``
reaches the central only over HTTP. Lazy imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
KIOSK_SIDE = {"kiosk", "screens", "drivers", "uplink", "offline_queue"}
FORBIDDEN = {
    "contract": KIOSK_SIDE | {"central", "admin", "PySide6", "requests", "urllib3", "http"},
    "central": KIOSK_SIDE | {"admin"},
    "admin": KIOSK_SIDE | {"central"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_stay_in_their_layer(package):
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in _imports(path):
            if module.split(".")[0] in FORBIDDEN[package]:
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert bad == []
