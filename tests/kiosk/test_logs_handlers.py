"""Every handler masks: an ID or mobile number logged by any logger, with arguments or in a
traceback, never reaches a handler's output whole, including the CLI's stderr handler."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.logs import MaskingFilter, mask_handlers, recent_log_lines, setup_logging

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER, PHONE = "330106199001011234", "13812345678"


@pytest.fixture
def fresh_root():
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    for handler in saved[0]:
        root.removeHandler(handler)
    yield root
    for handler in root.handlers[:]:
        root.removeHandler(handler)
        handler.close()
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def log_everywhere() -> None:
    for name in ("kiosk", "kiosk.shell.controller", "offline_queue.queue", "central.server",
                 "urllib3.connectionpool", "some.library.deep.down", ""):
        logger = logging.getLogger(name)
        logger.info("id %s phone %s", ID_NUMBER, PHONE)
        logger.warning(f"inline {ID_NUMBER}")
        try:
            raise ValueError(f"bad {ID_NUMBER} / {PHONE}")
        except ValueError:
            logger.exception("failed for %s", PHONE)


def test_every_handler_of_the_root_masks_every_logger(fresh_root, tmp_path):
    streams = [io.StringIO(), io.StringIO()]
    for stream in streams:
        fresh_root.addHandler(logging.StreamHandler(stream))
    fresh_root.setLevel(logging.INFO)
    path = setup_logging(tmp_path)
    log_everywhere()
    for handler in fresh_root.handlers:
        handler.flush()
    outputs = [s.getvalue() for s in streams] + [path.read_text("utf-8")]
    for text in outputs:
        assert text.count("330106********1234") == 7 * 3  # info, warning, traceback
        assert ID_NUMBER not in text and PHONE not in text
        assert "Traceback" in text  # the traceback is there, masked


def test_mask_handlers_is_idempotent(fresh_root, tmp_path):
    logging.basicConfig(level=logging.INFO, stream=io.StringIO())
    mask_handlers()
    setup_logging(tmp_path)  # what `kiosk run` does after the CLI's basicConfig
    mask_handlers()
    for handler in fresh_root.handlers:
        assert sum(isinstance(f, MaskingFilter) for f in handler.filters) == 1


def test_the_cli_stderr_handler_masks(tmp_path):
    script = (
        "import logging, kiosk.cli.commands as cli\n"
        "def dispatch(args):\n"
        "    log = logging.getLogger('uplink.uploader')\n"
        f"    log.warning('upload of %s failed', '{ID_NUMBER}')\n"
        f"    logging.getLogger('kiosk').info('phone {PHONE}')\n"
        "    return 0\n"
        "cli._dispatch = dispatch\n"
        "raise SystemExit(cli.main(['queue', 'status']))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                            text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "upload of 330106********1234 failed" in result.stderr
    assert "phone 138****5678" in result.stderr
    assert ID_NUMBER not in result.stderr and PHONE not in result.stderr


def test_recent_log_lines_reads_rotated_files_newest_last_and_masks_again(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "kiosk.log.2").write_text("a1\na2\n")
    (folder / "kiosk.log.1").write_text(f"b1 {ID_NUMBER}\nb2\n")
    (folder / "kiosk.log").write_text("c1\nc2\n")
    (folder / "kiosk.log.bak").write_text("not ours\n")
    assert recent_log_lines(tmp_path, 5) == ["a2", "b1 330106********1234", "b2", "c1", "c2"]
    assert recent_log_lines(tmp_path, 100)[0] == "a1"
    assert recent_log_lines(tmp_path, 0) == []
    assert recent_log_lines(tmp_path / "nowhere", 10) == []
