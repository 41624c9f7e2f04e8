"""Helpers the benchmark scripts share: the machine line and waiting on a Qt event loop.

The scripts run as ``python benchmarks/<name>.py``, so this folder is on ``sys.path``.
"""

from __future__ import annotations

import contextlib
import time


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
