"""The window's module graph stays light until the first frame (docs/BENCHMARKS.md, start-up).

Opening the queue, HTTP, receipts and diagnostics are loaded after the first paint; importing
one of them at the top of a start-up module once cost 100 ms of start-up unnoticed.
"""

from __future__ import annotations

import json
import subprocess
import sys

DEFERRED = ("sqlite_utils", "requests", "urllib3", "kiosk.receipts.render", "qrcode", "PIL",
            "offline_queue.queue", "kiosk.central_link", "kiosk.technician.status",
            "kiosk.technician.export", "uplink.client", "uplink.uploader", "uplink.sync_worker",
            "uplink.menu_poller",
            "jsonschema", "cryptography.hazmat.primitives.ciphers.aead")


def test_importing_the_app_shell_loads_none_of_the_deferred_modules():
    code = ("import json, sys, kiosk.app, kiosk.shell.controller; "
            f"print(json.dumps([m for m in {list(DEFERRED)!r} if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert json.loads(out.stdout) == []


RUN_WINDOW = """
import json, os, sys, tempfile, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path
from PySide6.QtWidgets import QApplication
from kiosk.app import create_window
from kiosk.config import demo_config
app = QApplication([])
from kiosk.demo.run import with_demo_voice
window = create_window(config=with_demo_voice(demo_config(Path(tempfile.mkdtemp()))))
window.show()
end = time.monotonic() + 2.5  # past the first frame: queue open, timers, diagnostics set up
while time.monotonic() < end:
    app.processEvents()
    time.sleep(0.01)
loaded = [m for m in ("requests", "urllib3", "ssl", "http.client") if m in sys.modules]
window.shutdown()
print(json.dumps(loaded))
"""


def test_an_offline_only_kiosk_never_loads_the_http_stack():
    """Without central.url nothing is ever sent, so ~6 MB of HTTP and TLS modules stay out."""
    out = subprocess.run([sys.executable, "-c", RUN_WINDOW], capture_output=True, text=True,
                         check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
