"""A weak link between a kiosk and the central, for tests and the benchmark: a TCP proxy on
127.0.0.1 that can limit the bytes per second towards the kiosk and cut the connection
once after a number of bytes (a mobile link dropping in the middle of a download)."""

from __future__ import annotations

import socket
import threading
import time


class WeakLink:
    def __init__(self, upstream_port: int, *, rate_bps: float | None = None,
                 cut_after: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.rate_bps = rate_bps  # bits per second towards the kiosk, None: unlimited
        self.cut_after = cut_after  # cut once when this many bytes went down
        self.bytes_down = 0
        self.cuts = 0
        self._lock = threading.Lock()
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = self._server.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self._stop = True
        self._server.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, down: bool) -> None:
        try:
            while True:
                data = src.recv(4096 if down and self.rate_bps else 65536)
                if not data:
                    break
                if down and self._account(len(data)):
                    break
                dst.sendall(data)
                if down and self.rate_bps:
                    time.sleep(len(data) * 8 / self.rate_bps)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _account(self, n: int) -> bool:
        """Count ``n`` bytes going down; True when the link is to be cut now."""
        with self._lock:
            self.bytes_down += n
            if self.cut_after is not None and self.bytes_down >= self.cut_after:
                self.cut_after = None
                self.cuts += 1
                return True
        return False
