"""Property 9 (crypto half): only a manifest signed by the pinned key is accepted."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING

import pytest

from storage.crypto import (
    SUITE_MLKEM768_X25519,
    CryptoError,
    ManifestError,
    Recipient,
    generate_hybrid_keypair,
    generate_keypair,
    generate_signing_key,
    key_id,
    sign_manifest,
    verify_manifest,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@pytest.fixture
def admin() -> tuple[Ed25519PrivateKey, bytes]:
    return generate_signing_key()


@pytest.fixture
def recipients() -> list[Recipient]:
    return [
        Recipient("recovery (offline)", generate_keypair()[1]),
        Recipient("أمل — caseworker", generate_keypair()[1]),
        Recipient("long-term", generate_hybrid_keypair()[1], SUITE_MLKEM768_X25519),
    ]


def test_round_trip(admin: tuple[Ed25519PrivateKey, bytes], recipients: list[Recipient]) -> None:
    blob = sign_manifest(admin[0], recipients, 3, created=1_700_000_000)
    manifest = verify_manifest(blob, admin[1])
    assert manifest.version == 3 and manifest.created == 1_700_000_000
    assert set(manifest.recipients) == set(recipients)
    assert manifest.recipients[0].key_id == key_id(manifest.recipients[0].public_key)


def test_unsigned_rejected(
    admin: tuple[Ed25519PrivateKey, bytes], recipients: list[Recipient]
) -> None:
    """Crypto property 9 (crypto-design.md)."""
    blob = sign_manifest(admin[0], recipients, 1)
    header, payload, _, _ = blob.split(b"\n")
    for unsigned in (payload, header + b"\n" + payload + b"\n\n", header + b"\n" + payload + b"\n"):
        with pytest.raises(ManifestError):
            verify_manifest(unsigned, admin[1])


def test_signed_by_another_key_rejected(
    admin: tuple[Ed25519PrivateKey, bytes], recipients: list[Recipient]
) -> None:
    intruder, _ = generate_signing_key()
    with pytest.raises(ManifestError):
        verify_manifest(sign_manifest(intruder, recipients, 1), admin[1])


def test_altered_rejected(
    admin: tuple[Ed25519PrivateKey, bytes], recipients: list[Recipient]
) -> None:
    """Crypto property 9 (crypto-design.md)."""
    blob = sign_manifest(admin[0], recipients[:1], 1)
    header, payload, signature, _ = blob.split(b"\n")
    data = json.loads(payload)
    data["recipients"].append(
        {
            "key_id": key_id(eve := generate_keypair()[1]).hex(),
            "label": "eve",
            "public_key": base64.b64encode(eve).decode(),
            "suite": 1,
        }
    )
    forged = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
    with pytest.raises(ManifestError):
        verify_manifest(b"\n".join([header, forged, signature, b""]), admin[1])
    for position in range(len(blob) - 1):
        altered = bytearray(blob)
        altered[position] ^= 0x01
        with pytest.raises(ManifestError):
            verify_manifest(bytes(altered), admin[1])


def test_manifest_error_is_a_crypto_error() -> None:
    assert issubclass(ManifestError, CryptoError)


def test_sign_refuses_nonsense(admin: tuple[Ed25519PrivateKey, bytes]) -> None:
    one = Recipient("a", generate_keypair()[1])
    with pytest.raises(ValueError):
        sign_manifest(admin[0], [], 1)
    with pytest.raises(ValueError):
        sign_manifest(admin[0], [one, Recipient("b", one.public_key)], 1)
    with pytest.raises(ValueError):
        sign_manifest(admin[0], [one], 0)
    with pytest.raises(ValueError):
        Recipient("c", b"\0" * 31)
