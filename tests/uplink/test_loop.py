"""``BackgroundLoop``: rounds at start, on wake and on schedule; prompt stop; a failing round
never ends the thread. Every wait here is on an event, with a generous bound."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator

import pytest

from uplink.loop import BackgroundLoop

LONG = 3600  # an interval no test waits for: rounds come from start() and wake()
BOUND = 5  # seconds an event may take on a loaded machine before the test fails


class Recorder(BackgroundLoop):
    """Counts rounds; ``rounds`` is released once per round. ``fail`` rounds raise."""

    round_name = "recording"

    def __init__(self, interval_s: float = LONG, *, fail: set[int] = frozenset(),
                 prepared: bool = True, wait: float | None = None) -> None:
        super().__init__(interval_s, name="recorder")
        self.fail = set(fail)
        self.prepared = prepared
        self.wait = wait
        self.count = 0
        self.rounds = threading.Semaphore(0)
        self.in_wait = threading.Event()  # set when the loop goes to wait after a round
        self.finished = threading.Event()

    def prepare(self) -> bool:
        return self.prepared

    def run_round(self) -> None:
        self.count += 1
        self.rounds.release()
        if self.count in self.fail:
            raise RuntimeError(f"round {self.count} broke")

    def next_wait(self) -> float:
        self.in_wait.set()
        return self.interval_s if self.wait is None else self.wait

    def finish(self) -> None:
        self.finished.set()


@pytest.fixture
def loops() -> Iterator[list[Recorder]]:
    started: list[Recorder] = []
    yield started
    for loop in started:
        loop.stop(BOUND)


def start(loops: list[Recorder], loop: Recorder) -> Recorder:
    loops.append(loop)
    loop.start()
    return loop


def test_a_round_runs_at_start_and_at_once_after_wake(loops) -> None:
    loop = start(loops, Recorder())
    assert loop.rounds.acquire(timeout=BOUND)
    loop.wake()
    assert loop.rounds.acquire(timeout=BOUND)
    assert loop.count == 2 and loop.is_alive()


def test_stop_while_waiting_ends_the_thread_promptly(loops) -> None:
    loop = start(loops, Recorder())
    assert loop.rounds.acquire(timeout=BOUND)
    assert loop.in_wait.wait(BOUND)  # now waiting out an hour
    assert loop.stop(BOUND)
    assert not loop.is_alive() and loop.finished.is_set() and loop.stopping
    assert loop.count == 1


def test_an_exception_in_a_round_is_logged_and_the_thread_goes_on(loops, caplog) -> None:
    with caplog.at_level(logging.ERROR):
        loop = start(loops, Recorder(fail={1}))
        assert loop.rounds.acquire(timeout=BOUND)
        assert loop.in_wait.wait(BOUND)
        loop.wake()
        assert loop.rounds.acquire(timeout=BOUND)  # the round after the failed one ran
    assert loop.is_alive()
    assert "recorder: recording failed" in caplog.text and "round 1 broke" in caplog.text


def test_a_wake_during_a_round_runs_another_round(loops) -> None:
    gate = threading.Event()

    class Blocking(Recorder):
        def run_round(self) -> None:
            super().run_round()
            if self.count == 1:
                assert gate.wait(BOUND)

    loop = start(loops, Blocking())
    assert loop.rounds.acquire(timeout=BOUND)  # round 1 is running
    loop.wake()
    gate.set()
    assert loop.rounds.acquire(timeout=BOUND)  # the wake was not lost


def test_next_wait_sets_the_pause_between_rounds(loops) -> None:
    loop = start(loops, Recorder(wait=0.0))  # no pause: rounds follow each other, no wake
    for _ in range(3):
        assert loop.rounds.acquire(timeout=BOUND)


def test_prepare_false_ends_the_thread_without_a_round(loops) -> None:
    loop = start(loops, Recorder(prepared=False))
    assert loop.finished.wait(BOUND)
    loop.join(BOUND)
    assert not loop.is_alive() and loop.count == 0


def test_stop_before_start_and_twice_is_harmless() -> None:
    loop = Recorder()
    assert loop.stop(BOUND)
    assert loop.stop(BOUND)


@pytest.mark.parametrize("interval", [0, -1])
def test_the_interval_must_be_positive(interval) -> None:
    with pytest.raises(ValueError):
        Recorder(interval)
