"""Issue #12 end to end: after a real visit, its upload to a real central and the purge, no
file in the kiosk's data folder holds the resident's data in clear, and every file is 0600."""

from __future__ import annotations

import logging
import stat
import time

import pytest
from e2e_setup import FAST
from kiosk_helpers import touch, type_keys, wait_screen

from kiosk.logs import setup_logging

KIOSK, TOKEN = "E2E-ATREST-01", "atrest-token-1234"
NAME, ID_NUMBER = "张建国", "330106195503120016"  # the simulator's first sample card
PHONE, AMOUNT = "13987654321", "86420"


@pytest.fixture
def central(start_central):
    return start_central({KIOSK: {"token": TOKEN}})


@pytest.fixture
def window(kiosk, tmp_path, central):
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    setup_logging(tmp_path / "data")  # as `kiosk run` does: the log is in the data folder too
    win = kiosk(KIOSK, TOKEN, central, **FAST)
    yield win
    win.close()  # before the log handlers go
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def full_visit(qtbot, window) -> str:
    touch(qtbot, window, "category:housing-fund")
    wait_screen(qtbot, window, "services")
    touch(qtbot, window, "tile:hpf-withdraw")
    wait_screen(qtbot, window, "identify")
    touch(qtbot, window, "sim:card:0")
    wait_screen(qtbot, window, "form")
    service = window.ctl.session.menu.service("hpf-withdraw")
    reason = next(f for f in service.fields if f.id == "reason").choices[0].id
    touch(qtbot, window, f"choice:reason:{reason}")
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, AMOUNT)
    touch(qtbot, window, "btn:next")
    type_keys(qtbot, window, PHONE)
    touch(qtbot, window, "btn:next")
    wait_screen(qtbot, window, "confirm")
    touch(qtbot, window, "btn:confirm")
    wait_screen(qtbot, window, "done")
    tx_id = window.ctl.session.visit.transaction_id
    qtbot.waitUntil(lambda: window.ctl.session.visit.printed is True, timeout=5000)
    touch(qtbot, window, "btn:finish")
    return tx_id


def test_no_resident_data_in_clear_after_visit_upload_and_purge(
    qtbot, window, central, tmp_path
):
    tx_id = full_visit(qtbot, window)
    qtbot.waitUntil(lambda: central.store.transaction(tx_id) is not None, timeout=15000)
    qtbot.waitUntil(lambda: window.queue.counts()["sent"] == 1, timeout=5000)
    uploaded = central.store.transaction(tx_id)
    assert PHONE in str(uploaded) and ID_NUMBER in str(uploaded)  # the right data went up

    # the purge, as the kiosk's hourly timer runs it, at a time past the retention
    assert window.queue.purge_personal(0, now=time.time() + 2 * 3600) == 1
    assert window.queue.counts() == {"pending": 0, "sent": 0, "rejected": 0}

    data = tmp_path / "data"
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "queue.db" for p in files) and any(p.suffix == ".log" for p in files)
    secrets = [NAME, ID_NUMBER, PHONE, AMOUNT]  # the id is random: logs may name it
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        raw = path.read_bytes()
        for secret in secrets:
            for encoded in (secret.encode(), secret.encode("utf-16-le"),
                            secret.encode("gb18030")):
                assert encoded not in raw, (path, secret)
        # The service id is in the menu the kiosk keeps (public, not about anyone); nowhere
        # else may it say which service a resident used.
        if "menu" not in path.name:
            assert b"hpf-withdraw" not in raw, path
