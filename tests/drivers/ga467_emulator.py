"""A GA 467 ID card reader emulated on a pseudo-terminal, with faults tests switch on.

The driver opens ``link``, a symlink to the pty's slave side; "replugging" makes a new pty
and moves the link, as udev would move /dev/ttyUSB0. Answers go out at the configured baud
rate (``pace``), so timings resemble a real serial line. All fd work happens on the
emulator's own thread; tests only change plain state (under a lock) or queue controls.
"""

from __future__ import annotations

import os
import queue
import select
import threading
import time
import tty
from pathlib import Path

from drivers.ga467.frames import (
    FIND_CARD,
    PHOTO_SIZE,
    PREAMBLE,
    READ_TEXT_PHOTO,
    RESET_SAM,
    SAM_ID,
    SAM_STATUS,
    SELECT_CARD,
    TEXT_SIZE,
    FrameDecoder,
    FrameError,
    Request,
    encode_identity_text,
    encode_response,
)

SAMPLE_CARD = {
    "name": "欧阳建国",
    "gender": "male",
    "nation_code": "01",
    "birth_date": "19550312",
    "address": "浙江省杭州市西湖区文三路一百号3幢2单元501室",
    "id_number": "330106195503120016",
    "issuing_authority": "杭州市公安局西湖分局",
    "valid_from": "20150312",
    "valid_to": "长期",
}

# Garbage with near-preambles in it but never the whole preamble.
GARBAGE = b"\x00\xff\x13\xaa\xaa\x96\x69\xaa\xaa\xaa\x96\x00\x55\xaa"
FAULTS = ("bad_checksum", "garbage_before", "partial_stall", "oversized_length", "silent",
          "pull_card", "pull_card_mid_frame", "wrong_sizes", "noise_flood")


