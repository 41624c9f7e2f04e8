"""A real pcscd with vsmartcard's vpcd virtual reader, for the PC/SC driver's tests.

``PcscdRig`` writes a reader configuration directory of its own (vpcd listening on a free
port pair: slot 0 on PORT, slot 1 on PORT+1), runs ``pcscd -f -c DIR`` (no ``--auto-exit``),
waits until its readers are listed, and stops it again (SIGTERM, wait, SIGKILL if need be).
Only one pcscd can run per machine (it keeps its socket and pid file in /run/pcscd), so a
pcscd already running fails the tests with a message saying so; only a machine without pcscd
at all skips them.

A test module makes its fixtures from ``module_rig`` and ``clean_rig`` (see
test_pcsc_reader.py), so that no conftest is needed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from vpcd_card import EmulatedCard, VpcdCard

VPCD_LIB = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
FRIENDLY_NAME = "Kiosk Test VPCD"
READER_0 = f"{FRIENDLY_NAME} 00 00"  # pcscd appends " <reader#> <slot#>" to the name
READER_1 = f"{FRIENDLY_NAME} 00 01"
START_TIMEOUT_S = 10.0
PCSCD_SOCKET = "/run/pcscd/pcscd.comm"  # pcsc-lite's ipcdir, as ``pcscd --version`` shows


def pcscd_path() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if os.access(p, os.X_OK)), None)


def running_pcscd_pids() -> list[int]:
    """Live pcscd processes (zombies, which a container's init may never reap, don't count)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.find("(") + 1 : stat.rfind(")")]
        state = stat[stat.rfind(")") + 2 :].split(" ", 1)[0]
        if name == "pcscd" and state not in ("Z", "X"):
            pids.append(int(entry.name))
    return pids


def pcscd_socket_listening(path: str = PCSCD_SOCKET) -> bool:
    """Whether something (a pcscd, or systemd's pcscd.socket) listens on pcscd's socket.

    Read from /proc/net/unix rather than by connecting, which would start a socket-activated
    system pcscd.
    """
    try:
        lines = Path("/proc/net/unix").read_text().splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) >= 8 and fields[7] == path and int(fields[3], 16) & 0x10000:
            return True
    return False


def free_port_pair() -> int:
    """A port P with P and P+1 both free on this machine (vpcd binds every address)."""
    for _ in range(50):
        with socket.socket() as a:
            a.bind(("0.0.0.0", 0))
            port = a.getsockname()[1]
            if port >= 65535:
                continue
            with socket.socket() as b:
                try:
                    b.bind(("0.0.0.0", port + 1))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free pair of TCP ports")


def list_readers() -> list[str] | None:
    """The readers pcscd lists now, or None when pcscd does not answer."""
    from smartcard import scard

    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return None
    try:
        hresult, readers = scard.SCardListReaders(ctx, [])
        return list(readers) if hresult == scard.SCARD_S_SUCCESS else []
    finally:
        scard.SCardReleaseContext(ctx)


def wait_readers(readers: list[str], *, present: bool, timeout: float = 3.0) -> None:
    """Block until pcscd reports a card in (or no card in) each of ``readers``.

    pcscd notices a vpcd card arriving or leaving at its next poll, within about 400 ms.
    """
    from smartcard import scard

    hresult, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hresult != scard.SCARD_S_SUCCESS:
        return
    flag = scard.SCARD_STATE_PRESENT if present else scard.SCARD_STATE_EMPTY
    try:
        deadline = time.monotonic() + timeout
        states = [(r, scard.SCARD_STATE_UNAWARE) for r in readers]
        while time.monotonic() < deadline:
            ms = max(0, int((deadline - time.monotonic()) * 1000))
            hresult, new = scard.SCardGetStatusChange(ctx, ms, states)
            if hresult != scard.SCARD_S_SUCCESS:
                break
            if all(s & flag for _, s, _ in new):
                return
            states = [(r, s & ~scard.SCARD_STATE_CHANGED) for r, s, _ in new]
        what = "a card" if present else "no card"
        raise AssertionError(f"pcscd does not see {what} in {readers} after {timeout} s")
    finally:
        scard.SCardReleaseContext(ctx)


