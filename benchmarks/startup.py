"""Start-up and screen-change benchmark (issue #2).

    python benchmarks/startup.py [--runs N] [--changes N] [--json]

Measures, in one run:

1. Kiosk start to first painted home screen. Each run is a fresh interpreter
   (``python -c``, started by this script) that imports the kiosk, creates the
   QApplication, builds the main window with ``kiosk.app.create_window`` on the demo
   configuration (simulated devices, an empty data folder), shows it at 1920x1080 and
   waits for the first ``QEvent.Paint`` delivered to the home screen (``screen:home``).
   The time is wall clock (``time.time()``) from just before this script spawns the
   child to that paint event, so it includes process and interpreter start. The child
   also reports the moment the whole first frame has been painted and flushed (the next
   turn of its event loop), and its peak RSS (``ru_maxrss``) at that moment; then it
   leaves at once with ``os._exit``.
2. Baseline: the same for a bare ``QWidget`` of 1920x1080 (imports QtCore and QtWidgets
   only, no style sheet, no fonts set), and the ratio kiosk / bare.
3. Screen changes: in this process, one window; home -> services -> home ... by the
   controller (``choose_category(<first visible category>)`` and ``back()``). Each change
   is timed from the call until the event loop has delivered the paint of the new current
   screen (``processEvents`` until its Paint event has been handled, i.e. the frame with
   the new screen and the top bar is painted and flushed). A second series does the same
   synchronously: the call plus ``window.repaint()`` (no event loop; work only).

Runs of kiosk and bare alternate; one untimed warm-up run of each comes first so both find
warm file caches and compiled bytecode. Qt runs offscreen unless QT_QPA_PLATFORM is set.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_common import cpu_model

ROOT = Path(__file__).resolve().parent.parent

AIM_START_S = 0.5  # first painted home under 0.5 s
AIM_RATIO = 2.0  # ... and at most twice the bare window
AIM_RSS_MB = 100.0  # peak RSS under 100 MB, checked on MiB (KiB / 1024), the larger unit
AIM_CHANGE_MS = 16.0  # screen change median under one 60 Hz frame

# -- child programs (run with ``python -c``; the first statement takes the start time) -----

_CHILD_TAIL = r"""
def _peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

def _vm_hwm_mib():
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None

def _finish():
    M["frame"] = time.time()
    M["rss_mib"], M["vmhwm_mib"] = _peak_rss_mib(), _vm_hwm_mib()
    # The kiosk opens its queue and starts its idle watch just after the first frame:
    # the peak a second later is what a running kiosk holds.
    QTimer.singleShot(1500, _settled)

def _settled():
    out = dict(M, start=T0, settled_rss_mib=_peak_rss_mib())
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    os._exit(0)

class _FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and "paint" not in M:
            M["paint"] = time.time()
            M["paint_cpu"] = time.process_time()
            QTimer.singleShot(0, _finish)
        return False

def _no_paint():
    sys.stdout.write(json.dumps({"error": "no paint within 20 s"}) + "\n")
    sys.stdout.flush()
    os._exit(3)

