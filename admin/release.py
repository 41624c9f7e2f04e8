"""Releases on the admin's side (issue #15): build one from a checkout, sign it, upload
its wheels and publish it on a central, and follow its rollout.

A build copies the checkout to a temporary folder, writes the release version into
``pyproject.toml`` and ``kiosk/__init__.py``, makes the project's wheel with ``pip wheel
--no-deps``, adds the dependency wheels (``pip wheel`` of a lock file of exact versions, or
wheels already at hand), and writes ``manifest.json`` beside the wheels.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from contract import release as contract_release
from contract.times import rfc3339

from .errors import AdminError

log = logging.getLogger(__name__)

PROJECT = "village-kiosk"
_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", "*.pyc", "build", "dist",
                                 "*.egg-info", "tests", ".pytest_cache", ".ruff_cache")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def set_version(tree: Path, version: str) -> None:
    """Write ``version`` into the copied tree's ``pyproject.toml`` and ``kiosk/__init__.py``."""
    pyproject = tree / "pyproject.toml"
    text, n = re.subn(r'(?m)^version = "[^"]*"$', f'version = "{version}"',
                      pyproject.read_text("utf-8"), count=1)
    if n != 1:
        raise AdminError(f"{pyproject}: no version line to set")
    pyproject.write_text(text, "utf-8")
    init = tree / "kiosk" / "__init__.py"
    text, n = re.subn(r'(?m)^__version__ = "[^"]*"$', f'__version__ = "{version}"',
                      init.read_text("utf-8"), count=1)
    if n != 1:
        raise AdminError(f"{init}: no __version__ line to set")
    init.write_text(text, "utf-8")


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", *args, "-q", "--disable-pip-version-check"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise AdminError(f"pip {args[0]} failed: {tail[:300]}")


def build(checkout: Path, version: str, out: Path, *, lock: Path | None = None,
          wheels: list[Path] | None = None, min_from: str = "0", notes: str = ""
          ) -> dict[str, Any]:
    """Build a release into ``out`` and return its manifest (also ``out/manifest.json``)."""
    contract_release.parse_version(version)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="kiosk-release-") as tmp:
        tree = Path(tmp) / "src"
        shutil.copytree(checkout, tree, ignore=_IGNORE)
        set_version(tree, version)
        _pip("wheel", "--no-deps", "-w", str(out), str(tree))
    if lock is not None:
        # --no-deps: the lock names every package; an sdist-only one (pyscard) is built here.
        _pip("wheel", "--no-deps", "-w", str(out), "-r", str(lock))
    for wheel in wheels or []:
        if wheel.resolve().parent != out.resolve():
            shutil.copy2(wheel, out / wheel.name)
    project_prefix = PROJECT.replace("-", "_") + "-"
    chosen = [w for w in sorted(out.glob("*.whl"))
              if not w.name.startswith(project_prefix) or w.name.startswith(
                  f"{project_prefix}{version}-")]
    manifest = {
        "version": version, "project": PROJECT, "min_from": min_from, "notes": notes,
        "created_at": rfc3339(time.time()),
        "wheels": [{"name": w.name, "size": w.stat().st_size, "sha256": file_sha256(w)}
                   for w in chosen],
    }
    contract_release.check_manifest(manifest)
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False)
                                       + "\n", "utf-8")
    return manifest


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise AdminError(f"{path}: cannot read JSON ({exc})") from None


def sign(manifest_path: Path, key_path: Path, key_id: str) -> dict[str, Any]:
    from contract.signing import read_private_key

    return contract_release.sign_release(read_json(manifest_path), read_private_key(key_path),
                                         key_id)


def upload_and_publish(client: Any, signed: dict[str, Any], wheel_dir: Path) -> dict[str, Any]:
    """Upload every wheel the central does not hold yet (resuming a cut upload), then keep
    the release there."""
    manifest = contract_release.check_manifest(signed.get("release"))
    for wheel in manifest["wheels"]:
        held = client.wheel_state(wheel["sha256"])
        if held.get("held"):
            continue
        path = wheel_dir / wheel["name"]
        if not path.is_file() or file_sha256(path) != wheel["sha256"]:
            raise AdminError(f"{path}: missing, or not the wheel the manifest names")
        offset = int(held.get("uploaded") or 0)
        offset -= offset % contract_release.UPLOAD_CHUNK
        with path.open("rb") as f:
            f.seek(offset)
            while piece := f.read(contract_release.UPLOAD_CHUNK):
                client.put_wheel_piece(wheel["sha256"], offset, piece)
                offset += len(piece)
        log.info("uploaded %s", wheel["name"])
    return client.publish_release(signed)
