"""The one base of the kiosk's own errors (config, CLI, receipts, sessions, diagnostics)."""


class KioskError(Exception):
    """Something the kiosk reports in one clear line; each module raises a subclass."""