_filter = _FirstPaint()
TARGET.installEventFilter(_filter)
WINDOW.resize(1920, 1080)
WINDOW.show()
M["shown"] = time.time()
QTimer.singleShot(20000, _no_paint)
app.exec()
"""

KIOSK_CHILD = r"""import time
T0 = time.time()
import json, os, resource, sys
from pathlib import Path
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget
from kiosk.app import create_window
from kiosk.config import demo_config
M = {"imports": time.time(), "imports_cpu": time.process_time()}
app = QApplication(sys.argv[:1])
M["app"] = time.time()
M["app_cpu"] = time.process_time()
WINDOW = create_window(config=demo_config(Path(sys.argv[1])))
M["window"] = time.time()
M["window_cpu"] = time.process_time()
TARGET = WINDOW.findChild(QWidget, "screen:home")
assert TARGET is not None, "no screen:home after create_window"
""" + _CHILD_TAIL

BARE_CHILD = r"""import time
T0 = time.time()
import json, os, resource, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QWidget
M = {"imports": time.time()}
app = QApplication(sys.argv[:1])
M["app"] = time.time()
WINDOW = QWidget()
M["window"] = time.time()
TARGET = WINDOW
""" + _CHILD_TAIL


PYCACHE = Path(tempfile.gettempdir()) / "kiosk-bench-pycache"


def child_env(bytecode_cache: bool = True, root: Path = ROOT) -> dict[str, str]:
    """The children's environment: offscreen Qt unless set; compiled bytecode cached.

    An installed kiosk runs from compiled bytecode. With PYTHONDONTWRITEBYTECODE set (or a
    read-only checkout) the kiosk's own modules would be compiled from source at every
    start, so the children keep their bytecode in a private cache outside the source tree
    (PYTHONPYCACHEPREFIX), filled by the warm-up run. ``bytecode_cache=False`` measures the
    compile-every-start case instead.
    """
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPATH"] = str(root)
    if bytecode_cache:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    else:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        env.pop("PYTHONPYCACHEPREFIX", None)
    return env


def run_child(code: str, bytecode_cache: bool = True, root: Path = ROOT) -> dict:
    """One fresh process on the kiosk in ``root``; times are seconds since just before the
    spawn, CPU time (all threads) is the child's own from its start to the first paint."""
    data = tempfile.mkdtemp(prefix="kiosk-bench-")
    try:
        spawn = time.time()
        proc = subprocess.run([sys.executable, "-c", code, data], cwd=root,
                              env=child_env(bytecode_cache, root),
                              capture_output=True, text=True, timeout=120)
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"child failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
        r = json.loads(lines[-1])
        if "error" in r:
            raise RuntimeError(r["error"])
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return {
        "first_paint_s": r["paint"] - spawn,
        "first_paint_cpu_s": r["paint_cpu"],
        "frame_done_s": r["frame"] - spawn,
        "rss_mib": r["rss_mib"],
        "vmhwm_mib": r["vmhwm_mib"],
        "settled_rss_mib": r["settled_rss_mib"],
        "cpu_phases_s": {
            "to_imports_done": r.get("imports_cpu", 0.0),
            "create_window": r.get("window_cpu", 0.0) - r.get("app_cpu", 0.0),
            "after_window_to_paint": r["paint_cpu"] - r.get("window_cpu", 0.0),
        },
        "phases_s": {
            "interpreter": r["start"] - spawn,
            "imports": r["imports"] - r["start"],
            "qapplication": r["app"] - r["imports"],
            "window": r["window"] - r["app"],
            "show": r["shown"] - r["window"],
            "to_first_paint": r["paint"] - r["shown"],
        },
    }


MIB = 1024 * 1024


def summarize(values: list[float]) -> dict:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def startup_series(runs: int, bytecode_cache: bool = True,
                   baseline: Path | None = None) -> dict:
    """Kiosk and bare runs alternate; with ``baseline`` (another checkout of the kiosk, e.g.
    a git worktree of an older commit) its kiosk runs between them, so both trees see the
    same machine load."""
    run_child(KIOSK_CHILD, bytecode_cache)  # warm-up, not counted
    run_child(BARE_CHILD, bytecode_cache)
    if baseline is not None:
        run_child(KIOSK_CHILD, bytecode_cache, baseline)
    kiosk, bare, base = [], [], []
    for _ in range(runs):
        if baseline is not None:
            base.append(run_child(KIOSK_CHILD, bytecode_cache, baseline))
        kiosk.append(run_child(KIOSK_CHILD, bytecode_cache))
        bare.append(run_child(BARE_CHILD, bytecode_cache))

    def series(rs: list[dict]) -> dict:
        return {
            "first_paint_s": summarize([r["first_paint_s"] for r in rs]),
            "first_paint_cpu_s": summarize([r["first_paint_cpu_s"] for r in rs]),
            "frame_done_s": summarize([r["frame_done_s"] for r in rs]),
            "rss_mib": summarize([r["rss_mib"] for r in rs]),
            "settled_rss_mib": summarize([r["settled_rss_mib"] for r in rs]),
            "phases_s": {k: statistics.median(r["phases_s"][k] for r in rs)
                         for k in rs[0]["phases_s"]},
            "cpu_phases_s": {k: statistics.median(r["cpu_phases_s"][k] for r in rs)
                             for k in rs[0]["cpu_phases_s"]},
            "runs": rs,
        }

    out = {"kiosk": series(kiosk), "bare": series(bare)}
    if baseline is not None:
        out["baseline"] = dict(series(base), root=str(baseline))
    return out


