"""The PIN gate: lock-out after five wrong PINs, kept across restarts, failing closed."""

from __future__ import annotations

import errno
import json
import logging

import pytest

from kiosk.technician.pin import hash_pin
from kiosk.technician.pin_gate import STATE_FILE, PinGate


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def pin_hash() -> str:
    return hash_pin("246813")


@pytest.fixture
def clock() -> Clock:
    return Clock()


def gate(tmp_path, clock) -> PinGate:
    return PinGate(tmp_path / "diagnostics", clock=clock)


def test_right_pin_opens_and_wrong_pins_count_down(tmp_path, clock, pin_hash):
    g = gate(tmp_path, clock)
    assert g.locked_until() is None and g.attempts_left() == 5
    first = g.check("1111", pin_hash)
    assert (first.ok, first.reason, first.attempts_left, first.locked) == (False, "wrong", 4,
                                                                            False)
    ok = g.check("246813", pin_hash)
    assert ok.ok and ok.reason == "ok" and ok.attempts_left == 5  # a right PIN resets the count


def test_five_wrong_pins_lock_for_five_minutes_even_the_right_pin(tmp_path, clock, pin_hash):
    g = gate(tmp_path, clock)
    results = [g.check(str(1000 + i), pin_hash) for i in range(5)]
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]
    assert [r.newly_locked for r in results] == [False] * 4 + [True]
    assert results[-1].locked and results[-1].locked_until == clock.t + 300
    clock.t += 299
    refused = g.check("246813", pin_hash)
    assert (refused.ok, refused.reason, refused.locked, refused.newly_locked) == (
        False, "locked", True, False)
    clock.t += 1
    assert g.locked_until() is None
    opened = g.check("246813", pin_hash)
    assert opened.ok and opened.attempts_left == 5


def test_the_lock_survives_a_restart(tmp_path, clock, pin_hash):
    g = gate(tmp_path, clock)
    for _ in range(5):
        g.check("0000", pin_hash)
    locked_until = g.locked_until()
    restarted = gate(tmp_path, clock)  # a new app, same data folder
    assert restarted.locked_until() == locked_until
    assert restarted.check("246813", pin_hash).reason == "locked"


def test_failures_below_the_limit_survive_a_restart_too(tmp_path, clock, pin_hash):
    g = gate(tmp_path, clock)
    for _ in range(4):
        g.check("0000", pin_hash)
    result = gate(tmp_path, clock).check("0000", pin_hash)
    assert result.newly_locked and result.locked


def test_state_is_written_atomically_and_private(tmp_path, clock, pin_hash):
    g = gate(tmp_path, clock)
    g.check("0000", pin_hash)
    path = tmp_path / "diagnostics" / STATE_FILE
    assert json.loads(path.read_text()) == {"failures": 1, "locked_until": None, "lockouts": 0}
    assert path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in path.parent.iterdir()] == [STATE_FILE]  # no temporary left


@pytest.mark.parametrize("content", [b"", b"{", b"[]", b'{"failures": -1, "locked_until": null}',
                                     b'{"failures": 0, "locked_until": "soon"}',
                                     b'{"failures": 0}', b"\xff\xfe"])
def test_a_damaged_state_file_locks_for_lock_s_from_now(tmp_path, clock, pin_hash, content,
                                                        caplog):
    folder = tmp_path / "diagnostics"
    folder.mkdir()
    (folder / STATE_FILE).write_bytes(content)
    g = gate(tmp_path, clock)
    with caplog.at_level(logging.ERROR, logger="kiosk.technician.pin_gate"):
        result = g.check("246813", pin_hash)
    assert result.reason == "locked" and result.locked_until == clock.t + 300
    assert "damaged" in caplog.text
    # The lock is written down, so a restart keeps it; it ends after lock_s, not later.
    assert gate(tmp_path, clock).locked_until() == clock.t + 300
    clock.t += 300
    assert g.check("246813", pin_hash).ok


def test_a_state_file_deleted_under_a_locked_gate_does_not_unlock_it(tmp_path, clock, pin_hash):
    g = gate(tmp_path, clock)
    for _ in range(5):
        g.check("0000", pin_hash)
    (tmp_path / "diagnostics" / STATE_FILE).unlink()
    assert g.check("246813", pin_hash).reason == "locked"
    assert (tmp_path / "diagnostics" / STATE_FILE).exists()  # written again


def test_a_clock_set_back_does_not_lengthen_the_lock(tmp_path, clock, pin_hash, caplog):
    g = gate(tmp_path, clock)
    for _ in range(5):
        g.check("0000", pin_hash)
    clock.t -= 86400  # the clock went back a day: the stored end is a day and 5 min away
    with caplog.at_level(logging.WARNING, logger="kiosk.technician.pin_gate"):
        assert g.locked_until() == clock.t + 300
    assert "set back" in caplog.text
    clock.t += 300
    assert gate(tmp_path, clock).check("246813", pin_hash).ok


def test_no_pin_hash_configured_refuses_without_counting(tmp_path, clock):
    g = gate(tmp_path, clock)
    for _ in range(6):
        result = g.check("246813", "")
        assert (result.ok, result.reason, result.locked) == (False, "not-configured", False)
    assert g.attempts_left() == 5


def test_a_malformed_hash_refuses_without_counting(tmp_path, clock, caplog):
    g = gate(tmp_path, clock)
    with caplog.at_level(logging.ERROR, logger="kiosk.technician.pin_gate"):
        result = g.check("246813", "scrypt$n=3,r=8,p=1$AAAA$BBBB")
    assert (result.ok, result.reason, result.attempts_left) == (False, "bad-hash", 5)
    assert "power of 2" in caplog.text


def test_an_unwritable_folder_still_locks_in_memory(tmp_path, clock, pin_hash, caplog,
                                                   monkeypatch):
    folder = tmp_path / "diagnostics"

    def refused(path, data, mode=0o644):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    # Tests run as root, which file modes do not stop: the write itself is refused.
    monkeypatch.setattr("kiosk.technician.pin_gate.write_atomic", refused)
    g = PinGate(folder, clock=clock)
    with caplog.at_level(logging.ERROR, logger="kiosk.technician.pin_gate"):
        results = [g.check("0000", pin_hash) for _ in range(5)]
    assert [r.attempts_left for r in results] == [4, 3, 2, 1, 0]
    assert g.check("246813", pin_hash).reason == "locked"
    assert "cannot be written" in caplog.text
    assert not (folder / STATE_FILE).exists()
