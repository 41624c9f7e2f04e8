"""``kiosk-admin``: tools for central admins to make, check, sign and publish service menus.

Qt-free; it uses the kiosk's own menu validation (``contract.menu``) and the central's signing
code (``central.signing``), so a menu that passes here passes on every kiosk.
"""

from .errors import AdminError

__all__ = ["AdminError"]
