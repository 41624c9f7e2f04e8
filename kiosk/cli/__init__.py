"""The ``kiosk`` command line; ``main`` is the console script (shared/spec/kiosk-interfaces.md)."""

from kiosk.cli.commands import CliError, main

__all__ = ["CliError", "main"]
