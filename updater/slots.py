"""Building a slot: a new virtual environment beside the running one, installed offline
from the cache with ``pip --no-index``. The slot is built in ``slots/.<version>.tmp`` and
renamed into place only when pip has finished, so a half-built slot is never started.

When the running version is itself a slot built here (it has a ``wheels.json`` record of
the wheels it holds), the new slot starts from a copy of it (``updater.slot_copy``): wheels
it already holds stay installed, only the changed ones are installed, and the result is
checked against the manifest; when anything about the copy fails the slot is built clean.
"""

from __future__ import annotations

import json
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

from contract.atomic import write_atomic

from .errors import SlotError
from .layout import Layout

log = logging.getLogger(__name__)

PIP_TIMEOUT_S = 1800
RECORD = "wheels.json"  # in a slot: the manifest's wheels it was built from


def build_slot(layout: Layout, manifest: Mapping[str, Any], *, python: str | None = None,
               inherit_site: bool = False, running: str | None = None) -> Path:
    """Install ``manifest``'s version into ``slots/<version>`` from the cached wheels.

    ``running``: the running version; when it is a slot with a record, the new slot is a
    copy of it with only the changed wheels installed. ``inherit_site`` lets the slot also
    see the running interpreter's site-packages (for tests and development: a release of
    the project wheel alone then finds its heavy dependencies there); a real release lists
    every wheel and needs nothing else.
    """
    from .slot_copy import copy_running_slot, verify_slot

    version = manifest["version"]
    final = layout.slot(version)
    if layout.python(version).exists():
        return final
    tmp = layout.slots / f".{version}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with tempfile.TemporaryDirectory(dir=layout.root, prefix=".links-") as links:
            for wheel in manifest["wheels"]:
                os.link(layout.cache / wheel["sha256"], Path(links) / wheel["name"])
            how = "copy"
            try:
                if running is None or read_record(layout.slot(running)) is None:
                    raise SlotError(f"the running version {running} is not a recorded slot")
                copy_running_slot(layout, running, tmp, manifest, Path(links), inherit_site)
            except SlotError as exc:
                how = "clean"
                log.info("slot %s is built clean: %s", version, exc)
                shutil.rmtree(tmp, ignore_errors=True)
                _clean_build(tmp, python or sys.executable, manifest, Path(links),
                             inherit_site)
                verify_slot(tmp / "venv", manifest, strict=False)
        write_atomic(tmp / RECORD, json.dumps(list(manifest["wheels"]), sort_keys=True,
                                              indent=1).encode())
        # The slot's scripts name their venv's python by its path: rewrite for the final path.
        rewrite_paths(tmp / "venv", str(tmp / "venv"), str(final / "venv"))
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("slot %s built (%s)", version, how)
    return final


def _clean_build(tmp: Path, python: str, manifest: Mapping[str, Any], links: Path,
                 inherit_site: bool) -> None:
    run([python, "-m", "venv", str(tmp / "venv")], "python -m venv")
    set_inherit_site(tmp / "venv", inherit_site)
    pip_install(tmp / "venv", links, manifest)


def pip_install(venv: Path, links: Path, manifest: Mapping[str, Any]) -> None:
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-index",
         "--find-links", str(links), "--disable-pip-version-check", "-q",
         f"{manifest['project']}=={manifest['version']}"], "pip install --no-index")


def set_inherit_site(venv: Path, inherit_site: bool) -> None:
    """Write (or remove) the ``.pth`` line that adds this interpreter's site-packages."""
    pth = Path(site_packages(venv)) / "_kiosk_base_site.pth"
    if inherit_site:
        base = sysconfig.get_paths()["purelib"]
        pth.write_text(f"import site; site.addsitedir({base!r})\n", "utf-8")
    else:
        pth.unlink(missing_ok=True)


def site_packages(venv: Path) -> str:
    return run([str(venv / "bin" / "python"), "-c",
                "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
               "the slot's python").strip()


def read_record(slot: Path) -> list[dict[str, Any]] | None:
    """The wheels a slot was built from, or None (no record: built before records)."""
    try:
        doc = json.loads((slot / RECORD).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, list) else None


def rewrite_paths(venv: Path, old_path: str, new_path: str) -> None:
    """Name ``new_path`` instead of ``old_path`` in the venv's script shebangs, activation
    scripts and ``pyvenv.cfg`` (what ties a venv to the folder it was made in)."""
    old, new = old_path.encode(), new_path.encode()
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            data = script.read_bytes()
            if (data.startswith(b"#!") and old in data[:512]) or \
                    script.name.startswith("activate"):
                script.write_bytes(data.replace(old, new))
    cfg = venv / "pyvenv.cfg"
    cfg.write_bytes(cfg.read_bytes().replace(old, new))


#: Variables that would let a slot's python or pip see packages from outside its venv (a
#: ``PYTHONPATH`` holding a source tree with an ``.egg-info`` makes pip leave the venv's
#: own copy installed).
_OUTSIDE = ("PYTHONPATH", "PYTHONHOME", "PYTHONUSERBASE", "PYTHONSTARTUP", "PIP_TARGET",
            "PIP_PREFIX", "PIP_USER")


def run(cmd: list[str], what: str) -> str:
    """Run a build step in a clean environment, in the folder of the slots (``python -m``
    puts the working folder first on ``sys.path``)."""
    env = {k: v for k, v in os.environ.items() if k not in _OUTSIDE}
    cwd = next((Path(c).parents[3] for c in cmd[:1] if c.endswith("/venv/bin/python")),
               Path(tempfile.gettempdir()))
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=PIP_TIMEOUT_S,
                              env=env, cwd=cwd)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SlotError(f"{what}: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise SlotError(f"{what} failed: {tail[:300]}")
    return done.stdout


def remove_old_slots(layout: Layout, keep: set[str]) -> None:
    """Remove slots other than ``keep`` (the current and the previous one)."""
    for slot in layout.slots.iterdir():
        # ``.<v>.tmp``: a slot the agent is building right now (it cleans up its own).
        if slot.name not in keep and not slot.name.startswith("."):
            shutil.rmtree(slot, ignore_errors=True)
