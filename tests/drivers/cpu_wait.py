"""Wall time minus the time this thread waited for a CPU.

A driver's ``wait_event(timeout)`` must return within its timeout plus a small margin; on a
loaded machine the calling thread can also wait for a core after its deadline, which says
nothing about the driver. Linux counts that wait per thread (``/proc/thread-self/schedstat``,
the second field: nanoseconds spent runnable on a run queue), so the bound can be checked
on the time the thread had a CPU or was blocked, not on the time it was starved.
"""

from __future__ import annotations

import time
from pathlib import Path

_SCHEDSTAT = Path("/proc/thread-self/schedstat")


def _runqueue_s() -> float:
    try:
        return int(_SCHEDSTAT.read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):  # no schedstat: count wall time only
        return 0.0


class Stopwatch:
    """``elapsed()``: wall time since start, less this thread's run-queue wait."""

    def __init__(self) -> None:
        self._wall, self._queued = time.monotonic(), _runqueue_s()

    def elapsed(self) -> float:
        return (time.monotonic() - self._wall) - (_runqueue_s() - self._queued)
