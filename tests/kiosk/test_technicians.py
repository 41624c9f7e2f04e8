"""Technicians by name: the PIN says who; lock-outs escalate across restarts and fail closed;
the heartbeat reports them and the fleet page shows them."""

from __future__ import annotations

import json

import pytest

from kiosk.technician.pin import UNNAMED, hash_pin, identify, technician_hashes
from kiosk.technician.pin_gate import MAX_LOCK_S, STATE_FILE, PinGate, read_status

PINS = {"wang-wei": "135790", "li-na": "246802"}


class Clock:
    def __init__(self, t: float = 1_800_000_000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(scope="module")
def hashes() -> dict[str, str]:
    return {name: hash_pin(pin) for name, pin in PINS.items()}


def test_the_pin_names_the_technician(hashes):
    assert identify("135790", hashes) == ("wang-wei", [])
    assert identify("246802", hashes) == ("li-na", [])
    assert identify("000000", hashes) == (None, [])


def test_the_shared_pin_hash_is_the_unnamed_technician(hashes):
    shared = hashes["li-na"]
    both = technician_hashes({"wang-wei": hashes["wang-wei"]}, shared)
    assert identify("246802", both) == (UNNAMED, [])


def test_a_malformed_hash_does_not_stop_the_others(hashes):
    found, bad = identify("135790", {"broken": "scrypt$nonsense", **hashes})
    assert found == "wang-wei" and bad == ["broken"]


def test_an_old_4_digit_hash_still_opens_but_is_weak(tmp_path):
    from kiosk.technician import pin

    salt = b"s" * 16
    digest = pin._scrypt("2468", salt, pin.N, pin.R, pin.P, pin.HASH_BYTES)
    old = f"scrypt$n={pin.N},r={pin.R},p={pin.P}${pin._b64(salt)}${pin._b64(digest)}"
    result = PinGate(tmp_path, clock=Clock()).check("2468", old)
    assert result.ok and result.weak and result.technician == UNNAMED


def test_the_gate_says_who_opened(tmp_path, hashes):
    result = PinGate(tmp_path, clock=Clock()).check("246802", hashes)
    assert result.ok and result.technician == "li-na" and not result.weak


def lock_out(gate: PinGate, hashes) -> object:
    for _ in range(5):
        result = gate.check("999999", hashes)
    assert result.newly_locked
    return result


def test_lock_outs_double_up_to_a_day_and_survive_restarts(tmp_path, hashes):
    hashes = {"wang-wei": hashes["wang-wei"]}  # one scrypt per wrong PIN is enough here
    clock = Clock()
    lengths = []
    for _ in range(11):
        gate = PinGate(tmp_path, clock=clock)  # a restart before every round
        result = lock_out(gate, hashes)
        lengths.append(result.locked_until - clock.t)
        restarted = PinGate(tmp_path, clock=clock)
        assert restarted.check(PINS["wang-wei"], hashes).reason == "locked"
        assert restarted.locked_until() == result.locked_until
        clock.t = result.locked_until
    assert lengths[:5] == [300, 600, 1200, 2400, 4800]
    assert lengths[-1] == MAX_LOCK_S and max(lengths) == MAX_LOCK_S
    # A right PIN once the lock is served starts the count again.
    gate = PinGate(tmp_path, clock=clock)
    assert gate.check(PINS["wang-wei"], hashes).ok
    assert lock_out(gate, hashes).locked_until - clock.t == 300


def test_a_clock_set_back_is_held_to_the_escalated_length(tmp_path, hashes):
    clock = Clock()
    gate = PinGate(tmp_path, clock=clock)
    first = lock_out(gate, hashes)
    clock.t = first.locked_until
    second = lock_out(gate, hashes)  # 600 s
    clock.t -= 10 * 86400  # set back ten days
    until = PinGate(tmp_path, clock=clock).locked_until()
    assert until == clock.t + 600 and second.locked_until > until


def test_a_damaged_state_fails_closed(tmp_path, hashes):
    (tmp_path / STATE_FILE).write_text("{not json")
    assert read_status(tmp_path)["damaged"] is True  # the heartbeat says so
    gate = PinGate(tmp_path, clock=Clock())
    assert gate.check(PINS["li-na"], hashes).reason == "locked"
    assert read_status(tmp_path)["locked_until"] is not None


def test_read_status_reports_a_lock_while_it_lasts(tmp_path, hashes):
    clock = Clock()
    result = lock_out(PinGate(tmp_path, clock=clock), hashes)
    assert read_status(tmp_path, now=clock.t) == {
        "locked_until": result.locked_until, "failures": 0, "lockouts": 1}
    assert read_status(tmp_path, now=result.locked_until)["locked_until"] is None
    assert json.loads((tmp_path / STATE_FILE).read_text())["lockouts"] == 1


def test_the_heartbeat_carries_the_lock_out_and_the_fleet_shows_it():
    from central.fleet import kiosk_status
    from central.kiosks import Kiosk
    from uplink.heartbeat import build_heartbeat

    body = build_heartbeat(kiosk_id="K", app_version="0.1", menu_version=1, counts={},
                           oldest_pending_s=None, devices={}, now=1795512660.0,
                           technician={"locked_until": 1795513260.0, "failures": 0,
                                       "lockouts": 2})
    assert body["technician"] == {"locked_until": "2026-11-24T09:41:00Z", "failures": 0,
                                  "lockouts": 2}
    row = kiosk_status(Kiosk("K", "t"), [(100.0, body)], None, 100.0)
    texts = [p["text"] for p in row["problems"] if p["level"] == "bad"]
    assert "technician PIN entry locked until 2026-11-24T09:41:00Z (2 lock-outs in a row)" \
        in texts
    quiet = build_heartbeat(kiosk_id="K", app_version="0.1", menu_version=1, counts={},
                            oldest_pending_s=None, devices={},
                            technician={"locked_until": None, "failures": 0, "lockouts": 0})
    row = kiosk_status(Kiosk("K", "t"), [(100.0, quiet)], None, 100.0)
    assert not any("technician" in p["text"] for p in row["problems"])
