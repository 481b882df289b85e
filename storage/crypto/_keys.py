"""Recipient key pairs and data-key wrapping with HPKE (base mode).

A wrapped key is ``suite(1) | HPKE ciphertext`` with
``info = sanad/v1/wrap|case_id|key_id hex``: HPKE has no AAD, so the case and the
recipient are bound through ``info``. The suite byte lets the KEM change later
(suite 2, ML-KEM-768 + X25519, for testimony that must stay secret for decades).
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from ._errors import CryptoError
from ._util import check_key, component, context

__all__ = [
    "PUBLIC_KEY_SIZES",
    "SUITE_MLKEM768_X25519",
    "SUITE_X25519",
    "HybridPrivateKey",
    "generate_hybrid_keypair",
    "generate_keypair",
    "key_id",
    "load_public",
    "public_bytes",
    "unwrap_key",
    "wrap_key",
]

SUITE_X25519 = 1
SUITE_MLKEM768_X25519 = 2

_X25519_PUB = 32
_MLKEM768_PUB = 1184
PUBLIC_KEY_SIZES = {SUITE_X25519: _X25519_PUB, SUITE_MLKEM768_X25519: _MLKEM768_PUB + _X25519_PUB}
_SUITES = {
    SUITE_X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    SUITE_MLKEM768_X25519: hpke.Suite(
        hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM
    ),
}
_PREFIX = b"sanad/v1/wrap|"


class HybridPrivateKey:
    """An ML-KEM-768 + X25519 private key (suite 2). Its repr never shows key material."""

    __slots__ = ("_mlkem", "_x25519")

    def __init__(self, mlkem_key: mlkem.MLKEM768PrivateKey, x25519_key: X25519PrivateKey) -> None:
        self._mlkem = mlkem_key
        self._x25519 = x25519_key

    def public_bytes(self) -> bytes:
        """``mlkem768 public (1184) | x25519 public (32)``: what ``wrap_key`` takes."""
        return self._mlkem.public_key().public_bytes_raw() + public_bytes(self._x25519)

    def _hpke_key(self) -> hpke.MLKEM768X25519PrivateKey:
        return hpke.MLKEM768X25519PrivateKey(self._mlkem, self._x25519)

    def __repr__(self) -> str:
        return "HybridPrivateKey(<hidden>)"


def key_id(public_key_bytes: bytes) -> bytes:
    """First 16 bytes of SHA-256 of the raw public key: names a recipient everywhere."""
    return hashlib.sha256(public_key_bytes).digest()[:16]


def generate_keypair() -> tuple[X25519PrivateKey, bytes]:
    """A new X25519 recipient key pair; the public half as 32 raw bytes."""
    private = X25519PrivateKey.generate()
    return private, public_bytes(private)


def generate_hybrid_keypair() -> tuple[HybridPrivateKey, bytes]:
    """A new suite-2 (ML-KEM-768 + X25519) key pair; the public half as raw bytes."""
    private = HybridPrivateKey(mlkem.MLKEM768PrivateKey.generate(), X25519PrivateKey.generate())
    return private, private.public_bytes()


def public_bytes(private_key: X25519PrivateKey) -> bytes:
    """The raw 32-byte public key of an X25519 private key."""
    return private_key.public_key().public_bytes_raw()


def load_public(raw: bytes) -> X25519PublicKey:
    """Parse a raw 32-byte X25519 public key (ValueError if malformed)."""
    return X25519PublicKey.from_public_bytes(raw)


def _info(case_id: str, kid: bytes, prefix: bytes = _PREFIX) -> bytes:
    return context(prefix, component("case_id", case_id), kid.hex().encode("ascii"))


def _hpke_public(suite: int, raw: bytes) -> X25519PublicKey | hpke.MLKEM768X25519PublicKey:
    if suite not in PUBLIC_KEY_SIZES:
        raise ValueError("unknown suite")
    if len(raw) != PUBLIC_KEY_SIZES[suite]:
        raise ValueError("public key has the wrong length for its suite")
    if suite == SUITE_X25519:
        return load_public(raw)
    return hpke.MLKEM768X25519PublicKey(
        mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM768_PUB]),
        load_public(raw[_MLKEM768_PUB:]),
    )


def wrap_key(
    data_key: bytes,
    case_id: str,
    recipient_public: bytes,
    suite: int = SUITE_X25519,
    *,
    _prefix: bytes = _PREFIX,
) -> bytes:
    """Encrypt a case's data key to one recipient (one wrapped-key row per recipient)."""
    check_key(data_key)
    public = _hpke_public(suite, bytes(recipient_public))
    info = _info(case_id, key_id(bytes(recipient_public)), _prefix)
    return bytes([suite]) + _SUITES[suite].encrypt(bytes(data_key), public, info=info)


def unwrap_key(
    wrapped: bytes,
    case_id: str,
    private_key: X25519PrivateKey | HybridPrivateKey,
    *,
    _prefix: bytes = _PREFIX,
) -> bytes:
    """Recover the data key; CryptoError unless wrapped for this case and this key."""
    component("case_id", case_id)
    if len(wrapped) < 2 or wrapped[0] not in _SUITES:
        raise CryptoError("wrapped key is malformed")
    suite = wrapped[0]
    hpke_key: X25519PrivateKey | hpke.MLKEM768X25519PrivateKey
    if suite == SUITE_X25519 and isinstance(private_key, X25519PrivateKey):
        hpke_key, pub = private_key, public_bytes(private_key)
    elif suite == SUITE_MLKEM768_X25519 and isinstance(private_key, HybridPrivateKey):
        hpke_key, pub = private_key._hpke_key(), private_key.public_bytes()
    else:
        raise CryptoError("wrapped key is not for this kind of key")
    info = _info(case_id, key_id(pub), _prefix)
    try:
        data_key = _SUITES[suite].decrypt(bytes(wrapped[1:]), hpke_key, info=info)
    except (InvalidTag, ValueError) as exc:
        raise CryptoError("wrapped key cannot be opened") from exc
    if len(data_key) != 32:
        raise CryptoError("wrapped key is malformed")
    return data_key
