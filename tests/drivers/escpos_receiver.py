"""A pretend ESC/POS printer for tests, on loopback TCP or on a pseudo-terminal.

``EscposParser`` turns the byte stream back into what a printer would do: raster images
(``GS v 0``, consecutive fragments joined), cuts, feeds, text lines and status requests;
commands it does not know are skipped by their usual length. The receivers answer
``DLE EOT n`` with configurable bytes, but only when the request is the last thing received so
far: image data may contain ``10 04 n``. They can stay silent, change their status after some
bytes (paper running out mid-job), stop reading, or hang up mid-job.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

ESC, GS, FS, DLE = 0x1B, 0x1D, 0x1C, 0x10
_INVERT = bytes(255 - i for i in range(256))

# Commands with a fixed number of argument bytes after the two command bytes.
_ESC_ARGS = {
    b"@": 0, b"2": 0, b"<": 0, b"L": 0, b"S": 0, b"d": 1, b"J": 1, b"K": 1, b"a": 1, b"E": 1,
    b"!": 1, b"-": 1, b"G": 1, b"M": 1, b"t": 1, b"3": 1, b"R": 1, b"{": 1, b"V": 1, b"r": 1,
    b"U": 1, b" ": 1, b"=": 1, b"T": 1, b"%": 1, b"e": 1, b"f": 2, b"c": 2, b"$": 2, b"\\": 2,
    b"B": 2, b"p": 3, b"W": 8,
}  # fmt: skip
_GS_ARGS = {
    b"!": 1, b"B": 1, b"b": 1, b"h": 1, b"w": 1, b"H": 1, b"f": 1, b"a": 1, b"r": 1, b"I": 1,
    b"/": 1, b"L": 2, b"W": 2, b"P": 2, b"$": 2, b"\\": 2, b"^": 3, b":": 0, b"T": 1,
}  # fmt: skip
_FS_ARGS = {b"&": 0, b".": 0, b"!": 1, b"C": 1, b"-": 1, b"W": 1, b"S": 2, b"p": 2}
_FULL_CUTS = {0, 48, 65, 97, 103}
_PARTIAL_CUTS = {1, 49, 66, 98, 104}
DEFAULT_STATUS = {1: b"\x16", 2: b"\x12", 3: b"\x12", 4: b"\x12"}


def raster_to_image(width_bytes: int, height: int, data: bytes) -> Image.Image:
    """A ``GS v 0`` bit image (1 = burn a dot) as a PIL 1-bit image (0 = black)."""
    return Image.frombytes("1", (width_bytes * 8, height), bytes(data).translate(_INVERT))


def _nul_terminated(buf: bytearray, start: int) -> int | None:
    end = buf.find(b"\x00", start)
    return None if end < 0 else end + 1


class EscposParser:
    """Incremental ESC/POS parser. ``feed`` never raises; incomplete commands wait for more."""

    def __init__(self) -> None:
        self.events: list[tuple] = []  # ("image", i), ("cut", kind), ("text", s), ("status", n)...
        self.images: list[Image.Image] = []
        self.rasters: list[tuple[int, int, int]] = []  # (mode, width bytes, height) as received
        self.texts: list[str] = []
        self.cuts: list[str] = []
        self.unknown: list[bytes] = []
        self._buf = bytearray()
        self._line = bytearray()

    @property
    def pending(self) -> int:
        """Bytes of a command not yet complete."""
        return len(self._buf)

    def reset_stream(self) -> None:
        """A new connection: forget a half-received command."""
        self._buf.clear()
        self._line.clear()

    def feed(self, data: bytes) -> list[tuple]:
        """Parse ``data``; return the events it completed."""
        first = len(self.events)
        self._buf += data
        pos = 0
        while pos < len(self._buf):
            length = self._length(self._buf, pos)
            if length is None:
                break
            self._handle(bytes(self._buf[pos : pos + length]))
            pos += length
        del self._buf[:pos]
        return self.events[first:]

    # --- lengths ----------------------------------------------------------------------------

    def _length(self, buf: bytearray, pos: int) -> int | None:
        """Length of the complete command at ``pos``, or None when more bytes are needed."""
        have = len(buf) - pos

        def need(n: int) -> int | None:
            return n if have >= n else None

        b = buf[pos]
        if b >= 0x20 and b != 0x7F:
            end = pos
            while end < len(buf) and buf[end] >= 0x20 and buf[end] != 0x7F:
                end += 1
            return end - pos
        if b not in (ESC, GS, FS, DLE):
            return 1
        if have < 2:
            return None
        c = bytes((buf[pos + 1],))
        if b == DLE:
            if c == b"\x14":  # DLE DC4 fn ...: 8 is "clear buffers" with 7 data bytes
                return None if have < 3 else need(10 if buf[pos + 2] == 8 else 5)
            return need(3) if c in (b"\x04", b"\x05") else 2
        if b == FS:
            return need(2 + _FS_ARGS[c]) if c in _FS_ARGS else 2
        if b == ESC:
            if c in _ESC_ARGS:
                return need(2 + _ESC_ARGS[c])
            if c == b"*":  # ESC * m nL nH: column image, 1 or 3 bytes per column
                if have < 5:
                    return None
                columns = buf[pos + 3] | buf[pos + 4] << 8
                return need(5 + columns * (1 if buf[pos + 2] in (0, 1) else 3))
            if c == b"D":  # tab stops, NUL-terminated
                end = _nul_terminated(buf, pos + 2)
                return None if end is None else end - pos
            return 2
        # GS
        if c == b"v":
            if have < 8:
                return None if have < 3 or buf[pos + 2] == 0x30 else 2
            if buf[pos + 2] != 0x30:
                return 2
            width, height = buf[pos + 4] | buf[pos + 5] << 8, buf[pos + 6] | buf[pos + 7] << 8
            return need(8 + width * height)
        if c == b"V":
            if have < 3:
                return None
            return need(4) if buf[pos + 2] in (65, 66, 97, 98, 103, 104) else 3
        if c == b"(":  # GS ( fn pL pH data
            return None if have < 5 else need(5 + (buf[pos + 3] | buf[pos + 4] << 8))
        if c == b"8":  # GS 8 L p1 p2 p3 p4 data
            if have < 7:
                return None
            return need(7 + int.from_bytes(buf[pos + 3 : pos + 7], "little"))
        if c == b"k":  # barcodes: NUL-terminated (m <= 6) or counted (m >= 65)
            if have < 4:
                return None
            if buf[pos + 2] <= 6:
                end = _nul_terminated(buf, pos + 3)
                return None if end is None else end - pos
            return need(4 + buf[pos + 3])
        if c == b"*":  # GS * x y: downloaded bit image, x*y*8 bytes
            return None if have < 4 else need(4 + buf[pos + 2] * buf[pos + 3] * 8)
        return need(2 + _GS_ARGS[c]) if c in _GS_ARGS else 2

    # --- effects ----------------------------------------------------------------------------

    def _end_line(self) -> None:
        if self._line:
            text = self._line.decode("gb18030", errors="replace")
            self._line.clear()
            self.texts.append(text)
            self.events.append(("text", text))

    def _handle(self, cmd: bytes) -> None:
        b = cmd[0]
        if b >= 0x20 and b != 0x7F:
            self._line += cmd
        elif b in (0x0A, 0x0C):
            self._end_line()
        elif b == 0x09:
            self._line += b"\t"
        elif cmd[:2] == b"\x10\x04":
            self.events.append(("status", cmd[2]))
        elif cmd[:3] == b"\x1dv0":
            self._raster(cmd)
        elif cmd[:2] == b"\x1dV":
            self._end_line()
            kind = "full" if cmd[2] in _FULL_CUTS else "partial" if cmd[2] in _PARTIAL_CUTS else "?"
            self.cuts.append(kind)
            self.events.append(("cut", kind))
        elif cmd[:2] in (b"\x1bd", b"\x1bJ"):
            self._end_line()
            self.events.append(("feed" if cmd[1] == 0x64 else "feed_dots", cmd[2]))
        elif cmd == b"\x1b@":
            self._line.clear()
            self.events.append(("init",))
        elif b in (ESC, GS, FS, DLE) and len(cmd) >= 2 and not self._known(cmd):
            self.unknown.append(cmd[:8])
            self.events.append(("unknown", cmd[:8]))
        elif b not in (ESC, GS, FS, DLE, 0x0D):
            self.events.append(("control", b))

    @staticmethod
    def _known(cmd: bytes) -> bool:
        c = cmd[1:2]
        tables = {ESC: _ESC_ARGS, GS: _GS_ARGS, FS: _FS_ARGS}
        if cmd[0] == DLE:
            return c in (b"\x04", b"\x05", b"\x14")
        return c in tables[cmd[0]] or (cmd[0], c) in {
            (ESC, b"*"), (ESC, b"D"), (GS, b"("), (GS, b"8"), (GS, b"k"), (GS, b"*")
        }  # fmt: skip

    def _raster(self, cmd: bytes) -> None:
        mode, width, height = cmd[3], cmd[4] | cmd[5] << 8, cmd[6] | cmd[7] << 8
        self.rasters.append((mode, width, height))
        image = raster_to_image(width, height, cmd[8:])
        last = self.events[-1] if self.events else None
        if last and last[0] == "image" and self.images[last[1]].width == image.width:
            # Tall images arrive in fragments (python-escpos: 960 rows): join them up.
            above = self.images[last[1]]
            joined = Image.new("1", (image.width, above.height + image.height), 1)
            joined.paste(above, (0, 0))
            joined.paste(image, (0, above.height))
            self.images[last[1]] = joined
            return
        self._end_line()
        self.images.append(image)
        self.events.append(("image", len(self.images) - 1))


@dataclass
class Behaviour:
    """How the pretend printer acts. Change fields at any time; they are read per chunk."""

    status: dict[int, bytes] = field(default_factory=lambda: dict(DEFAULT_STATUS))
    silent: bool = False  # answer no status request at all
    status_after: tuple[int, dict[int, bytes]] | None = None  # (bytes into a connection, status)
    close_after: int | None = None  # hang up after this many bytes of one connection
    stall_after: int | None = None  # stop reading after this many bytes of one connection


class EscposReceiver:
    """Shared bookkeeping of the TCP and pty receivers; see the module docstring."""

    def __init__(self, behaviour: Behaviour | None = None) -> None:
        self.behaviour = behaviour or Behaviour()
        self.parser = EscposParser()
        self.raw = bytearray()
        self.connections = 0
        self.first_byte_at: float | None = None  # time.perf_counter() of the last connection's
        self.last_byte_at: float | None = None
        self.lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn_bytes = 0

    # Accessors for tests (copies, under the lock).
    @property
    def images(self) -> list[Image.Image]:
        with self.lock:
            return list(self.parser.images)

    @property
    def cuts(self) -> list[str]:
        with self.lock:
            return list(self.parser.cuts)

    @property
    def events(self) -> list[tuple]:
        with self.lock:
            return list(self.parser.events)

    def save_images(self, folder: Path, stem: str = "received") -> list[Path]:
        paths = []
        for i, image in enumerate(self.images):
            path = Path(folder) / f"{stem}-{i}.png"
            image.save(path)
            paths.append(path)
        return paths

    def wait_for(self, predicate, timeout: float = 5.0) -> bool:
        """Poll ``predicate(self)`` until true or ``timeout`` (a peer may lag the sender)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self):
                    return True
            time.sleep(0.005)
        return False

    def forget(self) -> None:
        """Drop what was received so far (a long soak would keep every receipt's image)."""
        with self.lock:
            p = self.parser
            for kept in (p.events, p.images, p.rasters, p.texts, p.cuts, p.unknown, self.raw):
                kept.clear()

    def _new_connection(self) -> None:
        with self.lock:
            self.connections += 1
            self._conn_bytes = 0
            self.first_byte_at = None
            self.parser.reset_stream()

    def _stalled(self) -> bool:
        limit = self.behaviour.stall_after
        return limit is not None and self._conn_bytes >= limit

    def _room(self) -> int | None:
        """How many more bytes this connection may take before stalling or hanging up."""
        limits = [x for x in (self.behaviour.stall_after, self.behaviour.close_after) if x]
        return max(0, min(limits) - self._conn_bytes) if limits else None

    def _received(self, data: bytes) -> tuple[bytes, bool]:
        """Record ``data``; return (reply to send, whether to hang up now)."""
        b = self.behaviour
        with self.lock:
            now = time.perf_counter()
            if self.first_byte_at is None:
                self.first_byte_at = now
            self.last_byte_at = now
            self.raw += data
            self._conn_bytes += len(data)
            if b.status_after and self._conn_bytes >= b.status_after[0]:
                b.status.update(b.status_after[1])
                b.status_after = None
            events = self.parser.feed(data)
            hang_up = b.close_after is not None and self._conn_bytes >= b.close_after
            if hang_up or b.silent or not events or self.parser.pending:
                return b"", hang_up
            last = events[-1]
            if last[0] != "status":
                return b"", False
            return b.status.get(last[1], b""), False

    def start(self) -> EscposReceiver:
        self._thread = threading.Thread(target=self._run, name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _run(self) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        raise NotImplementedError


class TcpReceiver(EscposReceiver):
    """Listens on 127.0.0.1 (a free port); serves one connection at a time, like a printer."""

    def __init__(self, behaviour: Behaviour | None = None, rcvbuf: int | None = None) -> None:
        super().__init__(behaviour)
        self._server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if rcvbuf:  # a small window makes "stopped reading" reach the sender quickly
            self._server.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self._server.bind(("127.0.0.1", 0))
        self._server.listen(4)
        self._server.settimeout(0.02)
        self.port = self._server.getsockname()[1]
        self.uri = f"socket://127.0.0.1:{self.port}"
        self._drop = threading.Event()

    def hang_up(self) -> None:
        """Close the current connection (as a printer switched off and on would)."""
        self._drop.set()
        while self._drop.is_set() and self._thread is not None and self._thread.is_alive():
            time.sleep(0.005)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._drop.clear()  # nothing to hang up between connections
            try:
                conn, _ = self._server.accept()
            except (TimeoutError, OSError):
                continue
            with conn:
                self._serve(conn)

    def _serve(self, conn: socket.socket) -> None:
        self._new_connection()
        conn.settimeout(0.02)
        while not self._stop.is_set():
            if self._drop.is_set():
                self._drop.clear()
                return
            if self._stalled():
                time.sleep(0.01)
                continue
            room = self._room()
            try:
                data = conn.recv(65536 if room is None else max(1, min(room, 65536)))
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            reply, hang_up = self._received(data)
            if hang_up:
                return
            if reply:
                try:
                    conn.sendall(reply)
                except OSError:
                    return

    def _close(self) -> None:
        self._server.close()


class PtyReceiver(EscposReceiver):
    """A printer at the other end of a pseudo-terminal; the driver opens ``path``.

    ``line_baudrate`` paces reading as a real line would (10 bits a byte); without it a pty
    moves data as fast as the processes do, whatever baud rate the driver sets.
    """

    def __init__(
        self,
        behaviour: Behaviour | None = None,
        baudrate: int = 115200,
        line_baudrate: int | None = None,
    ) -> None:
        super().__init__(behaviour)
        self._master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no newline translation
        self.path = os.ttyname(self._slave)
        self.uri = f"serial://{self.path}?baudrate={baudrate}"
        self.line_baudrate = line_baudrate

    def hang_up(self) -> None:
        """Close the master side: the driver's next write fails with EIO."""
        with self.lock:
            if self._master is not None:
                os.close(self._master)
                self._master = None

    def _run(self) -> None:
        self._new_connection()
        while not self._stop.is_set() and self._master is not None:
            if self._stalled():
                time.sleep(0.01)
                continue
            try:
                ready, _, _ = select.select([self._master], [], [], 0.02)
                if not ready:
                    continue
                size = 65536
                if self.line_baudrate:
                    size = max(1, self.line_baudrate // 10 // 100)  # 10 ms of line time
                room = self._room()
                data = os.read(self._master, size if room is None else max(1, min(room, size)))
            except (OSError, TypeError, ValueError):
                time.sleep(0.01)  # EIO while no one has the slave open
                continue
            if self.line_baudrate:
                time.sleep(len(data) * 10 / self.line_baudrate)
            reply, hang_up = self._received(data)
            if hang_up:
                self.hang_up()
                return
            if reply:
                try:
                    os.write(self._master, reply)
                except OSError:
                    pass

    def _close(self) -> None:
        self.hang_up()
        os.close(self._slave)
