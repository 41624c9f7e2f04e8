"""The diagnostics bundle: one ``.zip`` a technician takes away on a USB stick. Qt-free.

It holds the status, the recent logs, the audit log and the configuration, and never
personal data or secrets: the config's ``pin_hash`` and any token value are removed (the
token file is never read into it), and every member's text is scanned for ID and mobile
numbers, the PIN hash and the token, which are masked or removed before it is written.
The zip is put together in memory and written with ``atomic.write_atomic`` (a temporary
name, fsync, rename), so a stick pulled mid-way leaves no file that looks complete.
"""

from __future__ import annotations

import datetime as dt
import glob
import io
import json
import logging
import os
import re
import time
import zipfile
from pathlib import Path

from contract.atomic import write_atomic
from kiosk import __version__
from kiosk.config import SCHEMA, Config
from kiosk.errors import KioskError
from kiosk.logs import mask_text, recent_log_lines
from kiosk.technician.audit import AuditLog

log = logging.getLogger(__name__)

LOG_LINES = 5000
REMOVED = "<removed>"
USB_GLOBS = ("/media/*/*", "/run/media/*/*", "/mnt/*")
# A key holding a secret: pin_hash, and any *token* key that is not a path (token_file).
_SECRET_LINE = re.compile(
    r"""^(?P<key>\s*(?:["']?(?:pin_hash|[A-Za-z0-9_-]*token(?!_file)[A-Za-z0-9_-]*)["']?)\s*=\s*)
        (?P<value>.*)$""", re.VERBOSE)
_PIN_HASH = re.compile(r"scrypt\$[^\s\"']+")


class BundleError(KioskError):
    """The bundle could not be written; one line for the technician."""


def bundle_name(kiosk_id: str, now: float) -> str:
    stamp = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"kiosk-diag-{kiosk_id}-{stamp}.zip"


