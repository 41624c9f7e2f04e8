"""Encryption of personal data at rest: AES-256-GCM sealed column values."""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .errors import QueueDecryptError

KEY_BYTES = 32  # AES-256
NONCE_BYTES = 12  # 96 bits, the nonce size GCM is designed for
TAG_BYTES = 16
# A sealed value is FORMAT + nonce + ciphertext + tag; FORMAT names the layout so that a
# later one can be told apart from it.
FORMAT = b"v1"
_BODY = len(FORMAT) + NONCE_BYTES


class FieldCipher:
    """Seals one column value of one transaction with AES-256-GCM.

    Every value gets a fresh random nonce; at a kiosk's few thousand values a year the
    2**32-values-per-key limit for random nonces is never near. The associated data is the
    transaction id and the column name, so a sealed value copied to another row, or from
    ``identity`` to ``fields``, fails to open instead of being read as that row's data.
    """

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, tx_id: str, column: str, plaintext: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT + nonce + self._aead.encrypt(nonce, plaintext, _aad(tx_id, column))

    def open(self, tx_id: str, column: str, sealed: bytes) -> bytes:
        """The plaintext, or QueueDecryptError when the value was altered or the key is not
        the one it was sealed with."""
        if not isinstance(sealed, bytes) or len(sealed) < _BODY + TAG_BYTES or (
            not sealed.startswith(FORMAT)
        ):
            raise QueueDecryptError(tx_id, f"{column} is not in a known encrypted format")
        try:
            return self._aead.decrypt(
                sealed[len(FORMAT):_BODY], sealed[_BODY:], _aad(tx_id, column)
            )
        except InvalidTag:
            raise QueueDecryptError(
                tx_id, f"{column} was encrypted with a different key, or altered"
            ) from None


def _aad(tx_id: str, column: str) -> bytes:
    return f"{tx_id}\x00{column}".encode()
