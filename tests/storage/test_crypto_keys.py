"""Properties 4 and 5 for wrapped keys: only recipients unwrap; nothing moves."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from storage.crypto import (
    SUITE_MLKEM768_X25519,
    SUITE_X25519,
    CryptoError,
    generate_hybrid_keypair,
    key_id,
    load_public,
    new_data_key,
    public_bytes,
    unwrap_key,
    wrap_key,
)

if TYPE_CHECKING:
    from conftest import Party


def test_key_id_is_sha256_prefix(recipient: Party) -> None:
    assert key_id(recipient.public) == hashlib.sha256(recipient.public).digest()[:16]
    assert public_bytes(recipient.private) == recipient.public
    assert load_public(recipient.public).public_bytes_raw() == recipient.public


def test_round_trip(recipient: Party, data_key: bytes) -> None:
    wrapped = wrap_key(data_key, "case-1", recipient.public)
    assert wrapped[0] == SUITE_X25519 and len(wrapped) == 81
    assert unwrap_key(wrapped, "case-1", recipient.private) == data_key


def test_non_recipient_opens_nothing(recipient: Party, outsider: Party, data_key: bytes) -> None:
    """Crypto property 4 (crypto-design.md)."""
    wrapped = wrap_key(data_key, "case-1", recipient.public)
    with pytest.raises(CryptoError):
        unwrap_key(wrapped, "case-1", outsider.private)


def test_moved_between_cases_fails(recipient: Party, data_key: bytes) -> None:
    """Crypto property 5 (crypto-design.md)."""
    wrapped = wrap_key(data_key, "case-1", recipient.public)
    with pytest.raises(CryptoError):
        unwrap_key(wrapped, "case-2", recipient.private)


def test_each_recipient_gets_its_own_row(
    recipient: Party, outsider: Party, data_key: bytes
) -> None:
    to_a = wrap_key(data_key, "case-1", recipient.public)
    to_b = wrap_key(data_key, "case-1", outsider.public)
    assert unwrap_key(to_b, "case-1", outsider.private) == data_key
    with pytest.raises(CryptoError):  # A's row handed to B
        unwrap_key(to_a, "case-1", outsider.private)


def test_bit_flips_detected(recipient: Party, data_key: bytes) -> None:
    wrapped = wrap_key(data_key, "case-1", recipient.public)
    for position in range(len(wrapped)):
        altered = bytearray(wrapped)
        altered[position] ^= 0x04
        with pytest.raises(CryptoError):
            unwrap_key(bytes(altered), "case-1", recipient.private)


def test_hybrid_suite(recipient: Party, data_key: bytes) -> None:
    private, public = generate_hybrid_keypair()
    wrapped = wrap_key(data_key, "case-1", public, suite=SUITE_MLKEM768_X25519)
    assert wrapped[0] == SUITE_MLKEM768_X25519
    assert unwrap_key(wrapped, "case-1", private) == data_key
    assert "hidden" in repr(private)
    with pytest.raises(CryptoError):
        unwrap_key(wrapped, "case-2", private)
    with pytest.raises(CryptoError):
        unwrap_key(wrapped, "case-1", recipient.private)
    other, _ = generate_hybrid_keypair()
    with pytest.raises(CryptoError):
        unwrap_key(wrapped, "case-1", other)


def test_programming_errors(recipient: Party) -> None:
    with pytest.raises(ValueError, match="unknown suite"):
        wrap_key(new_data_key(), "c", recipient.public, suite=9)
    with pytest.raises(ValueError, match="wrong length"):
        wrap_key(new_data_key(), "c", recipient.public[:31])
    with pytest.raises(ValueError, match="32 bytes"):
        wrap_key(b"short", "c", recipient.public)
