"""sd_notify for the guard: a socket its child (the kiosk) reports to, and the messages
passed on to systemd's own socket (``NOTIFY_SOCKET`` of the guard, when it has one)."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping
from pathlib import Path

log = logging.getLogger(__name__)


def _address(name: str) -> str:
    return "\0" + name[1:] if name.startswith("@") else name


class NotifyRelay:
    """Listens on ``path`` for the child's datagrams; ``upstream`` is systemd's socket."""

    def __init__(self, path: Path, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.path = path
        self.upstream = env.get("NOTIFY_SOCKET", "")
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)

    def receive(self) -> dict[str, str] | None:
        """One message of the child as ``{"READY": "1", ...}``, or None after a short wait."""
        try:
            data = self.sock.recv(4096)
        except (TimeoutError, BlockingIOError):
            return None
        fields = {}
        for line in data.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            fields[key] = value
        return fields

    def send_up(self, **fields: str) -> None:
        """Pass a message to systemd (nothing without ``NOTIFY_SOCKET``); never raises."""
        if not self.upstream:
            return
        text = "\n".join(f"{k}={v}" for k, v in fields.items())
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
                s.sendto(text.encode("utf-8"), _address(self.upstream))
        except OSError as exc:
            log.debug("sd_notify to systemd failed: %s", exc)

    def close(self) -> None:
        self.sock.close()
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass
