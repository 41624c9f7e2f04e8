"""Previews of menu drafts, rendered by the kiosk's own screens in a worker process.

The central never imitates the kiosk's screens: it runs ``python -m kiosk.demo.preview``
(the kiosk package's preview command, on simulated devices, ``QT_QPA_PLATFORM=offscreen``)
on the draft's menu in a subprocess and serves the PNGs it wrote. Pictures are kept in a
temporary folder of this process (one draft revision each) and removed at ``close()``; in
``serve --workers N`` an admin asks the worker that rendered, or renders again.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

PREVIEW_MODULE = "kiosk.demo.preview"
TIMEOUT_S = 300.0
MAX_SERVICES = 6  # changed services walked per preview
_NAME = re.compile(r"^[a-z0-9_.-]{1,120}\.png$", re.IGNORECASE)


class PreviewRunner:
    """At most one rendering per draft at a time; the newest one's pictures are kept."""

    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-m", PREVIEW_MODULE]
        self._root: Path | None = None
        self._state: dict[int, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def start(self, draft_id: int, view: dict[str, Any], diff: dict[str, Any]
              ) -> dict[str, Any]:
        """Begin rendering ``view`` (a draft as ``DraftBook.view`` gives it)."""
        with self._lock:
            current = self._state.get(draft_id)
            if current and current["state"] == "running":
                return dict(current)
            if self._root is None:
                self._root = Path(tempfile.mkdtemp(prefix="kiosk-central-preview-"))
            folder = self._root / f"draft-{draft_id}-r{view['revision']}"
            status = {"state": "running", "revision": view["revision"], "images": [],
                      "services": changed_services(view["menu"], diff), "error": None}
            self._state[draft_id] = status
        threading.Thread(target=self._render, args=(draft_id, view["menu"], folder, status),
                         name=f"preview-{draft_id}", daemon=True).start()
        return dict(status)

    def status(self, draft_id: int) -> dict[str, Any]:
        with self._lock:
            found = self._state.get(draft_id)
            return dict(found) if found else {"state": "none", "images": []}

    def image(self, draft_id: int, name: str) -> bytes | None:
        with self._lock:
            status, root = self._state.get(draft_id), self._root
        if status is None or root is None or not _NAME.match(name):
            return None
        if name not in {i["file"] for i in status["images"]}:
            return None
        path = root / f"draft-{draft_id}-r{status['revision']}" / name
        try:
            return path.read_bytes()
        except OSError:
            return None

    def close(self) -> None:
        with self._lock:
            root, self._root = self._root, None
        if root is not None:
            shutil.rmtree(root, ignore_errors=True)

    def _render(self, draft_id: int, menu: dict[str, Any], folder: Path,
                status: dict[str, Any]) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        menu_file = folder / "menu.json"
        menu_file.write_text(json.dumps(menu, ensure_ascii=False), encoding="utf-8")
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        cmd = [*self.command, "--menu", str(menu_file), "--out", str(folder),
               "--services", ",".join(status["services"])]
        try:
            run = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT_S,
                                 env=env, check=False)
            if run.returncode != 0:
                raise RuntimeError((run.stderr.strip().splitlines() or ["failed"])[-1])
            images = json.loads((folder / "index.json").read_text("utf-8"))["images"]
            update = {"state": "done", "images": images}
        except (OSError, RuntimeError, ValueError, KeyError,
                subprocess.TimeoutExpired) as exc:
            log.warning("preview of draft %d failed: %s", draft_id, exc)
            update = {"state": "failed", "error": str(exc)[:300]}
        with self._lock:
            if self._state.get(draft_id) is status:
                status.update(update)


def changed_services(menu: dict[str, Any], diff: dict[str, Any]) -> list[str]:
    """The services a preview walks: those the draft adds or changes, else the first."""
    ids: list[str] = []
    services = (diff.get("diff") or {}).get("services") or {}
    ids += [s["id"] for s in services.get("added", [])]
    ids += [s["id"] for s in services.get("changed", [])]
    enabled = {s["id"] for s in menu.get("services", []) if s.get("enabled", True)}
    ids = [i for i in ids if i in enabled]
    if not ids:
        ids = [s["id"] for s in menu.get("services", []) if s.get("enabled", True)][:1]
    return ids[:MAX_SERVICES]
