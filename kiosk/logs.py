"""Logging for the running kiosk: size-capped rotating files under the data folder, and one
filter, in one place, that masks personal data in every record.

The code never logs names or numbers on purpose; the filter is the net under that rule. It
masks what looks like a resident ID number (alone, inside a longer run of digits such as a
disability card number, spaced 6-8-4, lower-case x, full-width digits) or a mainland mobile
number (``+86``, ``0086``, spaced or hyphenated), and every value ``VISIT_VALUES`` holds: the
name, ID number and sensitive answers of the visit in progress, forgotten when it ends.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from contract.personal import mask_id_number, mask_name, mask_phone, mask_sensitive

LOG_BYTES = 1_000_000  # per file
LOG_FILES = 5  # kept besides the current one

# Full-width digits and signs as ASCII, one character for one, so spans found in the
# translated text are the spans of the original.
_ASCII = str.maketrans("０１２３４５６７８９Ｘｘ＋－　", "0123456789Xx+- ")
# An 18-character resident ID number standing alone (not inside a longer token such as a
# transaction id's hex), whatever its digits say.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
# An ID number anywhere, even inside a longer run of digits (a disability card number is the
# ID number and two more digits), optionally spaced 6-8-4: its birth date must be a date, so
# timestamps and counters are left alone.
_ID_ANYWHERE = re.compile(r"[1-9][0-9]{5}[ -]?(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])"
                          r"(?:0[1-9]|[12][0-9]|3[01])[ -]?[0-9]{3}[0-9Xx]")
# A mainland mobile number: 11 digits from 13-19, maybe +86/0086/86 first, maybe in 3-4-4
# groups; never part of a longer run of digits.
_PHONE = re.compile(r"(?<![0-9+])((?:\+|00)?86[ -]?)?(1[3-9][0-9](?:[ -]?[0-9]{4}){2})(?![0-9])")
_DIGITS = "0123456789"
MIN_VALUE_CHARS = 4  # a shorter sensitive answer ("12") would mask every "12" in the logs


class VisitValues:
    """The personal values of the visit in progress, which the log filter masks wherever
    they appear; the session feeds it and empties it when the visit ends. Qt-free and safe
    to read from any thread: a change builds a new pattern and swaps it in whole."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # (pattern, ASCII upper-case value -> masker), swapped whole so readers on other
        # threads always see a matching pair.
        self._state: tuple[re.Pattern[str] | None, dict[str, Callable[[str], str]]] = (None, {})

    def remember(self, value: str) -> None:
        """Mask ``value``, a sensitive answer (of ``MIN_VALUE_CHARS`` or more), as the
        screen does (``mask_sensitive``)."""
        value = str(value).strip()
        if len(value) >= MIN_VALUE_CHARS:
            self._add(value, mask_sensitive)

    def remember_identity(self, name: str = "", id_number: str = "") -> None:
        """The resident's name (2 characters or more) and ID number."""
        if len(name.strip()) >= 2:
            self._add(name.strip(), mask_name)
        if len(id_number.strip()) >= MIN_VALUE_CHARS:
            self._add(id_number.strip(), mask_id_number)

    def forget(self) -> None:
        """The visit ended: nothing of it is kept."""
        with self._lock:
            self._state = (None, {})

    def __len__(self) -> int:
        return len(self._state[1])

    def spans(self, text: str) -> Iterator[tuple[int, int, str]]:
        """(start, end, masked) for each remembered value in ``text`` (already ASCII)."""
        pattern, maskers = self._state
        if pattern is None:
            return
        for m in pattern.finditer(text):
            start, end = _digit_run(text, m.start(), m.end())
            if (start, end) != m.span():  # inside a longer number: mask all of it
                yield start, end, mask_sensitive(text[start:end])
            else:
                yield start, end, maskers.get(m.group().upper(), mask_sensitive)(m.group())

    def _add(self, value: str, masker: Callable[[str], str]) -> None:
        key = value.translate(_ASCII).upper()
        with self._lock:
            maskers = {**self._state[1], key: masker}
            alternatives = sorted(maskers, key=len, reverse=True)  # longest first
            pattern = re.compile("|".join(map(re.escape, alternatives)), re.IGNORECASE)
            self._state = (pattern, maskers)


# The one registry of the running kiosk (kiosk.visit.session feeds it).
VISIT_VALUES = VisitValues()


def mask_text(text: str, visit_values: VisitValues | None = None) -> str:
    """``text`` with every personal value the filter knows of masked (see the module's
    docstring); everything else, such as transaction ids and timestamps, left as it is."""
    ascii_text = text.translate(_ASCII)
    taken: list[tuple[int, int, str]] = []
    registry = VISIT_VALUES if visit_values is None else visit_values
    for span in _spans(ascii_text, registry):
        if all(span[1] <= start or span[0] >= end for start, end, _ in taken):
            taken.append(span)
    out, last = [], 0
    for start, end, masked in sorted(taken):
        out += [text[last:start], masked]
        last = end
    return "".join(out) + text[last:]


def _spans(text: str, visit_values: VisitValues) -> Iterator[tuple[int, int, str]]:
    """Candidate spans, most trusted first: the visit's own values, then shapes."""
    yield from visit_values.spans(text)
    for m in _ID_ANYWHERE.finditer(text):
        start, end = _digit_run(text, m.start(), m.end())
        if (start, end) == m.span():
            yield start, end, mask_id_number(_digits(m.group()))
        else:  # the whole run: its other digits (a disability's category, grade) too
            yield start, end, mask_sensitive(_digits(text[start:end]))
    for m in _ID_NUMBER.finditer(text):
        yield m.start(), m.end(), mask_id_number(m.group())
    for m in _PHONE.finditer(text):
        yield m.start(), m.end(), (m.group(1) or "") + mask_phone(_digits(m.group(2)))


def _digit_run(text: str, start: int, end: int) -> tuple[int, int]:
    """The span ``start:end`` widened over the digits around it, when it begins or ends
    with a digit: a known value inside a longer number takes the whole number with it."""
    if text[start] in _DIGITS:
        while start > 0 and text[start - 1] in _DIGITS:
            start -= 1
    if text[end - 1] in _DIGITS + "Xx":
        while end < len(text) and text[end] in _DIGITS:
            end += 1
    return start, end


def _digits(text: str) -> str:
    return text.replace(" ", "").replace("-", "")


class MaskingFilter(logging.Filter):
    """Rewrites each record's message (arguments merged in), traceback and stack with
    personal data masked by ``mask_text``."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info)
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


def _private_file_handler(path: Path) -> logging.Handler:
    """The rotating file handler; ``logging.handlers`` (sockets, pickle) is imported here, by
    ``kiosk run``, not by every module that masks (start-up: docs/BENCHMARKS.md)."""
    from logging.handlers import RotatingFileHandler

    class _PrivateRotatingFileHandler(RotatingFileHandler):
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

    return _PrivateRotatingFileHandler(path, maxBytes=LOG_BYTES, backupCount=LOG_FILES,
                                       encoding="utf-8")


def _private_opener(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


def setup_logging(data_dir: Path, level: int = logging.INFO) -> Path:
    """Log to ``<data_dir>/logs/kiosk.log`` (rotated) and stderr, every record masked."""
    folder = data_dir / "logs"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "kiosk.log"
    file_handler = _private_file_handler(path)
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