# -- screen changes, in this process ------------------------------------------------------


def screen_changes(changes: int) -> dict:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication

    from kiosk.app import create_window
    from kiosk.config import demo_config

    class PaintWatch(QObject):
        """On each screen only (an application-wide filter would slow every event)."""

        def __init__(self):
            super().__init__()
            self.target = None
            self.painted = False
            self.watched: set[int] = set()

        def watch(self, widget) -> None:
            if id(widget) not in self.watched:
                widget.installEventFilter(self)
                self.watched.add(id(widget))
            self.target = widget
            self.painted = False

        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            if obj is self.target and event.type() == QEvent.Type.Paint:
                self.painted = True
            return False

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory(prefix="kiosk-bench-", ignore_cleanup_errors=True) as data:
        window = create_window(config=demo_config(Path(data)))
        try:
            ctl = window.ctl
            category = ctl.session.menu.visible_categories()[0].id
            pw = PaintWatch()
            pw.watch(window.stack.currentWidget())
            window.resize(1920, 1080)
            window.show()
            deadline = time.perf_counter() + 10
            while not pw.painted and time.perf_counter() < deadline:
                app.processEvents()
            if not pw.painted:
                raise RuntimeError("the home screen was never painted")

            def change(i: int):
                if i % 2 == 0:
                    ctl.choose_category(category)
                    return "screen:services"
                ctl.back()
                return "screen:home"

            def settle():
                for _ in range(3):
                    app.processEvents()

            settle()
            loop_ms: list[float] = []
            targets: list[str] = []
            for i in range(changes):
                t0 = time.perf_counter()
                expect = change(i)
                pw.watch(window.stack.currentWidget())
                limit = t0 + 5
                while not pw.painted:
                    app.processEvents()
                    if time.perf_counter() > limit:
                        raise RuntimeError(f"change {i}: {expect} not painted within 5 s")
                loop_ms.append((time.perf_counter() - t0) * 1000)
                targets.append(expect)
                if window.stack.currentWidget().objectName() != expect:
                    raise RuntimeError(f"change {i}: expected {expect}")
                settle()

            if window.stack.currentWidget().objectName() != "screen:home":
                ctl.go_home()
                settle()
            sync_ms: list[float] = []
            for i in range(changes):
                t0 = time.perf_counter()
                change(i)
                pw.watch(window.stack.currentWidget())
                window.repaint()
                sync_ms.append((time.perf_counter() - t0) * 1000)
                if not pw.painted:
                    raise RuntimeError(f"change {i}: window.repaint() did not paint the screen")
                settle()
        finally:
            window.close()

    def stats(ms: list[float]) -> dict:
        def median_to(name: str) -> float:
            return statistics.median(m for m, t in zip(ms, targets, strict=True) if t == name)

        return {
            "count": len(ms),
            "median": statistics.median(ms),
            "p95": statistics.quantiles(ms, n=100, method="inclusive")[94],
            "min": min(ms),
            "max": max(ms),
            "first": ms[0],
            "median_to_services": median_to("screen:services"),
            "median_to_home": median_to("screen:home"),
        }

    return {"category": category, "event_loop_ms": stats(loop_ms),
            "sync_repaint_ms": stats(sync_ms)}


# -- machine and report --------------------------------------------------------------------


def machine() -> dict:
    cpu = cpu_model()
    if cpu == "?":
        cpu = platform.processor() or platform.machine()
    import PySide6
    from PySide6 import QtCore

    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "pyside6": PySide6.__version__,
        "qt": QtCore.qVersion(),
        "platform": platform.platform(),
        "qpa": os.environ.get("QT_QPA_PLATFORM", "offscreen"),
    }


