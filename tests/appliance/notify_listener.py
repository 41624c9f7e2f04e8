"""A real sd_notify socket for tests: binds an AF_UNIX datagram socket, collects every
message on a thread, and lets a test wait for the one it expects."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path


class NotifyListener:
    def __init__(self, folder: Path):
        self.path = folder / "notify.sock"
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(self.path))
        self._sock.settimeout(0.2)
        self.messages: list[tuple[float, dict[str, str]]] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def env(self, watchdog_usec: int | None = None) -> dict[str, str]:
        env = {"NOTIFY_SOCKET": str(self.path)}
        if watchdog_usec:
            env["WATCHDOG_USEC"] = str(watchdog_usec)
        return env

    def _run(self) -> None:
        while not self._stop:
            try:
                data = self._sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            fields = dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line)
            with self._cond:
                self.messages.append((time.monotonic(), fields))
                self._cond.notify_all()

    def wait_for(self, predicate: Callable[[dict[str, str]], bool], timeout: float = 30,
                 after: int = 0) -> dict[str, str]:
        """The first message from index ``after`` on that satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for _, msg in self.messages[after:]:
                    if predicate(msg):
                        return msg
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no such sd_notify message; got {self.messages[-5:]}")
                self._cond.wait(left)

    def count(self, key: str) -> int:
        with self._cond:
            return sum(1 for _, m in self.messages if key in m)

    def wait_for_pings(self, n: int, timeout: float = 30) -> None:
        """``n`` more WATCHDOG=1 pings than now."""
        target = self.count("WATCHDOG") + n
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.count("WATCHDOG") < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"pings stopped at {self.count('WATCHDOG')}")
                self._cond.wait(left)

    def wait_for_silence(self, quiet_s: float, timeout: float = 30) -> None:
        """Until no WATCHDOG ping came for ``quiet_s`` seconds (the pings stopped)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._cond:
                pings = [t for t, m in self.messages if "WATCHDOG" in m]
            last = pings[-1] if pings else 0.0
            if time.monotonic() - last >= quiet_s:
                return
            time.sleep(quiet_s / 4)
        raise AssertionError("the watchdog pings never stopped")

    def close(self) -> None:
        self._stop = True
        self._sock.close()
        self._thread.join(timeout=2)
