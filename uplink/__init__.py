"""Everything the kiosk says to the central platform: the HTTP client, the uploader and its
sync thread, the heartbeat, the status board, the menu poller and store. Qt-free, and free
of the kiosk app (``kiosk.central_link`` builds these objects from the kiosk's config)."""

from .errors import MenuStoreError, SyncError, TokenError, TransportError, UplinkError

__all__ = ["MenuStoreError", "SyncError", "TokenError", "TransportError", "UplinkError"]
