"""Shared set-up. Qt runs offscreen: the machine and CI have no display."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Tests never touch the real user's data folder or a system configuration.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="kiosk-test-xdg-")
atexit.register(shutil.rmtree, os.environ["XDG_DATA_HOME"], ignore_errors=True)
os.environ.pop("KIOSK_CONFIG", None)
