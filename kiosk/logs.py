"""Logging for the running kiosk: size-capped rotating files under the data folder, and one
filter, in one place, that masks resident ID numbers and mobile numbers in every record.

The code never logs names or numbers on purpose; the filter is the net under that rule.
"""

from __future__ import annotations

import errno
import logging
import logging.handlers
import os
import re
import sys
import time
from pathlib import Path

from contract.personal import mask_id_number, mask_phone

LOG_BYTES = 1_000_000  # per file
LOG_FILES = 5  # kept besides the current one

# An 18-character resident ID number or an 11-digit mainland mobile number, standing alone
# (not inside a longer run of digits, such as a transaction id's hex or a timestamp).
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")
_PHONE = re.compile(r"(?<![0-9A-Za-z])1[3-9]\d{9}(?![0-9A-Za-z])")


def mask_text(text: str) -> str:
    text = _ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    return _PHONE.sub(lambda m: mask_phone(m.group()), text)


class MaskingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in) with personal numbers masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


class UtcFormatter(logging.Formatter):
    """Each line starts with its time in RFC 3339 UTC (``2026-12-02T17:15:48Z``): logs are
    read beside the central's, never in the process's ``TZ``."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%SZ"
    default_msec_format = None  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")


class _PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """Log files are created 0600 (the data folder's rule), whatever the umask; an older
    looser file is tightened when it is opened. On a full disk a record is dropped, never
    raised: logs give way before the queue does."""

    dropped = 0

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's name)
        exc = sys.exc_info()[1]
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            self.dropped += 1
            return
        super().handleError(record)

    def _open(self):
        stream = open(self.baseFilename, self.mode, encoding=self.encoding,  # noqa: SIM115
                      errors=self.errors, opener=_private_opener)
        os.chmod(self.baseFilename, 0o600)
        return stream


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def setup_logging(data_dir: Path, level: int = logging.INFO) -> Path:
    """Log to ``<data_dir>/logs/kiosk.log`` (rotated) and stderr, every record masked."""
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "kiosk.log"
    file_handler = _PrivateRotatingFileHandler(
        path, maxBytes=LOG_BYTES, backupCount=LOG_FILES, encoding="utf-8")
    formatter = UtcFormatter()
    root = logging.getLogger()
    root.setLevel(level)
    for handler in [*root.handlers, file_handler]:
        handler.setFormatter(formatter)
    root.addHandler(file_handler)
    mask_handlers(root)
    return path


def mask_handlers(logger: logging.Logger | None = None) -> None:
    """Attach the MaskingFilter to every handler of ``logger`` (the root logger by default)
    that lacks one. Records of every logger reach the root's handlers, so this covers them
    all; the CLI calls it after ``basicConfig``, the app through ``setup_logging``."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


def drop_old_logs(data_dir: Path) -> int:
    """Delete the rotated log files (the disk is full: they give way before the queue);
    returns how many went. The current file stays."""
    dropped = 0
    for path in log_files(data_dir):
        if path.name != "kiosk.log":
            path.unlink(missing_ok=True)
            dropped += 1
    return dropped


def log_files(data_dir: Path) -> list[Path]:
    """The kiosk's log files, oldest first (``kiosk.log.5`` ... ``kiosk.log.1``, ``kiosk.log``)."""
    folder = data_dir / "logs"
    rotated = []
    for path in folder.glob("kiosk.log.*"):
        suffix = path.name.rsplit(".", 1)[1]
        if suffix.isdigit():
            rotated.append((int(suffix), path))
    current = folder / "kiosk.log"
    return [p for _, p in sorted(rotated, reverse=True)] + ([current] if current.is_file() else [])


def recent_log_lines(data_dir: Path, n: int = 200) -> list[str]:
    """The last ``n`` lines of the kiosk's logs, newest last, masked once more (the files
    were written masked; this guards against a file written some other way)."""
    if n <= 0:
        return []
    lines: list[str] = []
    for path in reversed(log_files(data_dir)):
        try:
            text = path.read_text("utf-8", errors="replace")
        except OSError:
            continue
        lines = text.splitlines()[-(n - len(lines)):] + lines
        if len(lines) >= n:
            break
    return [mask_text(line) for line in lines]
