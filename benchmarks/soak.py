"""The soak: thousands of whole visits in one kiosk process (issue #17).

    python benchmarks/soak.py [--visits 10000] [--every 1000] [--json FILE] [--trace] [--trim]

One ``kiosk.app.create_window`` window on real drivers and real peers: the card reader is the
GA 467 serial driver against ``tests/drivers/ga467_emulator`` on a pty (paced at 115200 baud),
the printer the ESC/POS driver over TCP to ``tests/drivers/escpos_receiver.TcpReceiver``, the
uplink a reference central (``central.server.CentralServer``) on loopback in its own process,
so the figures below are the kiosk's alone. Each visit is touched as a resident would: the
housing-fund category, the balance service, the card placed on the reader, confirm (the
receipt prints), finish back home; the card is taken away on the confirm screen.

Every ``--every`` visits a checkpoint records: RSS (VmRSS), open descriptors (/proc/self/fd),
threads (``threading.active_count()`` and /proc/self/task), live QObjects (each top-level
widget and the QApplication plus ``findChildren(QObject)`` under them: every QObject with a
parent chain to one of them; parentless non-widget QObjects are not seen), the queue's files
(queue.db + -wal) and the p95 of the screen changes of that stretch (click to the stack's new
page); and where the memory is: RSS by kind of mapping (brk heap, anonymous, files) and glibc's
own count (``mallinfo2``: bytes in use, free but kept, mmapped; each arena's share), SQLite's
own bytes (``sqlite_mb``, the page caches among them) and Python's allocated blocks. ``--trim``
calls ``malloc_trim(0)`` after each checkpoint's figures and reports RSS after it too: what it
gives back was free memory glibc kept, not a leak. Every ``PURGE_EVERY`` visits the queue's
retention purge runs with its clock two hours ahead (retention 0), so every row the central
accepted is deleted, as the hourly purge would.

Aims (judged after the first checkpoint): RSS within 10 MB of it, no more descriptors, threads
or QObjects, screen-change p95 within 20 % of the first stretch's, queue files not growing.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import textwrap
import threading
import time
import tracemalloc
from pathlib import Path

from bench_common import central_process, cpu_model

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "tests" / "drivers"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

KIOSK, TOKEN = "SOAK-0001", "soak-token-1234"
PURGE_EVERY = 100
FORGET_EVERY = 20  # the rig drops what it recorded (the receiver keeps each receipt's image)
REMOVAL_POLLS = 2  # "find card" polls answered "no card" before the reader lets it go
POLL_S = 0.05
AIM_RSS_MB, AIM_P95 = 10.0, 0.20


# --- the central, in its own process ----------------------------------------------------------

def central(db_path: Path) -> contextlib.AbstractContextManager[str]:
    return central_process(db_path, {KIOSK: {"token": TOKEN}})


def spin(app, predicate, timeout: float, what: str) -> None:
    """Turn ``app``'s events until ``predicate()`` holds, as ``exec()`` would: including the
    deferred deletes (``processEvents`` alone leaves every ``deleteLater`` undone outside a
    running loop). TimeoutError after ``timeout`` s."""
    from PySide6.QtCore import QEvent

    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        time.sleep(0.001)


# --- measures ---------------------------------------------------------------------------------

def rss_mb() -> float:
    with open("/proc/self/status") as f:
        kb = next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
    return kb / 1024


def live_qobjects(app) -> int:
    from PySide6.QtCore import QObject

    roots = [app, *app.topLevelWidgets()]
    return len({id(o) for r in roots for o in (r, *r.findChildren(QObject))})


def queue_bytes(data: Path) -> int:
    return sum(p.stat().st_size for p in data.glob("queue.db*") if p.is_file())


def p95(values: list[float]) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(0.95 * (len(s) - 1)))]


def rss_split_mb() -> dict:
    """RSS by kind of mapping (/proc/self/smaps): glibc's brk heap, anonymous maps (other malloc
    arenas, mmapped blocks, Python's arenas, thread stacks) and files (libraries, fonts)."""
    kinds = {"rss_brk_mb": 0, "rss_anon_mb": 0, "rss_file_mb": 0}
    kind = "rss_anon_mb"
    with open("/proc/self/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):  # a mapping's first line
                path = head[5] if len(head) > 5 else ""
                kind = ("rss_brk_mb" if path == "[heap]" else
                        "rss_file_mb" if path.startswith("/") else "rss_anon_mb")
            elif head[0] == "Rss:":
                kinds[kind] += int(head[1])
    return {k: round(v / 1024, 1) for k, v in kinds.items()}


def heap_mb() -> dict:
    """glibc's own view (mallinfo2): in use, free but kept in the arenas, mmapped blocks."""
    from native_heap import arenas, mallinfo, sqlite_memory

    info = mallinfo() or {}
    heap = {key: round(info[field] / 2**20, 1) for key, field in (
        ("heap_used_mb", "uordblks"), ("heap_free_mb", "fordblks"), ("heap_mmap_mb", "hblkhd"))
        if field in info}
    # each arena's [held, free] MB: the main one (brk) first, then the threads' (mmapped)
    sqlite = sqlite_memory()  # page caches of the queue's connections, within "in use"
    if sqlite is not None:
        heap["sqlite_mb"] = round(sqlite[0] / 2**20, 2)
    heap["py_blocks"] = sys.getallocatedblocks()  # Python objects' memory blocks
    heap["arenas_mb"] = [[round(a["system"] / 2**20, 1), round(a["free"] / 2**20, 1)]
                         for a in arenas() or []]
    return heap


def checkpoint(app, visits: int, data: Path, resident, started: float, trim: bool) -> dict:
    import gc

    from native_heap import trim as malloc_trim

    gc.collect()
    changes, queue_max = resident.changes, resident.queue_max
    resident.changes, resident.queue_max = [], 0
    rss, heap = round(rss_mb(), 1), {**rss_split_mb(), **heap_mb()}
    if trim:  # the free memory glibc keeps, handed back: what remains is in use
        malloc_trim()
        heap["rss_trimmed_mb"] = round(rss_mb(), 1)
    return {"visits": visits, "rss_mb": rss, **heap,
            "fds": len(os.listdir("/proc/self/fd")),
            "threads": threading.active_count(), "tasks": len(os.listdir("/proc/self/task")),
            "thread_names": sorted(t.name for t in threading.enumerate()),
            "qobjects": live_qobjects(app), "queue_kb": round(queue_bytes(data) / 1024),
            "queue_max_kb": round(queue_max / 1024),
            "p95_ms": round(p95(changes) * 1000, 1),
            "median_ms": round(statistics.median(changes) * 1000, 1),
            "elapsed_s": round(time.monotonic() - started)}


# --- the visit --------------------------------------------------------------------------------

class Resident:
    """Touches the window's widgets by automation name and times the screen changes."""

    def __init__(self, app, window, emulator, receiver):
        self.app, self.window, self.emu, self.receiver = app, window, emulator, receiver
        self.changes: list[float] = []
        self.failed_prints = self.missed_reads = 0
        self.queue_max = 0  # the queue's files, largest seen since the last checkpoint
        self._removed_at = 0.0

    def screen(self) -> str:
        return self.window.stack.currentWidget().objectName()

    def touch(self, name: str, then: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QAbstractButton

        def visible():
            return [b for b in self.window.findChildren(QAbstractButton, name)
                    if b.isVisible() and b.isEnabled()]

        spin(self.app, lambda: bool(visible()), 10, name)
        start = time.perf_counter()
        QTest.mouseClick(visible()[0], Qt.MouseButton.LeftButton)
        spin(self.app, lambda: self.screen() == then, 10, then)
        self.changes.append(time.perf_counter() - start)

    def _removal_noticed(self) -> bool:
        from drivers.ga467.frames import FIND_CARD

        with self.emu._lock:  # the emulator's own lock guards its log
            return sum(1 for t, c, p in self.emu.log
                       if t > self._removed_at and (c, p) == FIND_CARD) >= REMOVAL_POLLS

    def visit(self) -> None:
        ctl = self.window.ctl
        self.touch("category:housing-fund", "screen:services")
        self.touch("tile:hpf-balance", "screen:identify")
        self._read_card()
        self.touch("btn:confirm", "screen:done")
        spin(self.app, lambda: ctl.session.visit.printed is not None, 20, "the receipt")
        self.failed_prints += ctl.session.visit.printed is False
        self.touch("btn:finish", "screen:home")
        self.queue_max = max(self.queue_max, queue_bytes(self.window.config.queue_path.parent))

    def _read_card(self) -> None:
        """Place the card once the reader has seen the last one go; take it away once read.
        A read missing after 20 s (a loaded machine) is counted and the card placed again."""
        for _ in range(3):
            spin(self.app, self._removal_noticed, 20, "the last card's removal noticed")
            self.emu.place_card()
            try:
                spin(self.app, lambda: self.screen() == "screen:confirm", 20, "the card read")
                return
            except TimeoutError:
                self.missed_reads += 1
            finally:
                self.emu.remove_card()
                self._removed_at = time.monotonic()
        raise TimeoutError("the card was not read three times running")

    def forget(self) -> None:
        self.receiver.forget()
        voice = self.window.speaker.voice  # the recording voice ([voice] engine = "sim")
        voice.spoken.clear()
        voice.playbacks.clear()
        self.emu.forget_log()  # the removal's polls are logged after this; see _removal_noticed


def purge(window) -> int:
    """The retention purge as the hourly timer runs it, its clock two hours ahead."""
    return window.queue.purge_personal(0, now=time.time() + 7200)


# --- the run ----------------------------------------------------------------------------------

def write_config(folder: Path, reader: str, printer: str, url: str) -> Path:
    (folder / "token").write_text(TOKEN + "\n")
    cfg = folder / "kiosk.toml"
    cfg.write_text(textwrap.dedent(f"""\
        [kiosk]
        id = "{KIOSK}"
        data_dir = "{folder / 'data'}"
        service_point = "转塘街道便民服务中心"
        [central]
        url = "{url}"
        token_file = "{folder / 'token'}"
        sync_interval_s = 5
        heartbeat_s = 30
        [devices]
        card_reader = "{reader}"
        printer = "{printer}"
        [voice]
        engine = "sim"
        """), encoding="utf-8")
    return cfg


def open_window(app, cfg: Path):
    from kiosk.app import create_window

    window = create_window(str(cfg))
    window.resize(1920, 1080)
    window.show()
    ctl = window.ctl
    spin(app, lambda: window.started, 30, "the first frame")
    spin(app, lambda: getattr(ctl.device_status.get("card_reader"), "state", "") == "online",
         30, "the card reader online")
    window.queue  # noqa: B018 - blocks until the queue is open
    return window


def soak(app, folder: Path, visits: int, every: int, trace: bool, log=print,
         trim: bool = False) -> dict:
    from escpos_receiver import TcpReceiver
    from ga467_emulator import Ga467Emulator

    from drivers.ga467.reader import Ga467Reader

    # Ten thousand visits at the reader's 4 polls a second (a card waits up to a poll to be
    # seen, and two "no card" answers to be gone) take three hours; poll at 20 a second, and
    # answer at the pty's own speed (the 115200-baud pace is card_read.py's business).
    Ga467Reader.POLL_INTERVAL_S = POLL_S
    emulator = Ga467Emulator(folder / "ttyGA", pace=False).start()
    receiver = TcpReceiver().start()
    rows, top = [], []
    try:
        with central(folder / "central.db") as url:
            reader = f"serial://{emulator.link}?protocol=ga467&baudrate=115200"
            window = open_window(app, write_config(folder, reader, receiver.uri, url))
            resident = Resident(app, window, emulator, receiver)
            started, snapshot = time.monotonic(), None
            for n in range(1, visits + 1):
                resident.visit()
                if n % FORGET_EVERY == 0:
                    resident.forget()
                if n % PURGE_EVERY == 0:
                    purge(window)
                if n % every == 0:
                    rows.append(checkpoint(app, n, folder / "data", resident, started, trim))
                    log(json.dumps(rows[-1]))
                    if trace:
                        snapshot = trace_diff(snapshot, top)
            sent = window.queue.counts()
            window.close()
            window.deleteLater()
    finally:
        receiver.stop()
        emulator.stop()
    return {"rows": rows, "failed_prints": resident.failed_prints, "queue": sent,
            "missed_reads": resident.missed_reads,
            "tracemalloc_top": top}


def trace_diff(previous, top: list) -> object:
    snapshot = tracemalloc.take_snapshot()
    if previous is not None:
        stats = snapshot.compare_to(previous, "lineno")[:8]
        top.append([str(s) for s in stats])
        for s in stats:
            print("   ", s, file=sys.stderr)
    return snapshot


def judge(rows: list[dict]) -> dict:
    """Each aim against the first checkpoint: True when met."""
    first, later = rows[0], rows[1:]
    if not later:
        return {}
    return {
        "rss": max(r["rss_mb"] for r in later) - first["rss_mb"] < AIM_RSS_MB,
        "fds": all(r["fds"] <= first["fds"] for r in later),
        "threads": all(r["threads"] <= first["threads"] and r["tasks"] <= first["tasks"]
                       for r in later),
        "qobjects": all(r["qobjects"] <= first["qobjects"] for r in later),
        "p95": all(r["p95_ms"] <= first["p95_ms"] * (1 + AIM_P95) for r in later),
        "queue": all(r["queue_max_kb"] <= first["queue_max_kb"] for r in later),
    }


def table(result: dict) -> str:
    head = ("| visits | RSS MB | malloc in use MB | fds | threads (py/tasks) | QObjects | "
            "queue KB (max) | screen p95 ms | median ms | elapsed s |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    lines = [f"| {r['visits']:,} | {r['rss_mb']} | {r.get('heap_used_mb', '-')} | {r['fds']} | "
             f"{r['threads']}/{r['tasks']} | "
             f"{r['qobjects']} | {r['queue_kb']:,} ({r['queue_max_kb']:,}) | {r['p95_ms']} | "
             f"{r['median_ms']} | "
             f"{r['elapsed_s']:,} |" for r in result["rows"]]
    aims = ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in result["aims"].items())
    return "\n".join([head, *lines, "", f"aims: {aims}; failed prints: "
                      f"{result['failed_prints']}; missed reads: {result['missed_reads']}; "
                      f"machine: {result['machine']}"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visits", type=int, default=10000)
    parser.add_argument("--every", type=int, default=1000)
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--trace", action="store_true", help="tracemalloc diffs per checkpoint")
    parser.add_argument("--trim", action="store_true",
                        help="malloc_trim(0) at each checkpoint, RSS after it reported too")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    # `kill` ends the run through the finally blocks: the central's process goes with it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    from PySide6.QtWidgets import QApplication

    if args.trace:
        tracemalloc.start(12)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        result = soak(app, Path(tmp), args.visits, args.every, args.trace,
                      log=lambda s: print(s, file=sys.stderr, flush=True), trim=args.trim)
    result["aims"] = judge(result["rows"])
    result["machine"] = f"{os.cpu_count()} x {cpu_model()}, load {os.getloadavg()[0]:.1f}"
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