class Ga467Emulator:
    """Answers GA 467 commands on a pty. ``start()`` before use, ``stop()`` after."""

    def __init__(self, link: Path, baudrate: int = 115200, pace: bool = True):
        self.link = Path(link)
        self.baudrate = baudrate
        self.pace = pace
        self.processing_s: dict[tuple[int, int], float] = {}  # the reader's own time per answer
        self.silent = False  # answer nothing at all
        self.sam_fault: int | None = None  # SW3 answered to "SAM status"
        self.halt_after_read = False  # a read card stays unfindable until taken away
        self.log: list[tuple[float, int, int]] = []  # (monotonic time, CMD, PARA) received
        self._lock = threading.Lock()
        self._card: dict | None = None
        self._halted = False
        self._faults: dict[tuple[int, int], list[str | int]] = {}
        self._controls: queue.Queue = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        self._master: int | None = None
        self._slave: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ga467-emulator", daemon=True)

    # -- test controls -----------------------------------------------------------------------
    def start(self) -> Ga467Emulator:
        self._plug()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        self._thread.join(5)
        self._unplug()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def place_card(self, **fields: str) -> None:
        with self._lock:
            self._card = {**SAMPLE_CARD, **fields}
            self._halted = False

    def remove_card(self) -> None:
        with self._lock:
            self._card = None
            self._halted = False

    @property
    def card_present(self) -> bool:
        with self._lock:
            return self._card is not None

    def inject(self, command: tuple[int, int], fault: str | int, times: int = 1) -> None:
        """Spoil the next ``times`` answers to ``command``: a name from FAULTS, or an SW3."""
        if isinstance(fault, str) and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        with self._lock:
            self._faults.setdefault(command, []).extend([fault] * times)

    def commands(self, command: tuple[int, int] | None = None) -> list[tuple[int, int]]:
        with self._lock:
            return [(c, p) for _, c, p in self.log if command in (None, (c, p))]

    def forget_log(self) -> None:
        """Drop the command log (it grows by four polls a second)."""
        with self._lock:
            self.log.clear()

    def unplug(self) -> None:
        self._control("unplug")

    def replug(self) -> None:
        self._control("replug")

    def _control(self, what: str) -> None:
        done = threading.Event()
        self._controls.put((what, done))
        os.write(self._wake_w, b"x")
        if not done.wait(5):
            raise TimeoutError(f"emulator did not {what}")

    # -- the pty -----------------------------------------------------------------------------
    def _plug(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing until the driver configures it
        self._master, self._slave = master, slave
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(slave))
        os.replace(tmp, self.link)

    def _unplug(self) -> None:
        self.link.unlink(missing_ok=True)
        for fd in (self._master, self._slave):
            if fd is not None:
                os.close(fd)
        self._master = self._slave = None

    def _run(self) -> None:
        decoder = FrameDecoder(min_length=3)
        while not self._stop.is_set():
            fds = [self._wake_r] + ([self._master] if self._master is not None else [])
            ready, _, _ = select.select(fds, [], [], 0.5)
            if self._wake_r in ready:
                os.read(self._wake_r, 64)
                self._run_controls(decoder)
                continue
            if self._master is None or self._master not in ready:
                continue
            try:
                data = os.read(self._master, 4096)
            except OSError:  # no slave side open right now
                time.sleep(0.01)
                continue
            for item in decoder.feed(data):
                try:
                    self._answer(item)
                except OSError:  # the driver went away mid-answer
                    pass

    def _run_controls(self, decoder: FrameDecoder) -> None:
        while True:
            try:
                what, done = self._controls.get_nowait()
            except queue.Empty:
                return
            if what in ("unplug", "replug"):
                self._unplug()
                decoder.reset()
            if what == "replug":
                self._plug()
            done.set()

    # -- answers -----------------------------------------------------------------------------
    def _answer(self, item: bytes | FrameError) -> None:
        if isinstance(item, FrameError):
            self._send(encode_response(0x10 if item.kind == "checksum" else 0x11))
            return
        request = Request.from_payload(item)
        command = (request.cmd, request.para)
        with self._lock:
            self.log.append((time.monotonic(), *command))
            pending = self._faults.get(command)
            fault = pending.pop(0) if pending else None
            if self.silent:
                return
            frame = self._normal_answer(command)
        if delay := self.processing_s.get(command):
            time.sleep(delay)
        if isinstance(fault, int):
            self._send(encode_response(fault))
        elif fault in ("silent", "pull_card"):
            if fault == "pull_card":
                self.remove_card()
                self._send(self._no_card_answer(command))
        elif fault == "bad_checksum":
            self._send(frame[:-1] + bytes([frame[-1] ^ 0x5A]))
        elif fault == "garbage_before":
            self._send(GARBAGE + frame)
        elif fault in ("partial_stall", "pull_card_mid_frame"):
            self._send(frame[:len(frame) // 2])
            if fault == "pull_card_mid_frame":
                self.remove_card()
        elif fault == "noise_flood":  # a line full of junk, no frame in it
            self._send(GARBAGE * 600)
        elif fault == "wrong_sizes":  # a valid frame whose text length is not 256
            self._send(encode_response(0x90, frame[10:12] + b"\x00\x00" + frame[14:-1]))
        elif fault == "oversized_length":
            self._send(PREAMBLE + b"\xff\xff" + bytes(range(64)))
        else:
            self._send(frame)

    def _normal_answer(self, command: tuple[int, int]) -> bytes:
        if command == SAM_STATUS:
            return encode_response(0x90 if self.sam_fault is None else self.sam_fault)
        if command == RESET_SAM:
            return encode_response(0x90)
        if command == SAM_ID:
            return encode_response(0x90, bytes(range(16)))
        card = self._card if not self._halted else None
        if card is None:
            return self._no_card_answer(command)
        if command == FIND_CARD:
            return encode_response(0x9F, bytes(4))
        if command == SELECT_CARD:
            return encode_response(0x90, bytes(8))
        if command == READ_TEXT_PHOTO:
            self._halted = self.halt_after_read
            text = encode_identity_text(card)
            photo = b"WLf" + bytes(PHOTO_SIZE - 3)  # stands in for the WLT image
            sizes = TEXT_SIZE.to_bytes(2, "big") + PHOTO_SIZE.to_bytes(2, "big")
            return encode_response(0x90, sizes + text + photo)
        return encode_response(0x21)

    @staticmethod
    def _no_card_answer(command: tuple[int, int]) -> bytes:
        return encode_response({FIND_CARD: 0x80, SELECT_CARD: 0x81}.get(command, 0x41))

    def _send(self, data: bytes) -> None:
        if self._master is None:
            return
        chunk = 64
        for i in range(0, len(data), chunk):
            piece = data[i:i + chunk]
            os.write(self._master, piece)
            if self.pace:
                time.sleep(len(piece) * 10 / self.baudrate)
