"""Run a benchmark's quick variant as its own process and read its JSON report: shared by
the tests of the central's benchmarks, which need PostgreSQL."""

from __future__ import annotations

import glob
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def run_quick(tmp_path_factory, script: str, *args: str) -> tuple[dict, str]:
    """``python benchmarks/<script> --quick <args> --json-out F``: (the report, stdout)."""
    if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    out = tmp_path_factory.mktemp(Path(script).stem) / "report.json"
    run = subprocess.run([sys.executable, f"benchmarks/{script}", "--quick", *args,
                          "--json-out", str(out)], cwd=REPO, capture_output=True, text=True,
                         timeout=900)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(out.read_text()), run.stdout
