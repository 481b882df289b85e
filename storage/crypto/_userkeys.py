"""Caseworker private keys locked under a passphrase, and offline key files.

Locked blob: ``version(1) | params(9) | salt(16) | key_id(16) | nonce(12) |
AESGCM(KEK, raw private key)`` with KEK = Argon2id(passphrase) and AAD =
``sanad/v1/userkey|user_id|key_id hex``. The key_id is stored in clear because the AAD
needs it before decryption; binding it (and the user id) means a blob copied to another
account does not open. Parameters travel with the blob so they can be raised later.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ._errors import CryptoError
from ._kdf import PACKED_SIZE, SALT_BYTES, KdfParams, derive, passphrase_bytes
from ._keys import key_id, public_bytes
from ._util import component, context

__all__ = [
    "BLOB_SIZE",
    "VERSION",
    "OfflineKey",
    "export_private_key_encrypted",
    "import_private_key_encrypted",
    "is_locked_offline_key",
    "lock_private_key",
    "locked_key_id",
    "unlock_private_key",
]

VERSION = 1
_KDF_AD = b"sanad/v1/userkey-kek"
_PREFIX = b"sanad/v1/userkey|"
_KID = 16
_NONCE = 12
_HEADER = 1 + PACKED_SIZE + SALT_BYTES + _KID + _NONCE
BLOB_SIZE = _HEADER + 32 + 16


def _aad(user_id: str, kid: bytes) -> bytes:
    return context(_PREFIX, component("user_id", user_id), kid.hex().encode("ascii"))


def lock_private_key(
    private_key: X25519PrivateKey, passphrase: str, user_id: str, params: KdfParams
) -> bytes:
    """Encrypt a caseworker's X25519 private key under a passphrase-derived key."""
    if not isinstance(private_key, X25519PrivateKey):
        raise TypeError("only X25519 private keys can be locked")
    kid = key_id(public_bytes(private_key))
    aad = _aad(user_id, kid)
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(_NONCE)
    kek = derive(passphrase_bytes(passphrase), salt, params, _KDF_AD)
    raw = private_key.private_bytes_raw()
    header = bytes([VERSION]) + params.pack() + salt + kid + nonce
    return header + AESGCM(kek).encrypt(nonce, raw, aad)


def locked_key_id(blob: bytes) -> bytes:
    """The key_id of a locked key, readable without the passphrase."""
    if len(blob) != BLOB_SIZE or blob[0] != VERSION:
        raise CryptoError("locked key is malformed")
    start = 1 + PACKED_SIZE + SALT_BYTES
    return bytes(blob[start : start + _KID])


def unlock_private_key(blob: bytes, passphrase: str, user_id: str) -> X25519PrivateKey:
    """Decrypt a locked key; CryptoError for a wrong passphrase or another user's blob."""
    secret = passphrase_bytes(passphrase)
    kid = locked_key_id(blob)
    aad = _aad(user_id, kid)
    params = KdfParams.unpack(bytes(blob[1 : 1 + PACKED_SIZE]))
    salt = bytes(blob[1 + PACKED_SIZE : 1 + PACKED_SIZE + SALT_BYTES])
    nonce = bytes(blob[_HEADER - _NONCE : _HEADER])
    kek = derive(secret, salt, params, _KDF_AD)
    try:
        raw = AESGCM(kek).decrypt(nonce, bytes(blob[_HEADER:]), aad)
    except InvalidTag as exc:
        raise CryptoError("locked key cannot be opened") from exc
    private_key = X25519PrivateKey.from_private_bytes(raw)
    if key_id(public_bytes(private_key)) != kid:
        raise CryptoError("locked key does not match its key id")
    return private_key


OfflineKey = X25519PrivateKey | Ed25519PrivateKey


