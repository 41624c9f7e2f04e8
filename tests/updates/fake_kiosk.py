"""A stand-in for a slot's kiosk in the guard tests: ``fake_kiosk.py VERSION BEHAVIOUR``.

Every start appends VERSION to ``<root>/starts``. Behaviours: ``good`` (READY=1, then a
heartbeat-ok naming VERSION, then runs until SIGTERM), ``crash`` (exits 3 at once),
``hang`` (never READY), ``offline`` (READY but never a heartbeat).
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import time
from pathlib import Path


def notify(text: str) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.sendto(text.encode(), os.environ["NOTIFY_SOCKET"])


def main() -> int:
    version, behaviour = sys.argv[1], sys.argv[2]
    root = Path(os.environ["KIOSK_UPDATE_ROOT"])
    with (root / "starts").open("a") as f:
        f.write(version + "\n")
    if behaviour == "crash":
        return 3
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    if behaviour != "hang":
        notify("READY=1\nSTATUS=home")
    if behaviour == "good":
        marker = root / ".hb-tmp"
        marker.write_text(version)
        os.replace(marker, root / "heartbeat-ok")
    while True:
        time.sleep(0.1)


if __name__ == "__main__":
    sys.exit(main())
