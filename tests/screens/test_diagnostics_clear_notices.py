"""The diagnostics screen's "Clear queue notices": a kiosk that started on a corrupt queue
reports what could not be read (queue tile, heartbeat queue.unreadable, the kiosk's notice)
until a technician clears it here; the clearing is audited with the technician's name."""

from __future__ import annotations

from pathlib import Path

import pytest
from diag_helpers import audit_entries, close_window, diag_toml, enter, make_window, sync_worker
from kiosk_helpers import touch
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QLabel

TOKEN = "t0k3n-notices"


def feedback(window) -> str:
    return window.router.current.feedback.text()


def run(qtbot, window, button: str) -> str:
    touch(qtbot, window, button)
    qtbot.waitUntil(lambda: window.router.current.feedback.property("level")
                    in ("ok", "warn", "fault"), timeout=10000)
    return feedback(window)


def test_clearing_the_notices_of_a_corrupt_queue(qtbot, tmp_path, start_central):
    central = start_central({"DIAG-0001": {"token": TOKEN}})
    (tmp_path / "token").write_text(TOKEN)
    config = diag_toml(tmp_path, central=f'[central]\nurl = "{central.url}"\n'
                                          'token_file = "token"\nheartbeat_s = 3600\n')
    text = config.read_text(encoding="utf-8")  # the PIN is li_wei's: the audit says who
    config.write_text(text.replace('pin_hash = "', '[diagnostics.technicians]\nli_wei = "')
                      .replace("[diagnostics]\n", "", 1), encoding="utf-8")
    data = tmp_path / "data"
    data.mkdir()
    (data / "queue.db").write_bytes(b"not a database" * 500)  # found corrupt at start
    win = make_window(qtbot, config)
    try:
        worker = sync_worker(qtbot, win)
        qtbot.waitUntil(lambda: (central.store.latest_heartbeat("DIAG-0001") or {})
                        .get("queue", {}).get("unreadable") is not None, timeout=20000)
        (notice,) = central.store.latest_heartbeat("DIAG-0001")["queue"]["unreadable"]
        moved = data / notice["file"]
        assert moved.exists() and notice["unreadable"] is None

        enter(qtbot, win)
        screen = win.router.current
        qtbot.waitUntil(lambda: screen.status is not None, timeout=8000)
        assert screen.tiles["queue"].level == "warn"
        assert "队列文件损坏：? 笔交易无法读取" in screen.tiles["queue"].detail()
        assert "queue database was corrupt" in screen.tiles["kiosk"].detail()

        said = run(qtbot, win, "btn:diag-clear-notices")
        assert "已清除 2 条" in said, said  # the queue's notice and the kiosk's "moved to"
        lines = "\n".join(w.text() for w in screen.panel.findChildren(QLabel))
        assert notice["file"] in lines
        assert not moved.exists()
        entry = [e for e in audit_entries(win) if e["event"] == "clear-notices"][-1]
        assert (entry["outcome"], entry["technician"]) == ("ok", "li_wei")
        assert entry["detail"]["files"] == [notice["file"]]

        before = worker.status.last_heartbeat_at
        worker.sync_now()  # the next heartbeat, without waiting an hour for it
        qtbot.waitUntil(lambda: worker.status.last_heartbeat_at != before, timeout=15000)
        beat = central.store.latest_heartbeat("DIAG-0001")
        assert "unreadable" not in beat["queue"]
        assert not any("queue database was corrupt" in n
                       for n in beat.get("sync", {}).get("notices", []))
        screen.close_panel()
        qtbot.waitUntil(lambda: screen.tiles["queue"].level == "ok", timeout=8000)

        qtbot.waitUntil(lambda: not screen.buttons["btn:diag-clear-notices"].isVisible(),
                        timeout=8000)  # nothing left to clear: the button is gone
        outcomes = []  # the action itself, asked again, says so
        screen.actions.clear_notices(outcomes.append)
        qtbot.waitUntil(lambda: bool(outcomes), timeout=8000)
        assert outcomes[0].text == "没有要清除的队列提示"
        entry = [e for e in audit_entries(win) if e["event"] == "clear-notices"][-1]
        assert entry["outcome"] == "none"
    finally:
        close_window(win)


@pytest.mark.parametrize("size", [(1280, 800), (1920, 1080), (1080, 1920)])
def test_the_button_shows_only_with_something_to_clear_and_fits(qtbot, tmp_path, size):
    data = tmp_path / "data"
    data.mkdir()
    (data / "queue.db").write_bytes(b"not a database" * 500)
    win = make_window(qtbot, diag_toml(tmp_path), size=size)
    try:
        enter(qtbot, win)
        screen = win.router.current
        button = screen.buttons["btn:diag-clear-notices"]
        qtbot.waitUntil(button.isVisible, timeout=8000)
        assert button.text() == "清除队列提示"
        qtbot.wait(100)  # let the layout settle after the button appeared
        shown = [b for b in screen.buttons.values() if b.isVisible()]
        assert len(shown) == 11
        for b in shown:  # big enough, inside the screen, none over another
            box = b.geometry().translated(b.parentWidget().mapTo(screen, QPoint(0, 0)))
            assert box.height() >= 90 and screen.rect().contains(box), (b.objectName(), box)
            assert not any(box.intersects(o.geometry().translated(
                o.parentWidget().mapTo(screen, QPoint(0, 0)))) for o in shown if o is not b)
        feedback = screen.feedback.geometry().translated(
            screen.feedback.parentWidget().mapTo(screen, QPoint(0, 0)))
        assert screen.rect().contains(feedback) and feedback.height() >= 60
        win.grab().save(str(Path(tmp_path) / f"diag-{size[0]}x{size[1]}.png"))
        run(qtbot, win, "btn:diag-clear-notices")
        qtbot.waitUntil(lambda: not button.isVisible(), timeout=8000)
    finally:
        close_window(win)
