"""Receipt rendering and printing, confirm to paper (issue #5).

    python benchmarks/receipt_print.py [--runs 10] [--renders 50] [--json]

Aims: a receipt renders in under 100 ms; the printer starts printing within 0.5 s of the
resident's confirm.

1. Render. For each paper width (384, 512, 576 dots) and each of two Chinese receipts, a fresh
   process imports ``kiosk.receipts.render`` (timed), calls ``render_receipt`` once (the first call
   loads the fonts, timed on its own), then ``--renders`` more times (median, p95). The job
   size is ``len(build_job(image, width))``, the bytes the driver sends. The receipts: "visit",
   the one the app printed for the benchmark's housing-fund visit (captured from the first
   visit, below), and "long", the tests' fixed receipt (``tests/drivers/escpos_receipts``),
   taller than python-escpos's 960-row fragments.
2. Confirm to paper, in the real app. ``kiosk.app.create_window`` on a configuration whose
   printer is an ESC/POS receiver (``tests/drivers/escpos_receiver.py``): ``TcpReceiver`` on
   127.0.0.1, or ``PtyReceiver(line_baudrate=115200)``, a pseudo-terminal read at the pace of a
   115200-baud line. A visit is driven by touches as in ``tests/drivers/test_escpos_visit.py``
   (housing fund, balance, simulated card 0) to the confirm screen; the clock
   (``perf_counter``) starts just before the click on ``btn:confirm`` and the receiver stamps
   every chunk it receives on the same clock. Reported: to the first byte on the wire (the
   driver's status request), to the first byte of the job (its ``ESC @``: the printer starts
   printing; this is the figure judged against 0.5 s), to the job's last byte (its cut) and to
   the done screen's "printed". The first visit after start is reported on its own (imports,
   fonts); the median is over the ``--runs`` visits after it.
3. Side by side, on receivers of the same kinds, with the image of the visit's receipt already
   rendered: python-escpos's own naive path, ``Network(host, port)`` / ``Serial(devfile=...,
   baudrate=115200)`` with their defaults, ``.image(img)``, ``.cut()``, ``.close()``, timed
   from the call to the receiver's first and last byte; and the kiosk's driver alone
   (``EscposPrinter(uri).print_image(img)``: status check, job, status check) without the app.
   App visits and the two baselines alternate. Over the paced line each job takes its line
   time (about 3 s), so the driver alone runs at most 5 times there.

On a paced pty a chunk is stamped when the receiver has "received" it, after its line time;
byte times within a chunk are interpolated back at 10 bits a byte.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import pickle
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from importlib import metadata
from pathlib import Path

from bench_common import cpu_model, spin

ROOT = Path(__file__).resolve().parent.parent
for _p in (ROOT, ROOT / "tests" / "drivers"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

AIM_RENDER_MS = 100.0
AIM_FIRST_BYTE_S = 0.5
WIDTHS = (384, 512, 576)
LINE_BAUD = 115200
DRIVER_PTY_RUNS = 5
INITIALIZE = b"\x1b@"


def _escpos_env() -> None:
    """python-escpos writes a capabilities pickle on import into ESCPOS_CAPABILITIES_PICKLE_DIR;
    the kiosk's default folder (/tmp/kiosk-escpos-capabilities) is not created by anyone, so
    a process whose first python-escpos import is ``build_job`` fails. Use a folder that exists.
    """
    folder = Path(tempfile.gettempdir()) / "kiosk-bench-escpos"
    folder.mkdir(exist_ok=True)
    os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = str(folder)


def _stats(values: list[float]) -> dict:
    s = sorted(values)
    return {"median": statistics.median(s), "min": s[0], "max": s[-1],
            "p95": s[min(len(s) - 1, round(0.95 * (len(s) - 1)))], "n": len(s)}


# --- 1. render (each case in a fresh process) ------------------------------------------------

def render_child(kind: str, width: int, n: int, data_file: str) -> dict:
    t0 = time.perf_counter()
    from kiosk.receipts.render import render_receipt
    imported = time.perf_counter() - t0
    if kind == "long":
        from escpos_receipts import zh_receipt
        data = zh_receipt()
    else:
        data = pickle.loads(Path(data_file).read_bytes())
    t0 = time.perf_counter()
    image = render_receipt(data, width)
    first = time.perf_counter() - t0
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        image = render_receipt(data, width)
        times.append(time.perf_counter() - t0)
    from drivers.escpos.printer import build_job
    job = build_job(image, width)
    build = []
    for _ in range(10):
        t0 = time.perf_counter()
        build_job(image, width)
        build.append(time.perf_counter() - t0)
    return {"kind": kind, "width": width, "size": list(image.size), "import_s": imported,
            "first_s": first, "render_s": _stats(times), "job_bytes": len(job),
            "build_job_s": statistics.median(build)}


def run_render(n: int, data_file: str) -> list[dict]:
    out = []
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for kind in ("visit", "long"):
        for width in WIDTHS:
            proc = subprocess.run(
                [sys.executable, __file__, "--render-child", kind, str(width), str(n), data_file],
                capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
            if proc.returncode:
                raise RuntimeError(f"render child {kind} {width}: {proc.stderr}")
            out.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return out


# --- receivers that stamp every chunk ---------------------------------------------------------

def _clocked(base):
    class Clocked(base):
        """Stamps every chunk with perf_counter: (time, offset in raw, length)."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.chunks: list[tuple[float, int, int]] = []

        def _received(self, data: bytes):
            now = time.perf_counter()
            with self.lock:
                self.chunks.append((now, len(self.raw), len(data)))
            return super()._received(data)

        def size(self) -> int:
            with self.lock:
                return len(self.raw)

        def time_of(self, offset: int) -> float | None:
            """When byte ``offset`` of ``raw`` arrived (None: not yet)."""
            with self.lock:
                chunks = list(self.chunks)
            baud = getattr(self, "line_baudrate", None)
            for t, start, length in chunks:
                if start <= offset < start + length:
                    if baud:  # stamped after the chunk's line time: interpolate back
                        return t - (start + length - 1 - offset) * 10 / baud
                    return t
            return None

    Clocked.__name__ = "Clocked" + base.__name__
    return Clocked


