"""Helpers the benchmark scripts share: the machine line, a reference central in its own
process and waiting on a Qt event loop.

The scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import time
from collections.abc import Iterator
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, or "?"."""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        return next((line.split(":", 1)[1].strip() for line in f
                     if line.startswith("model name")), "?")
    return "?"


def spin(app, predicate, timeout: float, what: str) -> None:
    """Run ``app``'s events until ``predicate()`` holds; TimeoutError after ``timeout`` s."""
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        if app is not None:
            app.processEvents()
        time.sleep(0.001)


def pause(app, seconds: float) -> None:
    """Run ``app``'s events for ``seconds``."""
    end = time.monotonic() + seconds
    spin(app, lambda: time.monotonic() >= end, seconds + 5, "a pause")


def _serve(db_path: str, kiosks: dict, ready, stop) -> None:
    from central.server import CentralServer

    with CentralServer(db_path, kiosks=kiosks) as srv:
        ready.put(srv.url)
        stop.wait()


@contextlib.contextmanager
def central_process(db_path: Path, kiosks: dict, timeout: float = 60) -> Iterator[str]:
    """A reference central for ``kiosks`` in its own process on ``db_path``; yields its URL
    (TimeoutError-like ``queue.Empty`` if it is not up within ``timeout`` s)."""
    ctx = mp.get_context("spawn")
    ready, stop = ctx.Queue(), ctx.Event()
    proc = ctx.Process(target=_serve, args=(str(db_path), kiosks, ready, stop), daemon=True)
    proc.start()
    try:
        yield ready.get(timeout=timeout)
    finally:
        stop.set()
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
        ready.close()
