"""A new slot from a copy of the running one: the venv is copied (symlinks kept: its
``python`` names the base interpreter, not the old folder), the paths that tie it to its
old folder are rewritten (``slots.rewrite_paths``), the distributions that are not the
manifest's (or whose wheel changed) are uninstalled, and ``pip install --no-index`` puts in
what is missing. The result is checked against the manifest (``verify_slot``): exactly the
manifest's distributions at its versions, nothing left from the old slot. Any failure
raises ``SlotError`` and the caller builds the slot clean."""

from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import SlotError
from .layout import Layout
from .slots import pip_install, read_record, rewrite_paths, run, set_inherit_site

log = logging.getLogger(__name__)

#: What ``python -m venv`` puts in every venv; not part of a release unless it lists them.
SEED = frozenset({"pip", "setuptools"})
_LIST = ("import json, sys, sysconfig; from importlib import metadata; "
         "p = sysconfig.get_paths(); "
         "print(json.dumps(sorted({(d.metadata['Name'], d.version) for d in "
         "metadata.distributions(path=[p['purelib'], p['platlib']])})))")


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheel_dist(filename: str) -> tuple[str, str]:
    """``(normalized name, version)`` of a wheel file name (PEP 427)."""
    parts = filename[:-4].split("-") if filename.endswith(".whl") else []
    if len(parts) not in (5, 6):
        raise SlotError(f"{filename}: not a wheel file name")
    return normalize(parts[0]), parts[1]


def copy_running_slot(layout: Layout, running: str, tmp: Path, manifest: Mapping[str, Any],
                      links: Path, inherit_site: bool) -> None:
    """Build ``tmp/venv`` for ``manifest`` from a copy of the running slot's venv."""
    source = layout.slot(running) / "venv"
    old = {w["name"]: w["sha256"] for w in read_record(layout.slot(running)) or []}
    venv = tmp / "venv"
    try:
        shutil.copytree(source, venv, symlinks=True)
        for old_path in dict.fromkeys((str(source), str(source.resolve()))):
            rewrite_paths(venv, old_path, str(venv))
        _check_shebangs(venv, f"/slots/{running}/venv/")
        set_inherit_site(venv, inherit_site)
    except OSError as exc:
        raise SlotError(f"copying slot {running}: {exc}") from None
    prefix = run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
                 "the copied slot's python").strip()
    if Path(prefix) != venv:  # pip must never touch another environment
        raise SlotError(f"the copied slot runs as {prefix}, not as itself")
    wanted = {wheel_dist(w["name"]): w for w in manifest["wheels"]}
    wanted_names = {name for name, _ in wanted}
    changed = {name for (name, _), w in wanted.items() if old.get(w["name"]) != w["sha256"]}
    stale = [name for name, _ in installed(venv)
             if (name not in wanted_names and name not in SEED) or name in changed]
    if stale:
        run([str(venv / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q",
             "--disable-pip-version-check", *stale], "pip uninstall")
    pip_install(venv, links, manifest)
    verify_slot(venv, manifest, strict=True)
    log.info("slot %s copied from %s: %d wheels kept, %d removed, %d installed",
             manifest["version"], running, len(wanted) - len(changed), len(stale),
             len(changed))


def _check_shebangs(venv: Path, old: str) -> None:
    """No script of the copy may still start the old slot's python."""
    for script in (venv / "bin").iterdir():
        if script.is_file() and not script.is_symlink():
            with script.open("rb") as f:
                first = f.readline(512)
            if first.startswith(b"#!") and old.encode() in first:
                raise SlotError(f"{script.name} still names the old slot's python")


def installed(venv: Path) -> list[tuple[str, str]]:
    """``(normalized name, version)`` of every distribution inside the venv itself (not
    those it inherits through a ``.pth``)."""
    out = run([str(venv / "bin" / "python"), "-c", _LIST], "listing the slot")
    try:
        return [(normalize(n), v) for n, v in json.loads(out)]
    except (ValueError, TypeError) as exc:
        raise SlotError(f"listing the slot: {exc}") from None


def verify_slot(venv: Path, manifest: Mapping[str, Any], *, strict: bool) -> None:
    """The venv holds exactly the manifest's distributions (and the venv's own seed).
    ``strict``: a difference raises ``SlotError``; otherwise it is logged (a clean build
    installs the project's dependency closure, which a manifest may exceed)."""
    want = {wheel_dist(w["name"]) for w in manifest["wheels"]}
    have = {(n, v) for n, v in installed(venv)
            if n not in SEED or n in {name for name, _ in want}}
    extra, missing = sorted(have - want), sorted(want - have)
    if not extra and not missing:
        return
    text = f"slot {manifest['version']} is not its manifest: extra {extra}, missing {missing}"
    if strict or extra:
        raise SlotError(text)
    log.warning("%s", text)
