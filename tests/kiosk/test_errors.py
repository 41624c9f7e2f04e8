"""The kiosk's own errors share one base, kiosk.errors.KioskError."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import kiosk
from kiosk.errors import KioskError


def test_every_public_kiosk_error_derives_from_kiosk_error():
    found = {}
    for info in pkgutil.walk_packages(kiosk.__path__, "kiosk."):
        if info.name == "kiosk.__main__":
            continue
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if (inspect.isclass(obj) and issubclass(obj, BaseException)
                    and obj.__module__ == info.name and not name.startswith("_")):
                found[f"{info.name}.{name}"] = obj
    assert "kiosk.cli.commands.CliError" in found
    strays = sorted(name for name, cls in found.items() if not issubclass(cls, KioskError))
    assert not strays, f"kiosk errors not derived from KioskError: {strays}"
