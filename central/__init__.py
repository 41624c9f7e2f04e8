"""The project's reference central server: the kiosk side of the central API, version 1.

For development, demos and tests (see central/README.md); standard library HTTP and SQLite.
"""

from .errors import CentralError, ConfigError, SignatureError, StoreError

__all__ = ["CentralError", "ConfigError", "SignatureError", "StoreError"]
