"""The kiosk's TOML configuration: lookup order, defaults, and strict validation.

Every key is declared once in ``SCHEMA``; a file with an unknown key, a value of the
wrong type, or a file that is not TOML raises ``ConfigError`` with one line naming the
file, the key and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SYSTEM_CONFIG = Path("/etc/kiosk/kiosk.toml")
LOCALES = ("zh_CN", "en")
PAPER_WIDTHS = (384, 512, 576)
VOICE_ENGINES = ("espeak-ng", "sim", "none")


class ConfigError(Exception):
    """A configuration that cannot be used; the message is one line for a technician."""


@dataclass(frozen=True)
class Key:
    type: type | tuple[type, ...]
    default: Any
    expected: str  # what a technician is told was expected
    check: Any = None  # optional predicate on the value
    path: bool = False  # a path, relative to the file's folder


def _positive(v: int) -> bool:
    return v > 0


SCHEMA: dict[str, dict[str, Key]] = {
    "kiosk": {
        "id": Key(str, "ZJ-HZ-0001", "a kiosk id like \"ZJ-HZ-0001\"",
                  lambda v: re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", v) is not None),
        "locale": Key(str, "zh_CN", 'one of "zh_CN", "en"', lambda v: v in LOCALES),
        "idle_timeout_s": Key(int, 60, "a whole number of seconds, at least 15",
                              lambda v: v >= 15),
        "data_dir": Key(str, "/var/lib/kiosk", "a folder path", path=True),
        "menu_file": Key(str, "", "a menu JSON file path, or \"\"", path=True),
        # Project additions (documented in README): cursor hiding, service point name.
        "hide_cursor": Key(bool, True, "true or false"),
        "service_point": Key(str, "", "the service point's name for receipts"),
        "queue_key_file": Key(str, "", 'the queue\'s encryption key file, or "" for '
                              '<data_dir>/queue.key', path=True),
        "retention_h": Key(int, 24, "whole hours, at least 1 (personal data kept after upload)",
                           lambda v: v >= 1),
    },
    "central": {
        "url": Key(str, "", 'an http(s) URL, or "" for offline-only',
                   lambda v: v == "" or re.match(r"^https?://[^\s/]+", v) is not None),
        "token_file": Key(str, "/etc/kiosk/token", "a file path", path=True),
        "ca_file": Key(str, "", 'a CA bundle path, or ""', path=True),
        "sync_interval_s": Key(int, 30, "a positive whole number of seconds", _positive),
        "menu_poll_s": Key(int, 300, "a positive whole number of seconds", _positive),
        "heartbeat_s": Key(int, 60, "a positive whole number of seconds", _positive),
        "max_backoff_s": Key(int, 300, "a positive whole number of seconds", _positive),
        "auth_retry_s": Key(int, 300, "a positive whole number of seconds", _positive),
        "menu_keys": Key(dict, {}, "a table of key_id = \"<base64 Ed25519 public key>\""),
    },
    "devices": {
        "card_reader": Key(str, "sim:", 'a device URI such as "sim:" or "pcsc:"'),
        "printer": Key(str, "sim:", 'a device URI such as "sim:" or "socket://HOST:9100"'),
        "paper_width_dots": Key(int, 384, "384 (58 mm), 512 or 576 (80 mm)",
                                lambda v: v in PAPER_WIDTHS),
    },
    "diagnostics": {
        "pin_hash": Key(str, "", "a PIN hash made by `kiosk diag hash-pin`"),
    },
    "voice": {
        "enabled": Key(bool, True, "true or false"),
        "volume": Key(int, 80, "a whole number from 0 to 100", lambda v: 0 <= v <= 100),
        "rate": Key(int, 150, "words per minute, 80 to 450", lambda v: 80 <= v <= 450),
        "device": Key(str, "default", 'an ALSA device name such as "default" or "plughw:0"',
                      lambda v: v != ""),
        # Project addition: which voice speaks (drivers/voice): the real one, a recorder, none.
        "engine": Key(str, "espeak-ng", 'one of "espeak-ng", "sim", "none"',
                      lambda v: v in VOICE_ENGINES),
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
    queue_key_file: Path | None
    retention_h: int


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


@dataclass(frozen=True)
class DeviceSettings:
    card_reader: str
    printer: str
    paper_width_dots: int


@dataclass(frozen=True)
class DiagnosticsSettings:
    pin_hash: str


@dataclass(frozen=True)
class VoiceConfig:
    enabled: bool = True
    volume: int = 80
    rate: int = 150
    device: str = "default"
    engine: str = "espeak-ng"


@dataclass(frozen=True)
class Config:
    kiosk: KioskSettings
    central: CentralSettings
    devices: DeviceSettings
    diagnostics: DiagnosticsSettings
    source: Path | None  # None: the built-in demo configuration
    voice: VoiceConfig = field(default_factory=VoiceConfig)

    @property
    def queue_path(self) -> Path:
        return self.kiosk.data_dir / "queue.db"

    @property
    def is_demo(self) -> bool:
        return self.source is None


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
            _check_value(where, spec, value)
            values[section][key] = value
    for key_id, pub in values["central"]["menu_keys"].items():
        if not isinstance(pub, str) or not pub:
            raise ConfigError(
                f"{path}: [central.menu_keys] {key_id}: expected a base64 Ed25519 public key string"
            )
    return _build(values, base=path.parent, source=path)


def _check_value(where: str, spec: Key, value: Any) -> None:
    # bool is a subclass of int in Python: an int key must not accept true/false.
    wrong_type = not isinstance(value, spec.type) or (spec.type is int and isinstance(value, bool))
    if wrong_type or (spec.check is not None and not spec.check(value)):
        raise ConfigError(f"{where}: expected {spec.expected}, got {_describe(value)}")


def _describe(value: Any) -> str:
    kind = {bool: "boolean", int: "integer", float: "number", str: "string", dict: "table",
            list: "array"}.get(type(value), type(value).__name__)
    if isinstance(value, bool):
        text = "true" if value else "false"  # as written in TOML
    else:
        text = repr(value) if not isinstance(value, str) else f'"{value}"'
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{text} ({kind})"


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


def _build(values: dict[str, dict[str, Any]], base: Path | None, source: Path | None) -> Config:
    k, c, d = values["kiosk"], values["central"], values["devices"]
    return Config(
        kiosk=KioskSettings(
            id=k["id"], locale=k["locale"], idle_timeout_s=k["idle_timeout_s"],
            data_dir=_resolve(k["data_dir"], base), menu_file=_resolve(k["menu_file"], base),
            hide_cursor=k["hide_cursor"], service_point=k["service_point"],
            queue_key_file=_resolve(k["queue_key_file"], base), retention_h=k["retention_h"],
        ),
        central=CentralSettings(
            url=c["url"].rstrip("/"), token_file=_resolve(c["token_file"], base),
            ca_file=_resolve(c["ca_file"], base), sync_interval_s=c["sync_interval_s"],
            menu_poll_s=c["menu_poll_s"], heartbeat_s=c["heartbeat_s"],
            max_backoff_s=c["max_backoff_s"], auth_retry_s=c["auth_retry_s"],
            menu_keys=dict(c["menu_keys"]),
        ),
        devices=DeviceSettings(card_reader=d["card_reader"], printer=d["printer"],
                               paper_width_dots=d["paper_width_dots"]),
        diagnostics=DiagnosticsSettings(pin_hash=values["diagnostics"]["pin_hash"]),
        source=source,
        voice=VoiceConfig(**values["voice"]),
    )
