"""``kiosk-admin menu diff``: the diff itself lives in ``contract.menu_diff``, shared with the
central's menu editor so both read alike."""

from contract.menu_diff import Change, ItemDiff, ListDiff, MenuDiff, diff_menus, format_diff

__all__ = ["Change", "ItemDiff", "ListDiff", "MenuDiff", "diff_menus", "format_diff"]
