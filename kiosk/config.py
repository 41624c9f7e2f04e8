"""The kiosk's TOML configuration: lookup order, defaults, and strict validation.

Every key is declared once, in ``SCHEMA`` (type, default, check, one-line meaning); the
``*Settings`` classes are its typed view, and README's table and config/kiosk.example.toml
are checked against it (tests/kiosk/test_config_declared.py). A file with an unknown key,
a value of the wrong type, or a file that is not TOML raises ``ConfigError`` with one line
naming the file, the key and what was expected.
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from contract.times import DEFAULT_ZONE, is_zone
from kiosk.config_rules import (
    ConfigError,
    check_technicians,
    check_transport,
    check_value,
    is_hours,
)

log = logging.getLogger(__name__)

SYSTEM_CONFIG = Path("/etc/kiosk/kiosk.toml")
LOCALES = ("zh_CN", "en")
PAPER_WIDTHS = (384, 512, 576)
VOICE_ENGINES = ("espeak-ng", "sim", "none")


@dataclass(frozen=True)
class Key:
    """One configuration key: the single place it is declared (README's table and
    config/kiosk.example.toml are checked against these, tests/kiosk/test_config_declared.py)."""

    type: type | tuple[type, ...]
    default: Any
    expected: str  # what a technician is told was expected
    check: Any = None  # optional predicate on the value
    path: bool = False  # a path, relative to the file's folder
    meaning: str = ""  # one line for README's table and the example file
    convert: Any = None  # optional normalisation of a valid value (e.g. drop a trailing /)


def _positive(v: int) -> bool:
    return v > 0


SCHEMA: dict[str, dict[str, Key]] = {
    "kiosk": {
        "id": Key(str, "ZJ-HZ-0001", "a kiosk id like \"ZJ-HZ-0001\"",
                  lambda v: re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", v) is not None,
                  meaning="the kiosk's id, sent with every transaction and heartbeat"),
        "locale": Key(str, "zh_CN", 'one of "zh_CN", "en"', lambda v: v in LOCALES,
                      meaning='default UI language; `"en"` is also shipped'),
        "idle_timeout_s": Key(int, 60, "a whole number of seconds, at least 15",
                              lambda v: v >= 15,
                              meaning='no touch for this long: "still there?", then home, '
                                      "session wiped"),
        "data_dir": Key(str, "/var/lib/kiosk", "a folder path", path=True,
                        meaning="the queue, receipts, logs and diagnostics live here"),
        "menu_file": Key(str, "", "a menu JSON file path, or \"\"", path=True,
                         meaning="optional: a local menu document used until a newer signed "
                                 "one arrives"),
        # Project additions (documented in README): cursor hiding, service point name.
        "hide_cursor": Key(bool, True, "true or false",
                           meaning="project addition: hide the mouse cursor in kiosk mode"),
        "service_point": Key(str, "", "the service point's name for receipts",
                             meaning="project addition: the service point's name, printed on "
                                     "receipts"),
        "service_phone": Key(str, "", "a phone number of at most 40 characters, or \"\"",
                             lambda v: len(v) <= 40,
                             meaning="project addition: the service point's phone number, "
                                     "shown on the out-of-service screen"),
        "queue_key_file": Key(str, "", 'the queue\'s encryption key file, or "" for '
                              '<data_dir>/queue.key', path=True,
                              meaning="project addition: the queue's AES key file; `\"\"` means "
                                      "`<data_dir>/queue.key` (made with mode 0600)"),
        "retention_h": Key(int, 24, "whole hours, at least 1 (personal data kept after upload)",
                           lambda v: v >= 1,
                           meaning="project addition: hours a transaction's personal data is "
                                   "kept after the central platform accepted it"),
        "rejected_retention_d": Key(int, 30, "whole days, at least 1 (rejected transactions "
                                    "kept for technicians)", lambda v: v >= 1,
                                    meaning="project addition: days a transaction the central "
                                            "rejected is kept (sealed) for technicians"),
        "timezone": Key(str, DEFAULT_ZONE, 'an IANA time zone name such as "Asia/Shanghai"',
                        is_zone,
                        meaning="project addition: the zone of every time people see or hear "
                                "(screen, paper, speech, technician views); the wire and logs "
                                "are UTC"),
        "panel_inches": Key((int, float), 0, "the panel's diagonal in inches (e.g. 10.1, 15.6, "
                            "21.5), or 0 to read it from the display",
                            lambda v: not isinstance(v, bool) and (v == 0 or 5 <= v <= 100),
                            meaning="project addition: the panel's diagonal in inches, for sizes "
                                    "in millimetres; 0 = as the display reports it, else 21.5",
                            convert=float),
        "screen_sleep_after_s": Key(int, 600, "0 (never) or a whole number of seconds, at "
                                    "least 60", lambda v: v == 0 or v >= 60,
                                    meaning="project addition: in the sleep hours, no touch "
                                            "for this long blanks the screen; the touch that "
                                            "wakes it presses nothing; 0 = never"),
        "screen_sleep_hours": Key(str, "22:00-06:00", '"HH:MM-HH:MM" (may cross midnight), '
                                  'or "" for any hour', is_hours,
                                  meaning="project addition: when the screen may sleep, in "
                                          "`kiosk.timezone`; `\"\"` = at any hour"),
    },
    "central": {
        "url": Key(str, "", 'an http(s) URL, or "" for offline-only',
                   lambda v: v == "" or re.match(r"^https?://[^\s/]+", v) is not None,
                   meaning="the central platform's base URL; `\"\"` = offline-only, nothing is "
                           "ever sent",
                   convert=lambda v: v.rstrip("/")),
        "token_file": Key(str, "/etc/kiosk/token", "a file path", path=True,
                          meaning="the file holding this kiosk's bearer token"),
        "ca_file": Key(str, "", 'a CA bundle path, or ""', path=True,
                       meaning='a CA bundle to trust for the central platform; `""` = the '
                               "system's"),
        "sync_interval_s": Key(int, 30, "a positive whole number of seconds", _positive,
                               meaning="seconds between uploads of queued transactions"),
        "menu_poll_s": Key(int, 300, "a positive whole number of seconds", _positive,
                           meaning="seconds between checks for a newer signed menu"),
        "heartbeat_s": Key(int, 60, "a positive whole number of seconds", _positive,
                           meaning="seconds between heartbeats to the central platform"),
        "max_backoff_s": Key(int, 300, "a positive whole number of seconds", _positive,
                             meaning="longest wait between retries after a failed upload"),
        "auth_retry_s": Key(int, 300, "a positive whole number of seconds", _positive,
                            meaning="seconds before retrying after the token was refused"),
        "menu_keys": Key(dict, {}, "a table of key_id = \"<base64 Ed25519 public key>\"",
                         meaning="trusted Ed25519 public keys, key_id = base64 of the raw 32 "
                                 "bytes"),
        "release_keys": Key(dict, {}, "a table of key_id = \"<base64 Ed25519 public key>\"",
                            meaning="project addition: trusted release-signing keys, never "
                                    "the menu keys (docs/UPDATES.md)"),
        "allow_insecure_http": Key(bool, False, "true or false",
                                   meaning="accept a plain `http://` url that is not loopback, "
                                           "for a link encrypted below HTTP (a VPN); warned "
                                           "at every start"),
    },
    "devices": {
        "card_reader": Key(str, "sim:", 'a device URI such as "sim:" or "pcsc:"',
                           meaning="the ID card reader's device URI (see the table below)"),
        "printer": Key(str, "sim:", 'a device URI such as "sim:" or "socket://HOST:9100"',
                       meaning="the receipt printer's device URI (see the table below)"),
        "paper_width_dots": Key(int, 384, "384 (58 mm), 512 or 576 (80 mm)",
                                lambda v: v in PAPER_WIDTHS,
                                meaning="project addition: receipt width, 384 (58 mm), 512 or "
                                        "576 (80 mm)"),
        "allow_simulated": Key(bool, False, "true or false",
                               meaning="let `kiosk run` use simulated (`sim:`) devices; never on a "
                                       "real kiosk"),
    },
    "diagnostics": {
        "pin_hash": Key(str, "", "a PIN hash made by `kiosk diag hash-pin`",
                        meaning="a salted slow hash of one shared, unnamed technician PIN "
                                "(`kiosk diag hash-pin`); name technicians instead"),
        "technicians": Key(dict, {}, 'a table of name = "<hash from kiosk diag hash-pin>"',
                           meaning="project addition: each technician by name, name = the "
                                   "hash of that person's own PIN (6-12 digits)"),
    },
    "voice": {
        "enabled": Key(bool, True, "true or false",
                       meaning="speak each screen's prompt (residents can still mute it)"),
        "volume": Key(int, 80, "a whole number from 0 to 100", lambda v: 0 <= v <= 100,
                      meaning="speech volume, 0 to 100"),
        "rate": Key(int, 150, "words per minute, 80 to 450", lambda v: 80 <= v <= 450,
                    meaning="speech rate in words per minute"),
        "device": Key(str, "default", 'an ALSA device name such as "default" or "plughw:0"',
                      lambda v: v != "", meaning="the ALSA device `aplay` plays to"),
        "engine": Key(str, "espeak-ng", 'one of "espeak-ng", "sim", "none"',
                      lambda v: v in VOICE_ENGINES,
                      meaning="project addition: which voice speaks: espeak-ng, a recorder "
                              "(sim) or none"),
    },
    "updates": {
        "enabled": Key(bool, False, "true or false",
                       meaning="project addition: check for, fetch and switch to signed "
                               "releases (docs/UPDATES.md)"),
        "root": Key(str, "", 'a folder path, or "" for <data_dir>/updates', path=True,
                    meaning="where wheels, slots and the update state live"),
        "check_s": Key(int, 3600, "a positive whole number of seconds", _positive,
                       meaning="seconds between checks for a release"),
        "window": Key(str, "02:00-05:00", 'local times "HH:MM-HH:MM"',
                      lambda v: re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", v) is not None,
                      meaning="the maintenance window: switches happen in it, between visits"),
        "inherit_site": Key(bool, False, "true or false",
                            meaning="tests and development only: slots also see this "
                                    "interpreter's packages"),
    },
}


@dataclass(frozen=True)
class KioskSettings:
    id: str
    locale: str
    idle_timeout_s: int
    data_dir: Path
    menu_file: Path | None
    hide_cursor: bool
    service_point: str
    service_phone: str
    queue_key_file: Path | None
    retention_h: int
    rejected_retention_d: int
    timezone: str
    panel_inches: float = 0
    screen_sleep_after_s: int = 600
    screen_sleep_hours: str = "22:00-06:00"


@dataclass(frozen=True)
class CentralSettings:
    url: str
    token_file: Path | None
    ca_file: Path | None
    sync_interval_s: int
    menu_poll_s: int
    heartbeat_s: int
    max_backoff_s: int
    auth_retry_s: int
    menu_keys: dict[str, str] = field(default_factory=dict)
    release_keys: dict[str, str] = field(default_factory=dict)
    allow_insecure_http: bool = False  # plain http:// to a host that is not loopback


@dataclass(frozen=True)
class DeviceSettings:
    card_reader: str
    printer: str
    paper_width_dots: int
    allow_simulated: bool = False  # `kiosk run` refuses sim: devices unless true


@dataclass(frozen=True)
class DiagnosticsSettings:
    pin_hash: str
    technicians: dict[str, str] = field(default_factory=dict)  # name -> PIN hash


@dataclass(frozen=True)
class VoiceSettings:
    enabled: bool = True
    volume: int = 80
    rate: int = 150
    device: str = "default"
    engine: str = "espeak-ng"


@dataclass(frozen=True)
class UpdateSettings:
    enabled: bool = False
    root: Path | None = None
    check_s: int = 3600
    window: str = "02:00-05:00"
    inherit_site: bool = False


@dataclass(frozen=True)
class Config:
    kiosk: KioskSettings
    central: CentralSettings
    devices: DeviceSettings
    diagnostics: DiagnosticsSettings
    source: Path | None  # None: the built-in demo configuration
    voice: VoiceSettings = field(default_factory=VoiceSettings)
    updates: UpdateSettings = field(default_factory=UpdateSettings)

    @property
    def queue_path(self) -> Path:
        return self.kiosk.data_dir / "queue.db"

    @property
    def is_demo(self) -> bool:
        return self.source is None


# The typed view of each section; its fields are exactly the section's SCHEMA keys.
SECTIONS: dict[str, type] = {
    "kiosk": KioskSettings,
    "central": CentralSettings,
    "devices": DeviceSettings,
    "diagnostics": DiagnosticsSettings,
    "voice": VoiceSettings,
    "updates": UpdateSettings,
}


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "kiosk"


def find_config_path(cli_path: str | None = None) -> Path | None:
    """``--config``, then ``$KIOSK_CONFIG``, then /etc/kiosk/kiosk.toml; None for the demo."""
    env = os.environ.get("KIOSK_CONFIG")
    for origin, candidate in (("--config", cli_path), ("KIOSK_CONFIG", env)):
        if candidate:
            path = Path(candidate).expanduser().resolve()
            if not path.is_file():
                raise ConfigError(f"{path}: configuration file not found (given by {origin})")
            return path
    return SYSTEM_CONFIG if SYSTEM_CONFIG.is_file() else None


def load_config(cli_path: str | None = None) -> Config:
    path = find_config_path(cli_path)
    if path is None:
        return demo_config()
    return load_config_file(path)


def demo_config(data_dir: Path | None = None) -> Config:
    """The built-in configuration: simulated devices, no central, data in the user's folder."""
    values = _defaults()
    values["kiosk"]["id"] = "DEMO-0001"
    values["kiosk"]["data_dir"] = str(data_dir or user_data_dir())
    values["kiosk"]["hide_cursor"] = False
    values["kiosk"]["service_point"] = "示范便民服务点 Demo service point"
    return _build(values, base=None, source=None)