def make_receiver(transport: str):
    from escpos_receiver import PtyReceiver, TcpReceiver

    if transport == "tcp":
        return _clocked(TcpReceiver)().start()
    return _clocked(PtyReceiver)(line_baudrate=LINE_BAUD).start()


# --- 2. the app --------------------------------------------------------------------------------

class _Marks(logging.Handler):
    """Times of the receipt's render and the printer's connection, from the kiosk's logs."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.marks: list[tuple[float, str, str, tuple]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.marks.append((time.perf_counter(), record.name, str(record.msg), record.args or ()))
        if record.levelno >= logging.WARNING:
            sys.stderr.write(self.format(record) + "\n")


class AppRig:
    def __init__(self, app, transport: str, folder: Path, marks: _Marks):
        from PySide6.QtWidgets import QAbstractButton

        from kiosk.app import create_window

        self.app, self.transport, self.marks = app, transport, marks
        self._button = QAbstractButton
        self.receiver = make_receiver(transport)
        cfg = folder / f"kiosk-{transport}.toml"
        cfg.write_text(textwrap.dedent(f"""\
            [kiosk]
            data_dir = "{folder / ('data-' + transport)}"
            service_point = "转塘街道便民服务中心"
            [devices]
            card_reader = "sim:"
            printer = "{self.receiver.uri}"
            """), encoding="utf-8")
        self.window = create_window(str(cfg))
        self.window.show()
        self.stored_at: float | None = None
        self.window.ctl.transactionStored.connect(self._stored)
        # The start-up status check, the first frame, and the queue opened after it.
        spin(app, lambda: "printer" in self.window.ctl.device_status, 10, "printer status")
        t = time.monotonic()
        spin(app, lambda: time.monotonic() - t > 1.2, 5, "settling")

    def _stored(self, _tx: str) -> None:
        self.stored_at = time.perf_counter()

    def _visible(self, name: str):
        return [b for b in self.window.findChildren(self._button, name) if b.isVisible()]

    def touch(self, name: str) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest

        spin(self.app, lambda: bool(self._visible(name)), 5, name)
        QTest.mouseClick(self._visible(name)[0], Qt.MouseButton.LeftButton)

    def visit(self) -> dict:
        from kiosk.visit.summary import receipt_data

        ctl, rec = self.window.ctl, self.receiver
        self.touch("category:housing-fund")
        self.touch("tile:hpf-balance")
        self.touch("sim:card:0")
        spin(self.app, lambda: bool(self._visible("btn:confirm")), 5, "confirm screen")
        offset = rec.size()
        self.stored_at = None
        first_mark = len(self.marks.marks)
        t0 = time.perf_counter()
        self.touch("btn:confirm")
        spin(self.app, lambda: ctl.session.visit.printed is not None, 30, "printed")
        printed_at = time.perf_counter()
        if ctl.session.visit.printed is not True:
            raise RuntimeError(f"{self.transport}: the receipt was not printed")
        job_bytes = self.window.printer.last_job_bytes
        with rec.lock:
            job_start = bytes(rec.raw).find(INITIALIZE, offset)
        job_end = job_start + job_bytes - 1
        spin(self.app, lambda: rec.time_of(job_end) is not None, 10, "the job's last byte")
        render_end = render_s = None
        for t, name, msg, args in self.marks.marks[first_mark:]:
            if name == "kiosk.receipts.render" and msg.startswith("rendered receipt"):
                render_end, render_s = t, args[-1] / 1000
        data = receipt_data(ctl.session.visit, ctl.locale, ctl.config.kiosk.id,
                            ctl.config.kiosk.service_point)
        out = {
            "first_byte": rec.time_of(offset) - t0,
            "job_first_byte": rec.time_of(job_start) - t0,
            "job_last_byte": rec.time_of(job_end) - t0,
            "printed_on_screen": printed_at - t0,
            "stored": self.stored_at - t0,
            "render_start": render_end - render_s - t0,
            "render_end": render_end - t0,
            "render": render_s,
            "job_bytes": job_bytes,
            "receipt": data,
        }
        self.touch("btn:finish")
        spin(self.app, lambda: ctl.session.visit is None, 5, "home")
        # The driver's status check after the job, on the line: let it finish.
        spin(self.app, lambda: ctl.jobs.idle(), 10, "idle")
        return out

    def close(self) -> None:
        from PySide6.QtCore import QEvent

        self.window.close()
        # shutdown() leaves the window's one-minute printer poll running: a closed window
        # would later submit to its shut-down executor. Delete the window (and its timers).
        self.window.deleteLater()
        self.app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.receiver.stop()


# --- 3. baselines --------------------------------------------------------------------------------

def escpos_bytes(image) -> bytes:
    from escpos.printer import Dummy

    p = Dummy()
    with contextlib.redirect_stdout(io.StringIO()):
        p.image(image)
    p.cut()
    return p.output


def python_escpos(receiver, transport: str, image, expected: int) -> dict:
    """python-escpos's naive path with its defaults, timed from the call to the last byte."""
    from escpos.printer import Network, Serial

    offset = receiver.size()
    t0 = time.perf_counter()
    if transport == "tcp":
        p = Network("127.0.0.1", receiver.port)
    else:
        p = Serial(devfile=receiver.path, baudrate=LINE_BAUD)
    with contextlib.redirect_stdout(io.StringIO()):  # "media.width.pixel field ... not set"
        p.image(image)
    p.cut()
    p.close()
    returned = time.perf_counter() - t0
    last = offset + expected - 1
    spin(None, lambda: receiver.time_of(last) is not None, 30, "python-escpos last byte")
    return {"first_byte": receiver.time_of(offset) - t0,
            "job_last_byte": receiver.time_of(last) - t0, "returned": returned}


