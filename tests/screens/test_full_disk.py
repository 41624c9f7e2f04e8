"""A full disk under the data folder (a 2 MiB tmpfs): a confirm that cannot be stored says
plainly that nothing was submitted and shows no reference, nothing half-written is left, the
technician's overview says "disk full", and the kiosk recovers by itself when space is back."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest
from kiosk_helpers import current_screen, find, touch, wait_screen, write_config
from PySide6.QtWidgets import QLabel

from kiosk.app import create_window
from kiosk.demo.simulators import add_simulator_controls
from kiosk.technician.status import collect_status
from offline_queue import QueueDiskFullError


@pytest.fixture
def small_disk(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs",
                           str(data)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {done.stderr.strip()}")
    try:
        yield data
    finally:
        subprocess.run(["umount", "-l", str(data)], check=False)


@pytest.fixture
def window(qtbot, tmp_path, small_disk):
    win = create_window(str(write_config(tmp_path)))
    add_simulator_controls(win)
    qtbot.addWidget(win)
    win.resize(1920, 1080)
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.locked = False
    win.close()


def fill(path) -> None:
    """Write ``path`` until the filesystem has no byte left."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)


def confirm_job_vacancies(qtbot, window) -> None:
    touch(qtbot, window, "category:employment")
    touch(qtbot, window, "tile:job-vacancies")
    wait_screen(qtbot, window, "confirm")
    touch(qtbot, window, "btn:confirm")


def test_full_disk_refuses_plainly_then_recovers(qtbot, window, small_disk):
    queue = window.queue  # the open OfflineQueue
    assert (small_disk / "queue.reserve").is_file()
    # Old logs and a kept receipt are there to give way before the queue does.
    (small_disk / "logs").mkdir(exist_ok=True)
    (small_disk / "logs" / "kiosk.log.1").write_bytes(b"old log\n" * 1000)
    (small_disk / "reprints").mkdir(exist_ok=True)
    (small_disk / "reprints" / "kept.json").write_text("{}")
    fill(small_disk / "filler")
    # The reserve lets a confirm in progress commit; then nothing is left.
    with pytest.raises(QueueDiskFullError):
        for _ in range(1000):
            queue.enqueue("warm-up", {"pad": "x" * 2000})
    assert not (small_disk / "logs" / "kiosk.log.1").exists(), "old logs give way first"
    assert not (small_disk / "reprints" / "kept.json").exists(), "kept receipts give way"
    fill(small_disk / "filler2")
    with pytest.raises(QueueDiskFullError):
        for _ in range(100):
            queue.enqueue("warm-up", {"pad": "x"})
    before = queue.counts()["pending"]

    confirm_job_vacancies(qtbot, window)
    wait_screen(qtbot, window, "error")
    message = find(window, "label:message", QLabel).text()
    assert "没有提交" in message and "没有业务编号" in message
    assert not [w for w in window.findChildren(QLabel, "label:reference") if w.isVisible()]
    assert window.printer.printed == []
    assert queue.counts()["pending"] == before, "nothing half-written"
    assert queue._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    status = collect_status(window.config, devices={}, device_since={}, sync=None,
                            queue=queue, menu_version=0, menu_rejected=None,
                            started_at=None, central_probe=None)
    assert status["disk"]["full"] and status["disk"]["state"] == "disk full"
    assert status["disk"]["level"] == "fault"
    touch(qtbot, window, "btn:finish")
    wait_screen(qtbot, window, "home")

    # Space comes back: the next confirm is stored, with no one stepping in.
    (small_disk / "filler").unlink()
    (small_disk / "filler2").unlink()
    confirm_job_vacancies(qtbot, window)
    wait_screen(qtbot, window, "done")
    assert queue.counts()["pending"] == before + 1
    assert not queue.space.disk_full
    assert (small_disk / "queue.reserve").is_file()
    assert current_screen(window) == "screen:done"
