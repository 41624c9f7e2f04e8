"""Fixtures the kiosk tests share."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture
def clean_root():
    """The root logger; handlers a test adds are removed and closed, and its level restored."""
    root = logging.getLogger()
    saved = list(root.handlers), root.level
    yield root
    for handler in root.handlers[:]:
        if handler not in saved[0]:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(saved[1])
