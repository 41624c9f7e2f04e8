"""The one device and paper level table (contract.health), and that the kiosk's diagnostics
and the central's fleet page both judge by it."""

from __future__ import annotations

import pytest

from central.fleet import BAD, OK, WARN, kiosk_status
from central.kiosks import Kiosk
from contract import health
from drivers.base import DeviceState, DeviceStatus, Paper

SPEC_DEVICE_STATES = {"online", "offline", "busy", "hwerror", "nodevice", "usererror"}
SPEC_PAPER_STATES = {"full", "low", "out", "jammed", "unknown"}


def test_the_table_names_every_spec_state_and_no_other():
    assert set(health.DEVICE_LEVELS) == SPEC_DEVICE_STATES == {str(s) for s in DeviceState}
    assert set(health.PAPER_LEVELS) == SPEC_PAPER_STATES == {str(p) for p in Paper}
    assert set(health.DEVICE_LEVELS.values()) | set(health.PAPER_LEVELS.values()) <= set(
        health.LEVELS)


@pytest.mark.parametrize("state, level", [
    ("online", "ok"), ("busy", "warn"), ("offline", "fault"), ("hwerror", "fault"),
    ("nodevice", "fault"), ("usererror", "fault"), ("melted", "fault"),
])
def test_device_levels(state, level):
    assert health.device_level(state) == level


@pytest.mark.parametrize("paper, level", [
    ("full", "ok"), ("low", "warn"), ("unknown", "warn"), (None, "warn"), ("out", "fault"),
    ("jammed", "fault"), ("half", "warn"),
])
def test_paper_levels(paper, level):
    assert health.paper_level(paper) == level


def test_enum_members_are_judged_by_their_spec_strings():
    assert health.device_level(DeviceState.BUSY) == health.device_level("busy")
    assert health.paper_level(Paper.UNKNOWN) == health.paper_level("unknown")


def test_worst():
    assert health.worst() == "ok"
    assert health.worst("ok", "warn") == "warn"
    assert health.worst("warn", "fault", "ok") == "fault"


def _kiosk_device_level(state: str, paper: str) -> str:
    from kiosk.technician.status import _device

    return _device("sim://", DeviceStatus(DeviceState(state), "", Paper(paper)), None,
                   printer=True)["level"]


def _fleet_level(state: str, paper: str) -> str:
    body = {"kiosk_id": "K", "devices": {"printer": {"state": state, "paper": paper}}}
    return kiosk_status(Kiosk("K", "t"), [(100.0, body)], None, 100.0)["level"]


@pytest.mark.parametrize("paper", sorted(SPEC_PAPER_STATES))
@pytest.mark.parametrize("state", sorted(SPEC_DEVICE_STATES))
def test_the_kiosk_and_the_fleet_page_agree(state, paper):
    fleet_name = {"ok": OK, "warn": WARN, "fault": BAD}
    assert _fleet_level(state, paper) == fleet_name[_kiosk_device_level(state, paper)]


def test_a_card_reader_has_no_paper_to_judge():
    body = {"kiosk_id": "K", "devices": {"card_reader": {"state": "online"},
                                         "printer": {"state": "online", "paper": "full"}}}
    row = kiosk_status(Kiosk("K", "t"), [(100.0, body)], None, 100.0)
    assert row["level"] == OK and row["problems"] == []