def load_config_file(path: Path) -> Config:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text; expected a TOML file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); expected a TOML file") from None
    return parse_config(data, path)


def parse_config(data: dict, path: Path) -> Config:
    values = _defaults()
    for section, table in data.items():
        if section not in SCHEMA:
            known = ", ".join(f"[{s}]" for s in SCHEMA)
            raise ConfigError(f"{path}: unknown section [{section}]; expected one of {known}")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: {section}: expected a table [{section}]")
        for key, value in table.items():
            spec = SCHEMA[section].get(key)
            where = f"{path}: [{section}] {key}"
            if spec is None:
                known = ", ".join(SCHEMA[section])
                raise ConfigError(f"{where}: unknown key; expected one of {known}")
            check_value(where, spec, value)
            values[section][key] = value
    for key_id, pub in values["central"]["menu_keys"].items():
        if not isinstance(pub, str) or not pub:
            raise ConfigError(
                f"{path}: [central.menu_keys] {key_id}: expected a base64 Ed25519 public key string"
            )
    check_transport(path, values["central"])
    check_technicians(path, values["diagnostics"]["technicians"])
    return _build(values, base=path.parent, source=path)


def _defaults() -> dict[str, dict[str, Any]]:
    return {s: {k: (dict(spec.default) if isinstance(spec.default, dict) else spec.default)
                for k, spec in keys.items()} for s, keys in SCHEMA.items()}


def _resolve(value: str, base: Path | None) -> Path | None:
    if not value:
        return None
    p = Path(value).expanduser()
    if base is not None and not p.is_absolute():
        p = base / p
    return p


def _value(spec: Key, value: Any, base: Path | None) -> Any:
    if spec.path:
        return _resolve(value, base)
    if isinstance(value, dict):
        return dict(value)
    return spec.convert(value) if spec.convert is not None else value


def _build(values: dict[str, dict[str, Any]], base: Path | None, source: Path | None) -> Config:
    settings = {
        section: SECTIONS[section](**{key: _value(spec, values[section][key], base)
                                      for key, spec in keys.items()})
        for section, keys in SCHEMA.items()
    }
    return Config(**settings, source=source)
