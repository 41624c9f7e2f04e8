"""Where the shipped data lives: ``config/`` in a checkout, ``kiosk_config`` when installed."""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def config_dir() -> Path:
    checkout = Path(__file__).resolve().parent.parent / "config"
    if (checkout / "menu.schema.json").is_file():
        return checkout
    import kiosk_config  # the wheel maps config/ to this package

    return Path(kiosk_config.__file__).resolve().parent


def default_menu_path() -> Path:
    return config_dir() / "menu.default.json"


def menu_schema_path() -> Path:
    return config_dir() / "menu.schema.json"


def translations_dir() -> Path:
    return config_dir() / "translations"


def icon_path(name: str) -> Path:
    return config_dir() / "icons" / f"{name}.svg"
