"""``kiosk-admin``: tools for central admins to make, check, sign and publish service menus.

Qt-free; it uses the shared contract the kiosk and the central use too (``contract.menu``
for reading and validating, ``contract.signing`` for bundles, ``contract.keyfile`` for keys),
so a menu that passes here passes on every kiosk. It talks to a central only over HTTP.
"""

from .errors import AdminError

__all__ = ["AdminError"]
