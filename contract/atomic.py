"""Replacing a small file so that a power cut leaves the old or the new content. Qt-free.

Used for the last known good menu, the menu rejection, the PIN lock-out state, the status
snapshot and the diagnostics bundle. The content goes to a temporary file beside the target
(named ``TEMP_PREFIX...``, so an interrupted write can be recognised and removed), is fsynced,
renamed over the target, and the folder is fsynced so the rename itself survives.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

log = logging.getLogger(__name__)

TEMP_PREFIX = ".tmp-"


def fsync_dir(folder: Path) -> None:
    """Make a rename or a new entry in ``folder`` durable. Best effort: a filesystem that
    cannot fsync a folder (some FUSE and network mounts) is logged, not an error, since the
    rename has already happened."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError as exc:
        log.debug("cannot open %s to fsync it: %s", folder, exc)
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        log.debug("cannot fsync folder %s: %s", folder, exc)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace ``path`` with ``data``: temp file, fsync, rename, fsync of the folder. The
    folder must exist. On an error the temporary file is removed and the old file stays."""
    path = Path(path)
    tmp = path.with_name(f"{TEMP_PREFIX}{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):  # e.g. a USB stick already gone: report the cause
            tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