def driver_alone(printer, receiver, image) -> dict:
    offset = receiver.size()
    t0 = time.perf_counter()
    printer.print_image(image, name="bench")
    returned = time.perf_counter() - t0
    with receiver.lock:
        job_start = bytes(receiver.raw).find(INITIALIZE, offset)
    job_end = job_start + printer.last_job_bytes - 1
    spin(None, lambda: receiver.time_of(job_end) is not None, 10, "driver's last byte")
    return {"first_byte": receiver.time_of(offset) - t0,
            "job_first_byte": receiver.time_of(job_start) - t0,
            "job_last_byte": receiver.time_of(job_end) - t0, "returned": returned}


def run_transport(app, transport: str, runs: int, folder: Path, marks: _Marks) -> dict:
    from drivers.escpos.printer import EscposPrinter
    from kiosk.receipts.render import render_receipt

    rig = AppRig(app, transport, folder, marks)
    first = rig.visit()
    receipt = first.pop("receipt")
    image = render_receipt(receipt, 384)
    expected = len(escpos_bytes(image))
    base_rec = make_receiver(transport)
    drv_rec = make_receiver(transport)
    printer = EscposPrinter(drv_rec.uri, 384)
    printer.open()
    driver_alone(printer, drv_rec, image)  # connect / open the port, not counted
    drv_runs = runs if transport == "tcp" else min(runs, DRIVER_PTY_RUNS)
    visits, naive, driver = [], [], []
    try:
        for i in range(runs):
            v = rig.visit()
            v.pop("receipt")
            visits.append(v)
            naive.append(python_escpos(base_rec, transport, image, expected))
            if i < drv_runs:
                driver.append(driver_alone(printer, drv_rec, image))
    finally:
        printer.close()
        rig.close()
        base_rec.stop()
        drv_rec.stop()
    return {"first_visit": first, "visits": visits, "python_escpos": naive,
            "driver_alone": driver, "escpos_bytes": expected, "receipt": receipt}


