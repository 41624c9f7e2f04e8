"""systemd's side of the kiosk, without Qt: the sd_notify sender and the crash-loop ledger.

sd_notify is one ``AF_UNIX``/``SOCK_DGRAM`` datagram per message to ``$NOTIFY_SOCKET`` (a
leading ``@`` is the abstract namespace). Without ``NOTIFY_SOCKET`` (a developer's desktop,
``kiosk demo``, a test) every call does nothing. A failed send is logged, never raised: the
kiosk must not stop because its supervisor went away.

The crash-loop ledger (``<data_dir>/starts.json``) counts the starts that did not end in a
clean stop; after ``limit`` of them within ``window_s`` the kiosk starts on its
out-of-service screen instead of looping through restarts in front of a resident.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from contract.atomic import write_atomic

log = logging.getLogger(__name__)

STARTS_FILE = "starts.json"
QUICK_FAILURES = 3  # this many unclean starts within WINDOW_S: out of service
WINDOW_S = 600.0
STATUS_MAX = 120  # systemctl shows one short line


class Notifier:
    """Sends sd_notify messages to the socket named in ``env`` (default ``os.environ``)."""

    def __init__(self, env: Mapping[str, str] | None = None):
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):
            address = "\0" + address[1:]
        self._address = address or None
        self.watchdog_usec = _watchdog_usec(env)
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self._address is not None

    @property
    def watchdog_interval_ms(self) -> int | None:
        """Half of ``WATCHDOG_USEC`` in milliseconds (systemd's advice), or None."""
        if not self.enabled or not self.watchdog_usec:
            return None
        return max(1, self.watchdog_usec // 2000)

    def send(self, *lines: str) -> bool:
        """Send ``lines`` as one message; False when there is no socket or it failed."""
        if self._address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto("\n".join(lines).encode("utf-8"), self._address)
        except OSError as exc:
            log.warning("sd_notify to %r failed: %s", self._address, exc)
            return False
        return True

    def ready(self, status: str = "") -> bool:
        return self.send("READY=1", *([_status_line(status)] if status else []))

    def status(self, text: str) -> bool:
        return self.send(_status_line(text))

    def watchdog(self) -> bool:
        return self.send("WATCHDOG=1")

    def stopping(self, status: str = "") -> bool:
        return self.send("STOPPING=1", *([_status_line(status)] if status else []))

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def _watchdog_usec(env: Mapping[str, str]) -> int | None:
    # WATCHDOG_PID, when set, names the process meant to ping; a child must not.
    pid = env.get("WATCHDOG_PID")
    if pid and pid != str(os.getpid()):
        return None
    try:
        usec = int(env.get("WATCHDOG_USEC", ""))
    except ValueError:
        return None
    return usec if usec > 0 else None


def _status_line(text: str) -> str:
    one_line = " ".join(text.split())
    return "STATUS=" + one_line[:STATUS_MAX]


class StartLedger:
    """The recent starts that have not (yet) ended in a clean stop, kept in
    ``<data_dir>/starts.json`` as a list of UNIX times."""

    def __init__(self, data_dir: Path, limit: int = QUICK_FAILURES, window_s: float = WINDOW_S,
                 clock: Callable[[], float] = time.time):
        self.path = Path(data_dir) / STARTS_FILE
        self.limit = limit
        self.window_s = window_s
        self._clock = clock

    def recent(self) -> list[float]:
        """The unclean starts within the window (a missing or unreadable file: none)."""
        try:
            times = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as exc:
            log.warning("%s unreadable (%s): counting from zero", self.path, exc)
            return []
        if not isinstance(times, list):
            return []
        now = self._clock()
        return [t for t in times if isinstance(t, (int, float)) and 0 <= now - t < self.window_s]

    def record_start(self) -> bool:
        """Count this start; True when the earlier starts were already ``limit`` quick
        failures, so this one should show the out-of-service screen."""
        earlier = self.recent()
        self._write([*earlier, self._clock()])
        out = len(earlier) >= self.limit
        if out:
            log.error("%d starts in %.0f s without a clean stop: out of service",
                      len(earlier), self.window_s)
        return out

    def clean_stop(self) -> None:
        """The app stopped on purpose (systemd stop, a technician's restart): forget."""
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("%s not removed: %s", self.path, exc)

    def _write(self, times: list[float]) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            write_atomic(self.path, json.dumps(times).encode("ascii"), mode=0o600)
        except OSError as exc:
            log.warning("%s not written: %s", self.path, exc)
