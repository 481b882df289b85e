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


def export_private_key_encrypted(private_key: OfflineKey, passphrase: str) -> bytes:
    """PKCS#8 PEM under the library's best passphrase encryption, for keys kept offline."""
    if not isinstance(private_key, X25519PrivateKey | Ed25519PrivateKey):
        raise TypeError("only X25519 and Ed25519 private keys are exported")
    return private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase_bytes(passphrase)),
    )


def import_private_key_encrypted(pem: bytes, passphrase: str) -> OfflineKey:
    """Load a key written by ``export_private_key_encrypted``; CryptoError if it fails."""
    secret = passphrase_bytes(passphrase)
    try:
        key = serialization.load_pem_private_key(pem, password=secret)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise CryptoError("private key file cannot be opened") from exc
    if not isinstance(key, X25519PrivateKey | Ed25519PrivateKey):
        raise CryptoError("private key file holds an unexpected key type")
    return key
