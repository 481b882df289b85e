"""Property 6: locked caseworker keys need the passphrase and stay with their user."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.crypto import (
    TEST_KDF,
    CryptoError,
    KdfParams,
    export_private_key_encrypted,
    generate_keypair,
    import_private_key_encrypted,
    key_id,
    lock_private_key,
    locked_key_id,
    public_bytes,
    unlock_private_key,
)

if TYPE_CHECKING:
    from conftest import Party

PASS = "كلمة سر طويلة correct horse"


def test_round_trip(recipient: Party, kdf: KdfParams) -> None:
    blob = lock_private_key(recipient.private, PASS, "amira", kdf)
    assert public_bytes(unlock_private_key(blob, PASS, "amira")) == recipient.public
    assert locked_key_id(blob) == key_id(recipient.public)
    assert recipient.private.private_bytes_raw() not in blob


def test_wrong_passphrase_fails(recipient: Party, kdf: KdfParams) -> None:
    """Crypto property 6 (crypto-design.md)."""
    blob = lock_private_key(recipient.private, PASS, "amira", kdf)
    with pytest.raises(CryptoError):
        unlock_private_key(blob, PASS + "!", "amira")


def test_blob_moved_to_another_user_fails(recipient: Party, kdf: KdfParams) -> None:
    """Crypto property 6 (crypto-design.md)."""
    blob = lock_private_key(recipient.private, PASS, "amira", kdf)
    with pytest.raises(CryptoError):
        unlock_private_key(blob, PASS, "basel")


def test_key_id_swapped_fails(recipient: Party, outsider: Party, kdf: KdfParams) -> None:
    blob = bytearray(lock_private_key(recipient.private, PASS, "amira", kdf))
    start = 1 + 9 + 16
    blob[start : start + 16] = key_id(outsider.public)
    with pytest.raises(CryptoError):
        unlock_private_key(bytes(blob), PASS, "amira")


def test_params_travel_with_the_blob(recipient: Party, kdf: KdfParams) -> None:
    raised = KdfParams(memory_kib=kdf.memory_kib * 4, iterations=kdf.iterations + 1)
    blob = lock_private_key(recipient.private, PASS, "amira", raised)
    assert blob[1:10] == raised.pack()
    assert public_bytes(unlock_private_key(blob, PASS, "amira")) == recipient.public


def test_param_tampering_fails(recipient: Party, kdf: KdfParams) -> None:
    blob = lock_private_key(recipient.private, PASS, "amira", kdf)
    for params in (KdfParams(kdf.memory_kib + 8, 1), KdfParams(kdf.memory_kib, 2)):
        with pytest.raises(CryptoError):
            unlock_private_key(blob[:1] + params.pack() + blob[10:], PASS, "amira")
    with pytest.raises(CryptoError):  # out of range: refused before any Argon2id run
        unlock_private_key(blob[:1] + b"\xff" * 9 + blob[10:], PASS, "amira")


def test_nfc_normalised_passphrase(recipient: Party, kdf: KdfParams) -> None:
    blob = lock_private_key(recipient.private, "caf\u00e9", "amira", kdf)
    assert public_bytes(unlock_private_key(blob, "cafe\u0301", "amira")) == recipient.public


@pytest.mark.parametrize(
    "params", [dict(memory_kib=7, iterations=1), dict(memory_kib=8, iterations=0)]
)
def test_invalid_params(params: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        KdfParams(**params)


def test_offline_export_round_trip() -> None:
    for private in (generate_keypair()[0], Ed25519PrivateKey.generate()):
        pem = export_private_key_encrypted(private, PASS, TEST_KDF)  # cheap, as for users
        assert pem.startswith(b"-----BEGIN SANAD OFFLINE KEY v1-----")  # Argon2id (review 4)
        loaded = import_private_key_encrypted(pem, PASS)
        assert type(loaded) is type(private)
        assert loaded.private_bytes_raw() == private.private_bytes_raw()
        with pytest.raises(CryptoError):
            import_private_key_encrypted(pem, "wrong")
        with pytest.raises(CryptoError):
            import_private_key_encrypted(pem[:-40], PASS)