def verdicts(s: dict, c: dict) -> dict:
    k, b = s["kiosk"], s["bare"]
    ratio = k["first_paint_s"]["median"] / b["first_paint_s"]["median"]
    return {
        "ratio_kiosk_bare": ratio,
        "start_under_0_5_s": k["first_paint_s"]["median"] < AIM_START_S,
        "start_at_most_2x_bare": ratio <= AIM_RATIO,
        # Judged on the peak 1.5 s after start (queue open), in MB of 10^6 bytes.
        "rss_under_100_mb": k["settled_rss_mib"]["median"] * MIB / 1e6 < AIM_RSS_MB,
        "change_under_16_ms": c["event_loop_ms"]["median"] < AIM_CHANGE_MS,
    }


def _baseline_rows(s: dict, ms3) -> list[tuple]:
    """The baseline checkout's kiosk, and kiosk minus baseline (medians), if measured."""
    if "baseline" not in s:
        return []
    k, base = s["kiosk"], s["baseline"]
    wall = (k["first_paint_s"]["median"] - base["first_paint_s"]["median"]) * 1000
    cpu = (k["first_paint_cpu_s"]["median"] - base["first_paint_cpu_s"]["median"]) * 1000
    return [
        ("baseline kiosk: start to first paint", *ms3(base["first_paint_s"]), "", ""),
        ("baseline kiosk: CPU time to first paint", *ms3(base["first_paint_cpu_s"]), "", ""),
        ("kiosk - baseline, median wall / CPU", f"{wall:+.0f} ms", "", f"{cpu:+.0f} ms",
         "<= 0", "PASS" if cpu <= 0 else "MISS"),
    ]


