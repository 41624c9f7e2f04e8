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
