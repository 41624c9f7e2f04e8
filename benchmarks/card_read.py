"""Card arrival to identity in the session, GA 467 and PC/SC (issue #4).

    python benchmarks/card_read.py [--reads 20] [--readers ga467,pcsc] [--seed 4] [--json]

Aims: from the card's arrival to the identity reaching the session in under 1.5 s for a GA 467
reader at 115200 baud and under 1 s for PC/SC (median of 20), with the share spent polling.

In the real app: ``kiosk.app.create_window`` on a configuration whose card reader is

* GA 467: ``serial://LINK?protocol=ga467&baudrate=115200``, LINK a symlink to a pty where
  ``tests/drivers/ga467_emulator.Ga467Emulator`` answers at the pace of a 115200-baud line
  (as in ``tests/drivers/test_ga467_visit.py``);
* PC/SC: ``pcsc:?reader=<vpcd slot 0>`` (profile ``uid``), a real pcscd with vsmartcard's vpcd
  driver started by ``tests/drivers/pcsc_rig.PcscdRig``, the card a
  ``tests/drivers/vpcd_card.VpcdCard`` (inserting = connecting to vpcd).

Each read: home, then the housing-fund balance service (it requires identity) by touches, so
the identify screen is up; the previous card is gone and the reader has noticed. After a random
pause (uniform, 0 to 0.5 s; seeded) the card is placed (``emulator.place_card()`` /
``card.insert()``), and the clock (``time.monotonic``, the emulators' clock) runs until
``window.ctl.session.visit.identity`` is set, the GUI thread turning ``processEvents`` with
1 ms sleeps. One read before the timed ones is not counted.

Polling: GA 467, from the placement to the reader's "find card" that saw the card (the last
one the emulator received before "select card"); the rest splits into select, read command,
and the read answer (1,295 bytes on the line), decoding and the signal to the GUI. PC/SC, from
the insertion to pcscd's first message to the card (vpcd is polled by pcscd); the rest is
pcscd's power-up and status change, the driver's SCardConnect and its APDU, and the signal.

Side by side, same placements: the driver alone, ``Ga467Reader`` / ``PcscReader`` on a second
emulator (PC/SC: vpcd slot 1), ``wait_event(0.2)`` in a loop on the benchmark's thread (what
the app's reader thread calls) until the READ event; app and driver reads alternate.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import platform
import random
import statistics
import sys
import tempfile
import textwrap
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from urllib.parse import quote

from bench_common import cpu_model, pause, spin

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "tests" / "drivers"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

AIMS_S = {"ga467": 1.5, "pcsc": 1.0}
BAUD = 115200
MAX_PAUSE_S = 0.5
STEP_S = 0.2  # what kiosk.shell.workers.CardReaderThread passes to wait_event


def _stats(values: list[float]) -> dict:
    s = sorted(values)
    return {"median": statistics.median(s), "min": s[0], "max": s[-1],
            "p95": s[min(len(s) - 1, round(0.95 * (len(s) - 1)))], "n": len(s)}


# --- the window -----------------------------------------------------------------------------

class Kiosk:
    def __init__(self, app, folder: Path, reader_uri: str, name: str):
        from PySide6.QtWidgets import QAbstractButton

        from kiosk.app import create_window

        self.app = app
        self._button = QAbstractButton
        cfg = folder / f"kiosk-{name}.toml"
        cfg.write_text(textwrap.dedent(f"""\
            [kiosk]
            data_dir = "{folder / ('data-' + name)}"
            [devices]
            card_reader = "{reader_uri}"
            printer = "sim:"
            """), encoding="utf-8")
        self.window = create_window(str(cfg))
        self.window.show()
        ctl = self.window.ctl
        spin(app, lambda: getattr(ctl.device_status.get("card_reader"), "state", "") == "online",
             15, "the card reader online")
        pause(app, 1.2)  # first frame, the queue opened after it

    def _visible(self, name: str):
        return [b for b in self.window.findChildren(self._button, name) if b.isVisible()]

    def touch(self, name: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        spin(self.app, lambda: bool(self._visible(name)), 5, name)
        QTest.mouseClick(self._visible(name)[0], Qt.MouseButton.LeftButton)

    def to_identify(self) -> None:
        from kiosk.visit.session import Step

        self.window.ctl.go_home()
        self.touch("category:housing-fund")
        self.touch("tile:hpf-balance")
        spin(self.app, lambda: self.window.ctl.session.step == Step.IDENTIFY, 5, "identify")

    def identity_set(self) -> bool:
        visit = self.window.ctl.session.visit
        return visit is not None and visit.identity is not None

    def close(self) -> None:
        from PySide6.QtCore import QEvent

        self.window.close()
        # shutdown() leaves the one-minute printer poll running; delete the window with it.
        self.window.deleteLater()
        self.app.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def driver_read(reader, place, delay: float, kind_read) -> tuple[float, float]:
    """``wait_event(STEP_S)`` in a loop; ``place`` runs on a timer thread after ``delay``.

    Returns the times of the placement and of the READ event."""
    placed: list[float] = []

    def go() -> None:
        placed.append(time.monotonic())
        place()

    timer = threading.Timer(delay, go)
    timer.start()
    end = time.monotonic() + delay + 10
    while time.monotonic() < end:
        event = reader.wait_event(STEP_S)
        if event is not None and event.kind == kind_read:
            got = time.monotonic()
            timer.join()
            return placed[0], got
        if event is not None and event.kind != "removed":
            raise RuntimeError(f"driver alone: unexpected event {event.kind}")
    raise TimeoutError("driver alone: no READ event")


def wait_removed(reader, kind_removed, timeout: float = 5.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        event = reader.wait_event(STEP_S)
        if event is not None and event.kind == kind_removed:
            return
    raise TimeoutError("driver alone: no REMOVED event")


# --- GA 467 -----------------------------------------------------------------------------------

def ga467_split(emulator, placed: float, identity_at: float) -> dict:
    from drivers.ga467.frames import FIND_CARD, READ_TEXT_PHOTO, SELECT_CARD

    log = [(t, (c, p)) for t, c, p in list(emulator.log) if t >= placed - 1.0]
    select_at = next(t for t, cmd in log if cmd == SELECT_CARD and t >= placed)
    find_at = max(t for t, cmd in log if cmd == FIND_CARD and t <= select_at)
    read_at = next(t for t, cmd in log if cmd == READ_TEXT_PHOTO and t >= select_at)
    return {"total": identity_at - placed, "poll": find_at - placed,
            "select": select_at - find_at, "read_cmd": read_at - select_at,
            "answer_to_session": identity_at - read_at, "rest": identity_at - find_at}


def polls_since(emulator, since: float) -> int:
    from drivers.ga467.frames import FIND_CARD

    return sum(1 for t, c, p in list(emulator.log) if t > since and (c, p) == FIND_CARD)


def removal_noticed(emulator, since: float, polls: int) -> bool:
    return polls_since(emulator, since) >= polls


def run_ga467(app, folder: Path, reads: int, rng: random.Random) -> dict:
    from ga467_emulator import Ga467Emulator

    from drivers.base import CardEventKind
    from drivers.ga467.reader import Ga467Reader

    app_emu = Ga467Emulator(folder / "ttyGA-app", baudrate=BAUD).start()
    drv_emu = Ga467Emulator(folder / "ttyGA-drv", baudrate=BAUD).start()
    kiosk = reader = None
    app_rows, drv_rows = [], []
    try:
        kiosk = Kiosk(app, folder, f"serial://{app_emu.link}?protocol=ga467&baudrate={BAUD}",
                      "ga467")
        reader = Ga467Reader(f"serial://{drv_emu.link}?protocol=ga467&baudrate={BAUD}")
        reader.open()
        removed_at = time.monotonic()
        for i in range(reads + 1):
            delay = rng.uniform(0, MAX_PAUSE_S)
            # The app: identify screen, the last card's removal noticed (2 empty polls).
            kiosk.to_identify()
            noticed = functools.partial(removal_noticed, app_emu, removed_at,
                                        Ga467Reader.REMOVAL_POLLS + 1)
            spin(app, noticed, 5, "the removal noticed")
            pause(app, delay)
            placed = time.monotonic()
            app_emu.place_card()
            spin(app, kiosk.identity_set, 10, "the identity in the session")
            row = ga467_split(app_emu, placed, time.monotonic())
            app_emu.remove_card()
            removed_at = time.monotonic()
            # The driver alone, same pause.
            drow = ga467_split(drv_emu, *driver_read(reader, drv_emu.place_card, delay,
                                                     CardEventKind.READ))
            drv_emu.remove_card()
            wait_removed(reader, CardEventKind.REMOVED)
            if i:
                app_rows.append(row)
                drv_rows.append(drow)
    finally:
        if reader is not None:
            reader.close()
        if kiosk is not None:
            kiosk.close()
        app_emu.stop()
        drv_emu.stop()
    return {"app": app_rows, "driver": drv_rows,
            "poll_interval_s": Ga467Reader.POLL_INTERVAL_S}


# --- PC/SC ----------------------------------------------------------------------------------

def pcsc_unusable() -> str | None:
    """Why PC/SC cannot be measured here, or None."""
    try:
        import pcsc_rig  # noqa: F401
        import vpcd_card  # noqa: F401

        import drivers.pcsc.reader  # noqa: F401
    except Exception as exc:  # noqa: BLE001 - any import failure means "not usable"
        return f"PC/SC modules not importable ({type(exc).__name__}: {exc})"
    from pcsc_rig import VPCD_LIB, pcscd_path, pcscd_socket_listening, running_pcscd_pids

    if pcscd_path() is None:
        return "pcscd is not installed"
    if not VPCD_LIB.exists():
        return f"{VPCD_LIB} is missing (vsmartcard-vpcd)"
    if running_pcscd_pids() or pcscd_socket_listening():
        return "a pcscd is already running (only one per machine; tests may be using it)"
    return None


def _timed_card():
    from vpcd_card import EmulatedCard

    @dataclass
    class TimedCard(EmulatedCard):
        apdu_at: list = field(default_factory=list)

        def respond(self, apdu: bytes) -> bytes:
            self.apdu_at.append(time.monotonic())
            return super().respond(apdu)

    return TimedCard()


def pcsc_split(card, identity_at: float) -> dict:
    placed, first_poll = card.inserted_at, card.first_poll_at
    apdu = card.card.apdu_at[-1]
    return {"total": identity_at - placed, "poll": first_poll - placed,
            "to_apdu": apdu - first_poll, "apdu_to_session": identity_at - apdu,
            "rest": identity_at - first_poll}


def run_pcsc(app, folder: Path, reads: int, rng: random.Random) -> dict:
    from pcsc_rig import READER_0, READER_1, PcscdRig, pcscd_path, wait_readers

    from drivers.base import CardEventKind
    from drivers.pcsc.reader import PcscReader

    rig = PcscdRig(folder / "pcscd", pcscd_path())
    try:
        rig.start()
    except BaseException as exc:  # pytest.fail raises an OutcomeException
        raise RuntimeError(f"pcscd did not start: {exc}") from None
    kiosk = reader = None
    app_rows, drv_rows = [], []
    try:
        app_card, drv_card = rig.card(0, _timed_card()), rig.card(1, _timed_card())
        kiosk = Kiosk(app, folder, f"pcsc:?reader={quote(READER_0)}", "pcsc")
        reader = PcscReader(f"pcsc:?reader={quote(READER_1)}")
        reader.open()
        for i in range(reads + 1):
            delay = rng.uniform(0, MAX_PAUSE_S)
            kiosk.to_identify()
            pause(app, delay)
            app_card.insert()
            spin(app, kiosk.identity_set, 10, "the identity in the session")
            row = pcsc_split(app_card, time.monotonic())
            app_card.remove()
            _, got = driver_read(reader, drv_card.insert, delay, CardEventKind.READ)
            drow = pcsc_split(drv_card, got)
            drv_card.remove()
            wait_removed(reader, CardEventKind.REMOVED)
            wait_readers([READER_0], present=False)
            pause(app, 0.05)  # the app's REMOVED event (ignored off the identify screen)
            if i:
                app_rows.append(row)
                drv_rows.append(drow)
    finally:
        if reader is not None:
            reader.close()
        if kiosk is not None:
            kiosk.close()
        with contextlib.suppress(BaseException):
            rig.remove_all_cards()
        rig.stop()
    return {"app": app_rows, "driver": drv_rows}


# --- report -----------------------------------------------------------------------------------

def machine_line() -> str:
    cpu = " ".join(cpu_model().split()[:2])
    from PySide6 import __version__ as pyside

    versions = [f"PySide6 {pyside}", f"pyserial {metadata.version('pyserial')}"]
    with contextlib.suppress(metadata.PackageNotFoundError):
        versions.append(f"pyscard {metadata.version('pyscard')}")
    return f"{os.cpu_count()} x {cpu}, Python {platform.python_version()}, " + ", ".join(versions)


def summarise(raw: dict) -> dict:
    out = {}
    for name, r in raw.items():
        if "skipped" in r:
            out[name] = {"skipped": r["skipped"]}
            continue
        out[name] = {who: {k: _stats([row[k] for row in r[who]]) for k in r[who][0]}
                     for who in ("app", "driver")}
        for who in ("app", "driver"):
            rows = r[who]
            out[name][who]["poll_share"] = (sum(x["poll"] for x in rows)
                                            / sum(x["total"] for x in rows))
    return out


def print_table(res: dict, reads: int) -> None:
    ms = 1000.0
    print(f"Card arrival to identity in the session (issue #4): {reads} reads each, "
          f"random placement 0-{MAX_PAUSE_S:g} s after the identify screen")
    print(res["machine"])
    print()
    head = (f"{'arrival -> identity':<38}{'median':>9}{'min':>9}{'p95':>9}{'max':>9}"
            f"{'polling':>9}{'share':>7}{'rest':>9}  aim")
    print(head)
    print("-" * len(head) + "----------")
    for name, label in (("ga467", "GA 467"), ("pcsc", "PC/SC")):
        s = res["summary"].get(name)
        if s is None:
            continue
        if "skipped" in s:
            print(f"{label + ': not measured':<38}  {s['skipped']}")
            continue
        for who, text in (("app", "app (session)"), ("driver", "driver alone (event)")):
            st = s[who]
            t = st["total"]
            line = (f"{label + ', ' + text:<38}" + "".join(
                f"{t[k] * ms:>6.0f} ms" for k in ("median", "min", "p95", "max"))
                + f"{st['poll']['median'] * ms:>6.0f} ms{st['poll_share'] * 100:>6.0f}%"
                + f"{st['rest']['median'] * ms:>6.0f} ms")
            if who == "app":
                aim = AIMS_S[name]
                ok = "PASS" if t["median"] < aim else "MISS"
                line += f"  < {aim * ms:.0f} ms  {ok}"
            print(line)
    print()
    for name in ("ga467", "pcsc"):
        s = res["summary"].get(name)
        if not s or "skipped" in s:
            continue
        for who in ("app", "driver"):
            st = s[who]
            if name == "ga467":
                print(f"GA 467 {who}, median ms: polling {st['poll']['median'] * ms:.0f}, "
                      f"select {st['select']['median'] * ms:.0f}, read command "
                      f"{st['read_cmd']['median'] * ms:.0f}, read answer to "
                      f"{'session' if who == 'app' else 'event'} "
                      f"{st['answer_to_session']['median'] * ms:.0f}")
            else:
                print(f"PC/SC {who}, median ms: polling (to pcscd's first message) "
                      f"{st['poll']['median'] * ms:.0f}, to the APDU "
                      f"{st['to_apdu']['median'] * ms:.0f}, APDU to "
                      f"{'session' if who == 'app' else 'event'} "
                      f"{st['apdu_to_session']['median'] * ms:.0f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--readers", default="ga467,pcsc")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    raw: dict = {}
    with tempfile.TemporaryDirectory(prefix="card-bench-") as tmp:
        for name in args.readers.split(","):
            rng = random.Random(f"{args.seed}-{name}")
            if name == "ga467":
                raw[name] = run_ga467(app, Path(tmp), args.reads, rng)
            elif name == "pcsc":
                why = pcsc_unusable()
                if why:
                    raw[name] = {"skipped": why}
                    continue
                try:
                    raw[name] = run_pcsc(app, Path(tmp), args.reads, rng)
                except (RuntimeError, TimeoutError) as exc:
                    raw[name] = {"skipped": f"failed: {exc}"}
            else:
                parser.error(f"unknown reader {name!r}")
    res = {"machine": machine_line(), "summary": summarise(raw)}
    if args.json:
        res["raw"] = raw
        print(json.dumps(res, indent=1))
    else:
        print_table(res, args.reads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