_OFFLINE_MAGIC = b"-----BEGIN SANAD OFFLINE KEY v1-----"
_OFFLINE_END = b"-----END SANAD OFFLINE KEY v1-----"
_OFFLINE_AD = b"sanad/v1/offlinekey-kek"
_OFFLINE_KINDS = (1, 2)  # X25519, Ed25519


def export_private_key_encrypted(
    private_key: OfflineKey, passphrase: str, params: KdfParams | None = None
) -> bytes:
    """An offline key (recovery, administrator signing) locked like a caseworker's key:
    Argon2id (production parameters by default, stored with the blob) and AES-256-GCM
    (December 2026 review, finding 4; PKCS#8 used PBKDF2 at 2,048 iterations). Text armour:
    ``version(1) | kind(1) | params(9) | salt(16) | nonce(12) | AESGCM(raw key)``, AAD =
    ``sanad/v1/offlinekey|kind``."""
    import base64

    from ._kdf import PRODUCTION_USER_KDF

    if not isinstance(private_key, X25519PrivateKey | Ed25519PrivateKey):
        raise TypeError("only X25519 and Ed25519 private keys are exported")
    params = params or PRODUCTION_USER_KDF
    kind = 1 if isinstance(private_key, X25519PrivateKey) else 2
    salt, nonce = os.urandom(SALT_BYTES), os.urandom(_NONCE)
    kek = derive(passphrase_bytes(passphrase), salt, params, _OFFLINE_AD)
    header = bytes([VERSION, kind]) + params.pack() + salt + nonce
    sealed = AESGCM(kek).encrypt(
        nonce, private_key.private_bytes_raw(), b"sanad/v1/offlinekey|" + bytes([kind]) + header
    )
    body = base64.encodebytes(header + sealed).strip()
    return b"\n".join([_OFFLINE_MAGIC, body, _OFFLINE_END]) + b"\n"


def is_locked_offline_key(data: bytes) -> bool:
    """True for the Argon2id format, False for an older PKCS#8 file."""
    return data.lstrip().startswith(_OFFLINE_MAGIC)


def import_private_key_encrypted(pem: bytes, passphrase: str) -> OfflineKey:
    """Load an offline key (the Argon2id format, or an older PKCS#8 file); CryptoError if it
    fails."""
    import base64
    import binascii

    secret = passphrase_bytes(passphrase)
    if is_locked_offline_key(pem):
        lines = pem.strip().split(b"\n")
        if lines[-1] != _OFFLINE_END:
            raise CryptoError("offline key file is malformed")
        try:
            blob = base64.decodebytes(b"".join(lines[1:-1]))
        except binascii.Error as exc:
            raise CryptoError("offline key file is malformed") from exc
        head = 2 + PACKED_SIZE + SALT_BYTES + _NONCE
        if len(blob) != head + 48 or blob[0] != VERSION or blob[1] not in _OFFLINE_KINDS:
            raise CryptoError("offline key file is malformed")
        kind = blob[1]
        params = KdfParams.unpack(bytes(blob[2 : 2 + PACKED_SIZE]))
        salt = bytes(blob[2 + PACKED_SIZE : 2 + PACKED_SIZE + SALT_BYTES])
        nonce = bytes(blob[head - _NONCE : head])
        kek = derive(secret, salt, params, _OFFLINE_AD)
        try:
            raw = AESGCM(kek).decrypt(
                nonce, bytes(blob[head:]), b"sanad/v1/offlinekey|" + bytes([kind]) + blob[:head]
            )
        except InvalidTag as exc:
            raise CryptoError("private key file cannot be opened") from exc
        if kind == 1:
            return X25519PrivateKey.from_private_bytes(raw)
        return Ed25519PrivateKey.from_private_bytes(raw)
    try:
        key = serialization.load_pem_private_key(pem, password=secret)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CryptoError("private key file cannot be opened") from exc
    if not isinstance(key, X25519PrivateKey | Ed25519PrivateKey):
        raise CryptoError("private key file holds an unexpected key type")
    return key
