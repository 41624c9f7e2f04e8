"""The heartbeat body follows section 3 of the central API."""

from __future__ import annotations

from drivers.base import DeviceState, DeviceStatus, Paper
from kiosk import __version__
from uplink.heartbeat import build_heartbeat


def test_heartbeat_has_the_spec_shape():
    body = build_heartbeat(
        kiosk_id="ZJ-HZ-0001", app_version=__version__, menu_version=12, now=1795512660.0,
        counts={"pending": 3, "sent": 9, "rejected": 0}, oldest_pending_s=420.7,
        devices={"card_reader": DeviceStatus(DeviceState.ONLINE, "ACS ACR39U 00 00"),
                 "printer": DeviceStatus(DeviceState.ONLINE, "socket://10.0.0.5:9100",
                                         Paper.LOW)},
        menu_rejected={"version": 13, "reason": "signature does not verify"})
    assert body == {
        "kiosk_id": "ZJ-HZ-0001",
        "time": "2026-11-24T09:31:00Z",
        "app_version": __version__,
        "menu_version": 12,
        "menu_rejected": {"version": 13, "reason": "signature does not verify"},
        "queue": {"pending": 3, "oldest_pending_s": 420, "rejected": 0},
        "devices": {
            "card_reader": {"state": "online", "detail": "ACS ACR39U 00 00"},
            "printer": {"state": "online", "paper": "low", "detail": "socket://10.0.0.5:9100"},
        },
    }


def test_unknown_devices_and_empty_queue():
    body = build_heartbeat(kiosk_id="K", app_version="0.1", menu_version=1, counts={},
                           oldest_pending_s=None, devices={}, sync={"auth_failed": True})
    assert body["queue"] == {"pending": 0, "oldest_pending_s": None, "rejected": 0}
    assert body["devices"]["printer"]["paper"] == "unknown"
    assert body["devices"]["card_reader"]["state"] in {"online", "offline", "busy", "hwerror",
                                                       "nodevice", "usererror"}
    assert body["menu_rejected"] is None and body["sync"] == {"auth_failed": True}
