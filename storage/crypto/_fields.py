"""Short text answers: AES-256-GCM under the case's data key, bound to their place.

Layout: ``version(1) | nonce(12) | ciphertext+tag``; AAD =
``sanad/v1/field|case_id|field_id|seq`` so a sealed value moved to another case, field
or sequence number does not open.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import CryptoError
from ._util import check_key, component, context, number

__all__ = ["VERSION", "new_data_key", "open_field", "seal_field"]

VERSION = 1
_NONCE = 12
_PREFIX = b"sanad/v1/field|"


def new_data_key() -> bytes:
    """A fresh random 32-byte key for one report (or one later addendum)."""
    return AESGCM.generate_key(bit_length=256)


def _aad(case_id: str, field_id: str, seq: int) -> bytes:
    return context(
        _PREFIX, component("case_id", case_id), component("field_id", field_id), number("seq", seq)
    )


def seal_field(key: bytes, case_id: str, field_id: str, seq: int, plaintext: bytes) -> bytes:
    """Encrypt one field value with a random 96-bit nonce."""
    aad = _aad(case_id, field_id, seq)
    nonce = os.urandom(_NONCE)
    return bytes([VERSION]) + nonce + AESGCM(check_key(key)).encrypt(nonce, plaintext, aad)


def open_field(key: bytes, case_id: str, field_id: str, seq: int, sealed: bytes) -> bytes:
    """Decrypt a value sealed by ``seal_field`` for exactly this case, field and seq."""
    aesgcm = AESGCM(check_key(key))
    aad = _aad(case_id, field_id, seq)
    if len(sealed) < 1 + _NONCE + 16 or sealed[0] != VERSION:
        raise CryptoError("sealed field is malformed")
    try:
        return aesgcm.decrypt(sealed[1 : 1 + _NONCE], sealed[1 + _NONCE :], aad)
    except InvalidTag as exc:
        raise CryptoError("sealed field cannot be opened") from exc
