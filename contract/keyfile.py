"""Writing a new signing key file: mode 0600 from the first byte, never over a file by
accident. Shared by ``kiosk-central keygen`` and ``kiosk-admin keygen``."""

from __future__ import annotations

import os
from pathlib import Path

from contract.signing import SigningKeyError, generate_keypair


def write_new_key(path: str | Path, *, force: bool = False) -> str:
    """Write a new private key to ``path`` with mode 0600 and return its public key (base64).
    An existing file is an error (``SigningKeyError``) unless ``force``."""
    private_b64, public_b64 = generate_keypair()
    flags = os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if force else os.O_EXCL)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise SigningKeyError(f"{path} exists; use --force to replace it") from None
    except OSError as exc:
        raise SigningKeyError(f"{path}: cannot write ({exc.strerror})") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        os.fchmod(f.fileno(), 0o600)  # also when force replaced a more open file
        f.write(private_b64 + "\n")
    return public_b64


def config_line(key_id: str, public_b64: str) -> str:
    """The ``key_id = "<public key>"`` line for ``[central.menu_keys]`` in a kiosk's
    configuration (and ``[menu_keys]`` of the central's trusted keys)."""
    return f'{key_id} = "{public_b64}"'
