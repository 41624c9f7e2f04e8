"""``BackgroundLoop``: the one wake/stop loop the uplink's threads share. Qt-free."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class BackgroundLoop(threading.Thread):
    """A daemon thread that runs ``run_round()`` at start, then again after ``next_wait()``
    seconds (``interval_s`` unless a subclass says otherwise) or at once after ``wake()``,
    until ``stop()``. It waits on an event, never polls.

    An exception in ``run_round`` is logged and the next round runs on schedule: nothing a
    round does ends the thread. ``prepare()`` runs once before the first round;
    ``finish()`` runs once at the end, always.
    """

    #: What a round is called in the log line of a failed one ("menu check failed").
    round_name = "round"

    def __init__(self, interval_s: float, *, name: str) -> None:
        super().__init__(name=name, daemon=True)
        if not interval_s > 0:
            raise ValueError(f"{name}: the interval must be positive, not {interval_s!r}")
        self.interval_s = float(interval_s)
        self._wake = threading.Event()
        self._stopping = threading.Event()

    @property
    def stopping(self) -> bool:
        """True once ``stop()`` was called; a long round may check it to end early."""
        return self._stopping.is_set()

    def wake(self) -> None:
        """Run a round now (or right after the one running); safe from any thread."""
        self._wake.set()

    def stop(self, timeout: float | None = 5.0) -> bool:
        """Ask the thread to end and wait up to ``timeout`` s; True when it has ended. It
        ends between rounds; a round in flight is bounded by its own timeouts."""
        self._stopping.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)
        return not self.is_alive()

    # -- what a subclass provides -------------------------------------------------------

    def prepare(self) -> bool:
        """Once, on the thread, before the first round; False ends the thread without a
        round (an exception is logged and the rounds run)."""
        return True

    def run_round(self) -> None:
        raise NotImplementedError

    def next_wait(self) -> float:
        """Seconds to wait after a round unless woken."""
        return self.interval_s

    def finish(self) -> None:
        """Once, on the thread, when it ends (release what the rounds used)."""

    # -- the loop -----------------------------------------------------------------------

    def run(self) -> None:
        try:
            if self._guarded(self.prepare, "preparing") is False:
                return
            while not self._stopping.is_set():
                self._wake.clear()
                self._guarded(self.run_round, self.round_name)
                if self._stopping.is_set():
                    break
                wait = self._guarded(self.next_wait, "scheduling")
                self._wake.wait(self.interval_s if wait is None else max(0.0, wait))
        finally:
            self._guarded(self.finish, "finishing")

    def _guarded(self, step: Callable[[], T], what: str) -> T | None:
        """``step()``'s result; None when it raised (logged: the thread goes on)."""
        try:
            return step()
        except Exception:
            # Logged under the subclass's module, where its other messages go.
            logging.getLogger(type(self).__module__).exception("%s: %s failed", self.name, what)
            return None
