"""Village self-service kiosk: application core and command line."""

__version__ = "0.1.0"
