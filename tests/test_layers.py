"""The import contracts of pyproject.toml ([tool.importlinter]) hold: run ``lint-imports``.

The layers, top to bottom: kiosk.cli > kiosk.demo > kiosk.app > kiosk.shell > screens >
kiosk.technician, receipts, visit, central_link > kiosk.config | logs | i18n > kiosk.errors >
uplink > offline_queue | drivers > contract; PySide6 only in kiosk.app, kiosk.shell,
kiosk.demo and screens; central and admin independent of the kiosk, admin of central.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _lint_imports() -> str:
    beside = Path(sys.executable).parent / "lint-imports"
    found = str(beside) if beside.exists() else shutil.which("lint-imports")
    assert found, "lint-imports not found: pip install -e '.[dev]' (import-linter)"
    return found


def test_import_contracts_are_kept():
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=REPO, env=env, capture_output=True, text=True,
        timeout=300,
    )
    broken = "\n".join(line for line in proc.stdout.splitlines() if "BROKEN" in line)
    assert proc.returncode == 0, f"broken import contracts:\n{broken}\n\n{proc.stdout[-6000:]}"


# --- the contracts themselves: nothing stale, nothing left out ------------------------------

# Top-level folders with an __init__.py that are not code the contracts govern.
NOT_CODE = {"config"}  # shipped data, installed as kiosk_config


def _importlinter() -> dict:
    import tomllib

    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]


def _named_modules(config: dict) -> set[str]:
    """Every module a contract names (layers split at their "|" and ":" siblings)."""
    names: set[str] = set()
    for contract in config["contracts"]:
        for layer in contract.get("layers", []):
            names.update(n.strip() for part in layer.split("|") for n in part.split(":"))
        for key in ("source_modules", "forbidden_modules"):
            names.update(contract.get(key, []))
    return names


def _exists(module: str) -> bool:
    path = REPO.joinpath(*module.split("."))
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def test_every_module_a_contract_names_exists():
    config = _importlinter()
    roots = set(config["root_packages"])
    ours = {n for n in _named_modules(config) if n.split(".")[0] in roots}
    stale = sorted(n for n in ours if not _exists(n))
    assert not stale, f"import contracts name modules that no longer exist: {stale}"


def test_every_package_is_under_the_contracts():
    config = _importlinter()
    packages = {p.parent.name for p in REPO.glob("*/__init__.py")} - NOT_CODE
    assert packages <= set(config["root_packages"]), (
        f"top-level packages missing from root_packages: {packages - set(config['root_packages'])}")
    named = _named_modules(config)
    uncovered = sorted(p for p in packages if not any(n.split(".")[0] == p for n in named))
    assert not uncovered, f"top-level packages no contract mentions: {uncovered}"


def test_every_part_of_the_kiosk_has_its_layer():
    """A module of kiosk/ left out of the layers contract could import anything."""
    (kiosk_layers,) = [c for c in _importlinter()["contracts"] if c.get("layers")
                       and any(layer.startswith("kiosk.") for layer in c["layers"])]
    listed = {n.strip() for layer in kiosk_layers["layers"] for part in layer.split("|")
              for n in part.split(":")}
    parts = {f"kiosk.{p.stem if p.suffix else p.name}" for p in (REPO / "kiosk").iterdir()
             if (p.suffix == ".py" or (p / "__init__.py").is_file())
             and p.name not in ("__init__.py", "__main__.py")}
    assert parts <= listed, f"kiosk modules in no layer: {sorted(parts - listed)}"
