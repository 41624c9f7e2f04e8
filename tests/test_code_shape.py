"""Product code keeps its shape: no module over 400 lines, no function over 60.

Walks the product packages with ``ast``. A declarative table (a literal mapping or list that
is long because the data is) may be allowed below, each entry with its reason; nothing else.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = (
    "kiosk", "drivers", "screens", "offline_queue", "central", "admin", "contract", "uplink",
)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60

# "path" or "path:qualified.function" -> why it is a declarative table. Keep it short.
ALLOWED: dict[str, str] = {}


def _modules() -> list[Path]:
    return sorted(p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py"))


def _functions(tree: ast.AST, prefix: str = ""):
    """(qualified name, node) of every function, nested ones and methods included."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{node.name}"
            if not isinstance(node, ast.ClassDef):
                yield name, node
            yield from _functions(node, f"{name}.")
        else:
            yield from _functions(node, prefix)


def test_the_product_packages_exist():
    missing = [pkg for pkg in PACKAGES if not (REPO / pkg / "__init__.py").is_file()]
    assert not missing


def test_no_module_over_400_lines():
    too_long = []
    for path in _modules():
        rel = path.relative_to(REPO).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES and rel not in ALLOWED:
            too_long.append(f"{rel}: {lines} lines")
    assert not too_long, f"modules over {MAX_MODULE_LINES} lines:\n" + "\n".join(too_long)


def test_no_function_over_60_lines():
    too_long = []
    for path in _modules():
        rel = path.relative_to(REPO).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=rel)
        for name, node in _functions(tree):
            lines = node.end_lineno - node.lineno + 1
            if lines > MAX_FUNCTION_LINES and f"{rel}:{name}" not in ALLOWED:
                too_long.append(f"{rel}:{node.lineno} {name}: {lines} lines")
    assert not too_long, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(too_long)


def test_every_allowance_names_something_that_exists_and_says_why():
    for entry, reason in ALLOWED.items():
        path = REPO / entry.partition(":")[0]
        assert path.is_file(), f"{entry}: no such module"
        assert len(reason.split()) >= 3, f"{entry}: say why it is a declarative table"
