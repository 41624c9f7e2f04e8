"""The one exception base of ``contract``: every error the shared contract raises derives
from ``ContractError``, so kiosk, central and admin can each catch the contract's errors in
one place and turn them into their own."""

from __future__ import annotations


class ContractError(Exception):
    """Base of every error of the shared contract (menu, bundle signing, keys, times)."""