class PcscdRig:
    def __init__(self, workdir: Path, pcscd: str):
        self.pcscd = pcscd
        self.port = free_port_pair()
        self.conf_dir = workdir / "reader.conf.d"
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "pcscd.log"
        self.proc: subprocess.Popen | None = None
        self._cards: list[VpcdCard] = []
        (self.conf_dir / "vpcd").write_text(
            f'FRIENDLYNAME "{FRIENDLY_NAME}"\n'
            f"DEVICENAME   /dev/null:{self.port}\n"
            f"LIBPATH      {VPCD_LIB}\n"
            f"CHANNELID    {self.port}\n"
        )

    @property
    def command(self) -> list[str]:
        return [self.pcscd, "--foreground", "--config", str(self.conf_dir)]

    def start(self) -> None:
        assert self.proc is None, "pcscd already started"
        others = running_pcscd_pids()
        if others:
            pytest.fail(f"a pcscd is already running (pid {', '.join(map(str, others))}); only "
                        "one can run per machine and these tests start their own: stop it "
                        "(e.g. systemctl stop pcscd.socket pcscd.service) and run them again",
                        pytrace=False)
        if pcscd_socket_listening():
            pytest.fail(f"something already listens on {PCSCD_SOCKET} (systemd's pcscd.socket?): "
                        "stop it (systemctl stop pcscd.socket) and run these tests again",
                        pytrace=False)
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                pytest.fail(f"pcscd exited at start-up:\n{self.log_tail()}", pytrace=False)
            readers = list_readers()
            if readers is not None and READER_0 in readers and READER_1 in readers:
                return
            time.sleep(0.05)
        self.stop()
        pytest.fail(f"pcscd did not list {READER_0!r} within {START_TIMEOUT_S:.0f} s:\n"
                    f"{self.log_tail()}", pytrace=False)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop pcscd (SIGTERM, or ``sig``) and wait for it; SIGKILL if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        for card in self._cards:  # pcscd took the other end of their connections with it
            card.wait_removed_by_peer(timeout=2)

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def card(self, slot: int = 0, card: EmulatedCard | None = None) -> VpcdCard:
        """An emulated card for reader slot 0 or 1, not inserted yet."""
        vcard = VpcdCard(self.port + slot, card)
        self._cards.append(vcard)
        return vcard

    def remove_all_cards(self) -> None:
        """Remove every card and wait until pcscd has seen both slots empty."""
        for card in self._cards:
            card.remove()
        self._cards.clear()
        if self.running:
            wait_readers([READER_0, READER_1], present=False)

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no pcscd log)"
        return "\n".join(text.splitlines()[-lines:])


def module_rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PcscdRig]:
    """Body of a module-scoped fixture: one pcscd for the module, stopped at its end."""
    binary = pcscd_path()
    if binary is None:
        pytest.skip("pcscd is not installed")
    if not VPCD_LIB.exists():
        pytest.fail(f"{VPCD_LIB} is missing: install vsmartcard-vpcd", pytrace=False)
    rig = PcscdRig(tmp_path_factory.mktemp("pcscd"), binary)
    rig.start()
    try:
        yield rig
    finally:
        rig.remove_all_cards()
        rig.stop()


def clean_rig(rig: PcscdRig) -> Iterator[PcscdRig]:
    """Body of a per-test fixture: pcscd running at the start, every card removed at the end.

    A test may stop, start or restart ``rig`` (``rig.restart()``) as it likes.
    """
    if not rig.running:
        rig.proc = None
        rig.start()
    try:
        yield rig
    finally:
        rig.remove_all_cards()
