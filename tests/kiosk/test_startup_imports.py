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


# Also loaded at their first use, after the first frame (docs/BENCHMARKS.md, start-up "no
# slower than before"): the espeak-ng voice and its cache, the time zone database, OpenSSL
# (hashlib via secrets), the rotating log file handler, the clock, the technicians' PINs,
# the fleet commands, the update loop, crash supervision and the out-of-service window.
# (kiosk.central_link is loaded by create_window: it reads the running menu.)
AFTER_FIRST_FRAME = (*(m for m in DEFERRED if m != "kiosk.central_link"), "drivers.voice",
                     "drivers.voice.espeak", "drivers.voice.cache",
                     "drivers.voice.sim", "drivers.voice.pinyin", "pypinyin", "zoneinfo",
                     "hashlib", "secrets", "logging.handlers", "contract.clock", "email.utils",
                     "kiosk.technician.pin", "uplink.commands", "kiosk.shell.fleet_commands",
                     "kiosk.updates", "kiosk.shell.recovery", "kiosk.shell.supervision",
                     "kiosk.systemd", "kiosk.shell.out_of_service")


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


CREATE_WINDOW = """
import json, os, sys, tempfile
os.environ["QT_QPA_PLATFORM"] = "offscreen"
from pathlib import Path
from PySide6.QtWidgets import QApplication
from kiosk.app import create_window
from kiosk.config import demo_config
from kiosk.shell.controller import Controller
calls = []
original = Controller.recover_unprinted
def recover(self):
    calls.append("recover")
    original(self)
Controller.recover_unprinted = recover
app = QApplication([])
data = Path(tempfile.mkdtemp())
window = create_window(config=demo_config(data))  # the production voice: espeak-ng
loaded = [m for m in MODULES if m in sys.modules]
at_create = list(calls)
voice_made = window.speaker._voice is not None
window.show()
while not window.started:  # the first frame's work: the event, not a time
    app.processEvents()
print(json.dumps({"loaded": loaded, "at_create": at_create, "after": calls,
                  "voice_made": voice_made, "engine": window.speaker.voice.engine}))
window.shutdown()
os._exit(0)
"""


def test_create_window_leaves_the_deferred_parts_to_after_the_first_frame():
    """The voice engine is made at its first use; the receipts owed after a crash are looked
    for after the first frame (they open the queue and load qrcode and PIL)."""
    code = f"MODULES = {list(AFTER_FIRST_FRAME)!r}\n" + CREATE_WINDOW
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["loaded"] == []
    assert result["at_create"] == [] and result["after"] == ["recover"]
    assert result["voice_made"] is False and result["engine"] == "espeak-ng"
