"""The window's module graph stays light until the first frame (docs/BENCHMARKS.md, start-up).

Opening the queue, HTTP, receipts and diagnostics are loaded after the first paint; importing
one of them at the top of a start-up module once cost 100 ms of start-up unnoticed.
"""

from __future__ import annotations

import json
import subprocess
import sys

DEFERRED = ("sqlite_utils", "requests", "urllib3", "kiosk.receipt", "qrcode", "PIL",
            "offline_queue.queue", "kiosk.uplink", "kiosk.status", "kiosk.bundle",
            "jsonschema", "cryptography.hazmat.primitives.ciphers.aead")


def test_importing_the_app_shell_loads_none_of_the_deferred_modules():
    code = ("import json, sys, kiosk.app, kiosk.controller; "
            f"print(json.dumps([m for m in {list(DEFERRED)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert json.loads(out.stdout) == []
