"""Building a slot: a new virtual environment beside the running one, installed offline
from the cache with ``pip --no-index``. The slot is built in ``slots/.<version>.tmp`` and
renamed into place only when pip has finished, so a half-built slot is never started."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import SlotError
from .layout import Layout

log = logging.getLogger(__name__)

PIP_TIMEOUT_S = 1800


def build_slot(layout: Layout, manifest: Mapping[str, Any], *, python: str | None = None,
               inherit_site: bool = False) -> Path:
    """Install ``manifest``'s version into ``slots/<version>`` from the cached wheels.

    ``inherit_site`` lets the slot also see the running interpreter's site-packages (for
    tests and development: a release of the project wheel alone then finds its heavy
    dependencies there); a real release lists every wheel and needs nothing else.
    """
    version = manifest["version"]
    final = layout.slot(version)
    if layout.python(version).exists():
        return final
    tmp = layout.slots / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    python = python or sys.executable
    try:
        _run([python, "-m", "venv", str(tmp / "venv")], "python -m venv")
        if inherit_site:
            site_dir = Path(_site_packages(tmp / "venv"))
            base = sysconfig.get_paths()["purelib"]
            (site_dir / "_kiosk_base_site.pth").write_text(
                f"import site; site.addsitedir({base!r})\n", "utf-8")
        with tempfile.TemporaryDirectory(dir=layout.root, prefix=".links-") as links:
            for wheel in manifest["wheels"]:
                os.link(layout.cache / wheel["sha256"], Path(links) / wheel["name"])
            _run([str(tmp / "venv" / "bin" / "python"), "-m", "pip", "install", "--no-index",
                  "--find-links", links, "--disable-pip-version-check", "-q",
                  f"{manifest['project']}=={version}"], "pip install --no-index")
        # The slot's scripts name their venv's python by its path: rewrite for the final path.
        _fix_scripts(tmp / "venv", final / "venv")
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("slot %s built", version)
    return final


def _site_packages(venv: Path) -> str:
    out = subprocess.run([str(venv / "bin" / "python"), "-c",
                          "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True, timeout=60)
    return out.stdout.strip()


def _fix_scripts(built: Path, final: Path) -> None:
    old, new = str(built).encode(), str(final).encode()
    for script in (built / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if data.startswith(b"#!") and old in data[:512]:
                script.write_bytes(data.replace(old, new, 1))
    cfg = built / "pyvenv.cfg"
    cfg.write_bytes(cfg.read_bytes().replace(old, new))


def _run(cmd: list[str], what: str) -> None:
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SlotError(f"{what}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SlotError(f"{what} failed: {tail[:300]}")


def remove_old_slots(layout: Layout, keep: set[str]) -> None:
    """Remove slots other than ``keep`` (the current and the previous one)."""
    for slot in layout.slots.iterdir():
        if slot.name not in keep:
            shutil.rmtree(slot, ignore_errors=True)