def table(result: dict) -> str:
    s, c, v, m = result["startup"], result["screen_changes"], result["aims"], result["machine"]
    k, b = s["kiosk"], s["bare"]

    def ok(flag: bool) -> str:
        return "PASS" if flag else "MISS"

    def ms3(d: dict) -> tuple[str, str, str]:
        return tuple(f"{d[x] * 1000:.0f} ms" for x in ("median", "min", "max"))

    def mb3(d: dict) -> tuple[str, str, str]:
        return tuple(f"{d[x] * MIB / 1e6:.1f} MB" for x in ("median", "min", "max"))

    ratio = v["ratio_kiosk_bare"]
    n = len(k["runs"])
    el, sr = c["event_loop_ms"], c["sync_repaint_ms"]
    rows = [
        ("kiosk: start to first paint of home", *ms3(k["first_paint_s"]),
         "< 500 ms", ok(v["start_under_0_5_s"])),
        ("kiosk: CPU time to first paint", *ms3(k["first_paint_cpu_s"]), "", ""),
        ("kiosk: start to first frame done", *ms3(k["frame_done_s"]), "", ""),
        *_baseline_rows(s, ms3),
        ("bare QWidget: start to first paint", *ms3(b["first_paint_s"]), "", ""),
        ("ratio kiosk / bare (first paint)", f"{ratio:.2f}x", "", "", "<= 2.00x",
         ok(v["start_at_most_2x_bare"])),
        ("kiosk: peak RSS at first paint", *mb3(k["rss_mib"]), "", ""),
        ("kiosk: peak RSS 1.5 s after start", *mb3(k["settled_rss_mib"]),
         "< 100 MB", ok(v["rss_under_100_mb"])),
        ("bare QWidget: peak RSS at first paint", *mb3(b["rss_mib"]), "", ""),
        (f"screen change, until painted (n={el['count']})", f"{el['median']:.1f} ms",
         f"{el['min']:.1f} ms", f"{el['max']:.1f} ms", "< 16 ms", ok(v["change_under_16_ms"])),
        ("  p95 / first (builds services)", f"{el['p95']:.1f} ms", "", f"{el['first']:.1f} ms",
         "", ""),
        ("  median to services / to home", f"{el['median_to_services']:.1f} ms", "",
         f"{el['median_to_home']:.1f} ms", "", ""),
        (f"screen change, call + repaint() (n={sr['count']})", f"{sr['median']:.1f} ms",
         f"{sr['min']:.1f} ms", f"{sr['max']:.1f} ms", "", ""),
        ("  p95", f"{sr['p95']:.1f} ms", "", "", "", ""),
    ]
    head = ("measure", "median", "min", "max", "aim", "")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]

    def fmt(r) -> str:
        cells = [str(r[0]).ljust(widths[0])] + [str(x).rjust(w) for x, w in
                                                zip(r[1:4], widths[1:4], strict=True)]
        cells += [str(r[4]).ljust(widths[4]), str(r[5])]
        return "  ".join(cells).rstrip()

    ph = k["phases_s"]
    phase_line = ", ".join(f"{name} {ph[key] * 1000:.0f}" for name, key in (
        ("interpreter", "interpreter"), ("imports", "imports"),
        ("QApplication", "qapplication"), ("create_window", "window"), ("show", "show"),
        ("show->paint", "to_first_paint")))
    cpu_phases = [("imports (incl. interpreter)", "to_imports_done"),
                  ("create_window", "create_window"), ("show->paint", "after_window_to_paint")]
    phase_line += "\nkiosk CPU, median ms: " + ", ".join(
        f"{name} {k['cpu_phases_s'][key] * 1000:.0f}" for name, key in cpu_phases)
    if "baseline" in s:
        phase_line += "\nbaseline CPU, median ms: " + ", ".join(
            f"{name} {s['baseline']['cpu_phases_s'][key] * 1000:.0f}" for name, key in cpu_phases)
        bl = s["baseline"]["phases_s"]
        phase_line += "\nbaseline start, median ms: " + ", ".join(
            f"{name} {bl[key] * 1000:.0f}" for name, key in (
                ("interpreter", "interpreter"), ("imports", "imports"),
                ("QApplication", "qapplication"), ("create_window", "window"),
                ("show", "show"), ("show->paint", "to_first_paint")))
    bp = b["phases_s"]
    bare_line = ", ".join(f"{name} {bp[key] * 1000:.0f}" for name, key in (
        ("interpreter", "interpreter"), ("imports", "imports"),
        ("QApplication", "qapplication"), ("show->paint", "to_first_paint")))
    lines = [
        f"Start-up and screen changes (issue #2): {n} runs each, Qt platform {m['qpa']}, "
        f"bytecode {'cached' if result['bytecode_cache'] else 'compiled at every start'}",
        f"{m['nproc']} x {m['cpu']}, Python {m['python']}, PySide6 {m['pyside6']} "
        f"(Qt {m['qt']})",
        "",
        fmt(head),
        fmt(["-" * w for w in widths]),
        *[fmt(r) for r in rows],
        "",
        f"kiosk start, median ms: {phase_line}",
        f"bare start, median ms:  {bare_line}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", type=int, default=5, help="fresh processes per start-up series")
    p.add_argument("--changes", type=int, default=200, help="screen changes to time")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--no-bytecode-cache", action="store_true",
                   help="children compile the kiosk's modules at every start "
                        "(PYTHONDONTWRITEBYTECODE=1), as a checkout without __pycache__ does")
    p.add_argument("--baseline", type=Path, metavar="DIR",
                   help="another checkout of the kiosk (e.g. `git worktree add --detach DIR "
                        "abfc9fc`): its start-up runs alternate with this one's")
    args = p.parse_args(argv)
    if args.runs < 1 or args.changes < 2:
        p.error("--runs must be at least 1 and --changes at least 2")

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    startup = startup_series(args.runs, bytecode_cache=not args.no_bytecode_cache,
                             baseline=args.baseline.resolve() if args.baseline else None)
    changes = screen_changes(args.changes)
    result = {
        "command": "python benchmarks/startup.py " + " ".join(sys.argv[1:] if argv is None
                                                              else argv),
        "machine": machine(),
        "runs": args.runs,
        "bytecode_cache": not args.no_bytecode_cache,
        "startup": startup,
        "screen_changes": changes,
    }
    result["aims"] = verdicts(startup, changes)
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
