"""Random or truncated input to every opener raises CryptoError and nothing else."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from storage.crypto import (
    TEST_KDF,
    CryptoError,
    DraftKeyring,
    generate_keypair,
    lock_private_key,
    new_data_key,
    open_attachment,
    open_draft,
    open_field,
    seal_attachment,
    seal_draft,
    seal_field,
    unlock_private_key,
    unwrap_key,
    wrap_key,
)

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
)
LOCKED_SIZE = 1 + 9 + 16 + 16 + 12 + 48


@dataclass(frozen=True)
class Material:
    key: bytes
    private: X25519PrivateKey
    field: bytes
    wrapped: bytes
    attachment: bytes
    locked: bytes
    keyring: DraftKeyring
    draft: bytes


@pytest.fixture(scope="module")
def material() -> Material:
    key = new_data_key()
    private, public = generate_keypair()
    out = io.BytesIO()
    seal_attachment(key, "c", "a", [bytes(200_000)], out)
    keyring = DraftKeyring(None, 3600, lambda: 1_000_000.0)
    return Material(
        key=key,
        private=private,
        field=seal_field(key, "c", "f", 0, b"answer"),
        wrapped=wrap_key(key, "c", public),
        attachment=out.getvalue(),
        locked=lock_private_key(private, "passphrase", "u", TEST_KDF),
        keyring=keyring,
        draft=seal_draft(keyring, "d", b"h", 1, b"state"),
    )


def _mutations(valid: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.binary(max_size=300),
        st.tuples(valid, st.integers(min_value=0)).map(lambda t: t[0][: t[1] % len(t[0])]),
        st.tuples(valid, st.integers(min_value=0), st.integers(1, 255)).map(
            lambda t: _flip(t[0], t[1] % len(t[0]), t[2])
        ),
        st.tuples(valid, st.binary(min_size=1, max_size=64)).map(lambda t: t[0] + t[1]),
    )


def _flip(data: bytes, position: int, mask: int) -> bytes:
    altered = bytearray(data)
    altered[position] ^= mask
    return bytes(altered)


@FUZZ
@given(data=st.data())
def test_open_field(material: Material, data: st.DataObject) -> None:
    blob = data.draw(_mutations(st.just(material.field)))
    with pytest.raises(CryptoError):
        open_field(material.key, "c", "f", 0, blob)


@FUZZ
@given(data=st.data())
def test_unwrap_key(material: Material, data: st.DataObject) -> None:
    blob = data.draw(_mutations(st.just(material.wrapped)))
    with pytest.raises(CryptoError):
        unwrap_key(blob, "c", material.private)


@FUZZ
@given(data=st.data())
def test_open_attachment(material: Material, data: st.DataObject) -> None:
    blob = data.draw(_mutations(st.just(material.attachment)))
    out = io.BytesIO()
    with pytest.raises(CryptoError):
        open_attachment(material.key, "c", "a", io.BytesIO(blob), out)
    assert out.getvalue() == b""


def _not_params(blob: bytes) -> bool:
    """Flips inside the Argon2id parameters may ask for a gigabyte: covered elsewhere."""
    return not (len(blob) == LOCKED_SIZE and blob[0] == 1) or blob[1:10] == TEST_KDF.pack()


@FUZZ
@given(data=st.data())
def test_unlock_private_key(material: Material, data: st.DataObject) -> None:
    blob = data.draw(_mutations(st.just(material.locked)).filter(_not_params))
    with pytest.raises(CryptoError):
        unlock_private_key(blob, "passphrase", "u")


@FUZZ
@given(data=st.data())
def test_open_draft(material: Material, data: st.DataObject) -> None:
    blob = data.draw(_mutations(st.just(material.draft)))
    with pytest.raises(CryptoError):
        open_draft(material.keyring, "d", b"h", 1, blob)