# --- report --------------------------------------------------------------------------------------

def _med(rows: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def summarise(render: list[dict], by_transport: dict) -> dict:
    res: dict = {"render": render, "transports": {}}
    for transport, r in by_transport.items():
        summary = {}
        for name in ("visits", "python_escpos", "driver_alone"):
            rows = r[name]
            summary[name] = {k: _stats([x[k] for x in rows]) for k in rows[0]
                             if isinstance(rows[0][k], float)}
        summary["first_visit"] = {k: v for k, v in r["first_visit"].items()}
        summary["job_bytes"] = sorted({x["job_bytes"] for x in r["visits"]})
        summary["escpos_bytes"] = r["escpos_bytes"]
        res["transports"][transport] = summary
    return res


def machine_line() -> str:
    cpu = " ".join(cpu_model().split()[:2])
    from PySide6 import __version__ as pyside

    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("Pillow", "python-escpos", "pyserial"))
    return f"{os.cpu_count()} x {cpu}, Python {platform.python_version()}, PySide6 {pyside}, " + (
        versions)


def print_table(res: dict, runs: int, renders: int) -> None:
    ms = 1000.0
    print(f"Receipt rendering and printing (issue #5): render median of {renders} "
          f"(fresh process per row), {runs} visits per transport after a first one")
    print(machine_line())
    print()
    head = (f"{'render_receipt':<28}{'size':>10}{'import':>9}{'first':>9}{'median':>9}"
            f"{'p95':>9}{'job bytes':>11}{'build_job':>11}  aim")
    print(head)
    print("-" * len(head) + "------")
    for r in res["render"]:
        st = r["render_s"]
        ok = "PASS" if st["median"] * ms < AIM_RENDER_MS else "MISS"
        print(f"{r['kind'] + ' receipt, ' + str(r['width']) + ' dots':<28}"
              f"{r['size'][0]:>5}x{r['size'][1]:<4}"
              f"{r['import_s'] * ms:>6.0f} ms{r['first_s'] * ms:>6.0f} ms"
              f"{st['median'] * ms:>6.1f} ms{st['p95'] * ms:>6.1f} ms{r['job_bytes']:>11,}"
              f"{r['build_job_s'] * ms:>8.1f} ms  < {AIM_RENDER_MS:.0f} ms  {ok}")
    print()
    head = (f"{'from confirm / call, median':<36}{'1st byte':>10}{'job 1st':>10}"
            f"{'job last':>10}{'done':>10}{'job 1st min':>13}{'max':>9}  aim")
    order = list(res["transports"])
    for transport, s in res["transports"].items():
        label = "TCP 127.0.0.1" if transport == "tcp" else f"pty paced at {LINE_BAUD} baud"
        sizes = "-".join(f"{n:,}" for n in (s["job_bytes"][0], s["job_bytes"][-1]))
        print(f"{label}: app job {sizes} bytes, python-escpos {s['escpos_bytes']:,} bytes")
        print(head)
        print("-" * len(head) + "------")
        first = {k: {"median": v} for k, v in s["first_visit"].items() if isinstance(v, float)}
        first_label = ("app: first visit after start" if transport == order[0]
                       else "app: first visit, 2nd window")
        rows = (("app: confirm -> receiver", s["visits"], "printed_on_screen"),
                (first_label, first, "printed_on_screen"),
                ("driver alone: print_image(img)", s["driver_alone"], "returned"),
                ("python-escpos: image, cut, close", s["python_escpos"], "returned"))
        for name, st, done in rows:
            job_first = st.get("job_first_byte", st["first_byte"])  # python-escpos: no check
            cells = [st["first_byte"], job_first, st["job_last_byte"], st[done]]
            line = f"{name:<36}" + "".join(f"{c['median'] * ms:>7.0f} ms" for c in cells)
            if "min" in job_first:
                line += f"{job_first['min'] * ms:>10.0f} ms{job_first['max'] * ms:>6.0f} ms"
            if st is s["visits"]:
                ok = "PASS" if job_first["median"] < AIM_FIRST_BYTE_S else "MISS"
                line += f"  < {AIM_FIRST_BYTE_S * ms:.0f} ms  {ok}"
            print(line)
        v = s["visits"]
        print("  app, median ms after confirm: stored {:.0f}; render starts {:.0f}, takes {:.0f};"
              " first status request {:.0f}; job starts {:.0f}".format(
                  v["stored"]["median"] * ms, v["render_start"]["median"] * ms,
                  v["render"]["median"] * ms, v["first_byte"]["median"] * ms,
                  v["job_first_byte"]["median"] * ms))
        print()


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--render-child":
        _escpos_env()
        kind, width, n, data_file = sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        print(json.dumps(render_child(kind, width, n, data_file)))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="visits per transport (after one)")
    parser.add_argument("--renders", type=int, default=50, help="renders per width")
    parser.add_argument("--transports", default="tcp,pty")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    _escpos_env()
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    marks = _Marks()
    for name in ("kiosk.receipts.render", "drivers.escpos.printer"):
        lg = logging.getLogger(name)
        lg.setLevel(logging.DEBUG)
        lg.addHandler(marks)
        lg.propagate = False  # python-escpos's basicConfig would print them all
    app = QApplication.instance() or QApplication(sys.argv[:1])
    by_transport = {}
    with tempfile.TemporaryDirectory(prefix="receipt-bench-") as tmp:
        folder = Path(tmp)
        for transport in args.transports.split(","):
            by_transport[transport] = run_transport(app, transport, args.runs, folder, marks)
        receipt = next(iter(by_transport.values()))["receipt"]
        data_file = folder / "receipt.pickle"
        data_file.write_bytes(pickle.dumps(receipt))
        render = run_render(args.renders, str(data_file))
    for r in by_transport.values():
        r.pop("receipt")
    res = summarise(render, by_transport)
    res["machine"] = machine_line()
    if args.json:
        res["raw"] = by_transport
        print(json.dumps(res, indent=1, default=str))
    else:
        print_table(res, args.runs, args.renders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