def export_bundle(dest_dir: Path, *, config: Config, status: dict, audit: AuditLog,
                  log_lines: list[str] | None = None, personal: dict[str, str] | None = None,
                  now: float | None = None) -> Path:
    """Write the bundle into ``dest_dir`` and return its path; BundleError on failure.

    ``log_lines`` defaults to the last ``LOG_LINES`` lines of the kiosk's log files.
    ``personal`` maps values known to be personal (``rejections.personal_values`` of the
    queue: names, ID numbers) to their masked forms; they are replaced wherever they occur.
    """
    now = time.time() if now is None else now
    dest_dir = Path(dest_dir)
    if log_lines is None:
        log_lines = recent_log_lines(config.kiosk.data_dir, LOG_LINES)
    members = _members(config, status, audit, log_lines)
    scrub = _scrubber(config, personal or {})
    path = dest_dir / bundle_name(config.kiosk.id, now)
    try:
        dest_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.fromtimestamp(now, dt.UTC).timetuple()[:6]
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, text in members:
                info = zipfile.ZipInfo(name, date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                zf.writestr(info, scrub(text).encode("utf-8"))
        write_atomic(path, buffer.getvalue())
    except OSError as exc:
        raise BundleError(f"the bundle could not be written to {dest_dir}: "
                          f"{exc.strerror or exc}") from None
    log.info("diagnostics bundle written: %s", path)
    return path


def _members(config: Config, status: dict, audit: AuditLog,
             log_lines: list[str]) -> list[tuple[str, str]]:
    members = [("status.json", json.dumps(status, ensure_ascii=False, indent=2) + "\n"),
               ("config.toml", config_text(config)),
               ("logs/kiosk.log", "".join(line + "\n" for line in log_lines))]
    for path in audit.files():
        try:
            text = path.read_text("utf-8", errors="replace")
        except OSError as exc:
            log.warning("audit file %s left out of the bundle (%s)", path.name, exc.strerror)
            continue
        members.append((f"audit/{path.name}", text))
    members.insert(0, ("README.txt", _readme(config, [n for n, _ in members])))
    return members


def _readme(config: Config, names: list[str]) -> str:
    return "\n".join([
        f"Diagnostics bundle of kiosk {config.kiosk.id}, app version {__version__}.",
        "",
        "status.json      the diagnostics overview (devices, central, queue, menu, disk)",
        "config.toml      the configuration, with pin_hash and any token value removed",
        "logs/kiosk.log   the most recent log lines, ID and mobile numbers masked",
        "audit/*.jsonl    the technicians' audit log, one file per day (kept 90 days)",
        "",
        "No personal data is included: names, ID and mobile numbers are masked, and the",
        "token and PIN hash are never copied. Members:",
        *(f"  {name}" for name in names),
        "",
    ])


def config_text(config: Config) -> str:
    """The config file's text with secrets removed, or the built-in demo configuration."""
    if config.source is None:
        return "# the built-in demo configuration (no file)\n" + _as_toml(config)
    try:
        text = config.source.read_text("utf-8", errors="replace")
    except OSError as exc:
        return f"# {config.source} could not be read ({exc.strerror})\n" + _as_toml(config)
    lines = [f"# {config.source}"]
    for line in text.splitlines():
        match = _SECRET_LINE.match(line)
        lines.append(f'{match.group("key")}""  # {REMOVED}' if match else line)
    return "\n".join(lines) + "\n"


def _as_toml(config: Config) -> str:
    out = []
    sections = {"kiosk": config.kiosk, "central": config.central, "devices": config.devices,
                "diagnostics": config.diagnostics, "voice": config.voice,
                "updates": config.updates}
    for section, keys in SCHEMA.items():
        out.append(f"[{section}]")
        for key in keys:
            value = getattr(sections[section], key)
            if key == "pin_hash":
                value = ""
            if isinstance(value, dict):
                continue  # menu_keys: public keys, written as their own table below
            out.append(f"{key} = {_toml_value(value)}")
        out.append("")
    if config.central.menu_keys:
        out.append("[central.menu_keys]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in config.central.menu_keys.items())
    return "\n".join(out) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps("" if value is None else str(value), ensure_ascii=False)


def _scrubber(config: Config, personal: dict[str, str]):
    """A function that removes the PIN hash and the token from a text and masks personal
    values and numbers."""
    secrets = (config.diagnostics.pin_hash.strip(), _token(config),
               *(h.strip() for h in config.diagnostics.technicians.values()))
    replace = {s: REMOVED for s in secrets if s}
    replace.update((k, v) for k, v in personal.items() if len(k) >= 2)
    order = sorted(replace, key=len, reverse=True)  # a longer value before its parts

    def scrub(text: str) -> str:
        for value in order:
            text = text.replace(value, replace[value])
        return mask_text(_PIN_HASH.sub(REMOVED, text))

    return scrub


def _token(config: Config) -> str:
    """The token, read only to make sure no member carries it; never written anywhere."""
    path = config.central.token_file
    if path is None:
        return ""
    try:
        token = path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""
    return token if len(token) >= 8 else ""  # a tiny "token" would blank ordinary words


def removable_folders(data_dir: Path, globs: tuple[str, ...] = USB_GLOBS,
                      mounted_only: bool = True) -> list[Path]:
    """Writable mounted folders a bundle may go to (USB sticks), then ``<data_dir>/exports``
    as the fallback that is always offered. ``mounted_only=False`` (tests) skips the check
    that a folder is a mount point."""
    found: list[Path] = []
    for pattern in globs:
        for name in sorted(glob.glob(pattern)):
            path = Path(name)
            try:
                usable = (path.is_dir() and (os.path.ismount(path) or not mounted_only)
                          and os.access(path, os.W_OK))
            except OSError:
                usable = False
            if usable and path not in found:
                found.append(path)
    return [*found, Path(data_dir) / "exports"]
