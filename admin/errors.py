"""Errors of ``kiosk-admin``: one line for the admin, never a traceback."""

from __future__ import annotations


class AdminError(Exception):
    """Something the command cannot do (a file it cannot read, a central it cannot reach)."""


class Refused(AdminError):
    """The central answered, and said no; ``problems`` lists what it found in the menu."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []
