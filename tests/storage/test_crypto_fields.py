"""Property 2 and 5 for text fields: bit flips detected, moved ciphertext refused."""

from __future__ import annotations

import pytest

from storage.crypto import CryptoError, new_data_key, open_field, seal_field

CASE, FIELD = "case-1", "q_location"
TEXT = "ضربوني في القسم / beaten at the station".encode()


def test_round_trip_and_fresh_nonce(data_key: bytes) -> None:
    a = seal_field(data_key, CASE, FIELD, 0, TEXT)
    b = seal_field(data_key, CASE, FIELD, 0, TEXT)
    assert a != b
    assert open_field(data_key, CASE, FIELD, 0, a) == TEXT
    assert a[0] == 1 and len(a) == 1 + 12 + len(TEXT) + 16
    assert TEXT not in a


def test_empty_plaintext(data_key: bytes) -> None:
    assert open_field(data_key, CASE, FIELD, 3, seal_field(data_key, CASE, FIELD, 3, b"")) == b""


def test_every_byte_flip_is_detected(data_key: bytes) -> None:
    """Crypto property 2 (crypto-design.md)."""
    sealed = seal_field(data_key, CASE, FIELD, 0, b"short answer")
    for position in range(len(sealed)):
        for mask in (0x01, 0x80):
            altered = bytearray(sealed)
            altered[position] ^= mask
            with pytest.raises(CryptoError):
                open_field(data_key, CASE, FIELD, 0, bytes(altered))


@pytest.mark.parametrize(
    ("case_id", "field_id", "seq"),
    [("case-2", FIELD, 0), (CASE, "q_date", 0), (CASE, FIELD, 1), ("case-10", FIELD, 0)],
)
def test_moved_ciphertext_fails(data_key: bytes, case_id: str, field_id: str, seq: int) -> None:
    """Crypto property 5 (crypto-design.md)."""
    sealed = seal_field(data_key, CASE, FIELD, 0, TEXT)
    with pytest.raises(CryptoError):
        open_field(data_key, case_id, field_id, seq, sealed)


def test_wrong_key_fails(data_key: bytes) -> None:
    sealed = seal_field(data_key, CASE, FIELD, 0, TEXT)
    with pytest.raises(CryptoError):
        open_field(new_data_key(), CASE, FIELD, 0, sealed)


@pytest.mark.parametrize("cut", [0, 1, 12, 13, 28, -1])
def test_truncated_fails(data_key: bytes, cut: int) -> None:
    sealed = seal_field(data_key, CASE, FIELD, 0, TEXT)
    with pytest.raises(CryptoError):
        open_field(data_key, CASE, FIELD, 0, sealed[:cut])


def test_ambiguous_ids_are_refused(data_key: bytes) -> None:
    with pytest.raises(ValueError, match="case_id"):
        seal_field(data_key, "a|b", "c", 0, TEXT)
    with pytest.raises(ValueError, match="seq"):
        seal_field(data_key, CASE, FIELD, -1, TEXT)


def test_bad_key_length_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        seal_field(b"\0" * 16, CASE, FIELD, 0, TEXT)


def test_error_message_leaks_nothing(data_key: bytes) -> None:
    sealed = bytearray(seal_field(data_key, CASE, FIELD, 0, TEXT))
    sealed[-1] ^= 1
    with pytest.raises(CryptoError) as info:
        open_field(data_key, CASE, FIELD, 0, bytes(sealed))
    message = str(info.value)
    assert CASE not in message and data_key.hex() not in message and "beaten" not in message
