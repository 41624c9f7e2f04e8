"""Writing a new signing key file: mode 0600 from the first byte, never over a file by
accident. Shared by ``kiosk-central keygen`` and ``kiosk-admin keygen``."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import ConfigError
from .signing import generate_keypair


def write_new_key(path: str | Path, *, force: bool = False) -> str:
    """Write a new private key to ``path`` with mode 0600 and return its public key (base64).
    An existing file is an error unless ``force``."""
    private_b64, public_b64 = generate_keypair()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigError(f"{path} exists; use --force to replace it") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot write ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        os.fchmod(f.fileno(), 0o600)  # also when force replaced a more open file
        f.write(private_b64 + "\n")
    return public_b64
