"""Properties 2, 3 and 5 for attachments: flips, truncation, reordering, appending, moves."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from storage.crypto import (
    AttachmentTooLarge,
    CryptoError,
    new_data_key,
    open_attachment,
    seal_attachment,
)

PIECE = 1 << 16
CASE, ATT = "case-1", "att-1"
HEADER = 1 + 56  # our version byte + Cobblestone header
CHUNK = 16384 + 16  # Cobblestone ciphertext chunk (16 KiB + tag)
PREFIX = b"already here"


class RecordingWriter(io.BytesIO):
    """Remembers the largest single write, to show memory stays bounded by the piece."""

    largest = 0

    def write(self, data: object) -> int:  # type: ignore[override]
        n = super().write(data)  # type: ignore[arg-type]
        self.largest = max(self.largest, n)
        return n


def _plain(size: int = 1 << 20) -> bytes:
    return os.urandom(size)


def _seal(key: bytes, plain: bytes, case: str = CASE, att: str = ATT) -> bytes:
    out = io.BytesIO()
    seal_attachment(key, case, att, [plain], out, PIECE)
    return out.getvalue()


def _open(key: bytes, sealed: bytes, case: str = CASE, att: str = ATT) -> tuple[bytes, int, str]:
    out = io.BytesIO()
    out.write(PREFIX)
    size, digest = open_attachment(key, case, att, io.BytesIO(sealed), out, PIECE)
    return out.getvalue()[len(PREFIX) :], size, digest


def _refused(key: bytes, sealed: bytes, case: str = CASE, att: str = ATT) -> None:
    """Opening fails and ``out`` is cut back to what it held before."""
    out = io.BytesIO()
    out.write(PREFIX)
    with pytest.raises(CryptoError):
        open_attachment(key, case, att, io.BytesIO(sealed), out, PIECE)
    assert out.getvalue() == PREFIX
    assert out.tell() == len(PREFIX)


@pytest.fixture(scope="module")
def material() -> tuple[bytes, bytes, bytes]:
    key = new_data_key()
    plain = _plain()
    return key, plain, _seal(key, plain)


def test_multi_piece_round_trip(material: tuple[bytes, bytes, bytes]) -> None:
    key, plain, sealed = material
    opened, size, digest = _open(key, sealed)
    assert opened == plain and size == len(plain)
    assert digest == hashlib.sha256(plain).hexdigest()
    assert sealed[0] == 1 and plain[:4096] not in sealed


def test_seal_returns_size_and_digest_across_odd_chunks(data_key: bytes) -> None:
    parts = [os.urandom(n) for n in (0, 1, 70_000, 200_000, 3)]
    out = RecordingWriter()
    size, digest = seal_attachment(data_key, CASE, ATT, iter(parts), out, PIECE)
    joined = b"".join(parts)
    assert (size, digest) == (len(joined), hashlib.sha256(joined).hexdigest())
    assert _open(data_key, out.getvalue())[0] == joined


def test_memory_is_bounded_by_the_piece(data_key: bytes) -> None:
    out = RecordingWriter()
    seal_attachment(data_key, CASE, ATT, [_plain(3 << 20)], out, PIECE)
    assert out.largest <= PIECE + PIECE // 1024 + 16456
    back = RecordingWriter()
    open_attachment(data_key, CASE, ATT, io.BytesIO(out.getvalue()), back, PIECE)
    assert back.largest <= PIECE + 16400


def test_empty_attachment(data_key: bytes) -> None:
    sealed = _seal(data_key, b"")
    assert _open(data_key, sealed) == (b"", 0, hashlib.sha256(b"").hexdigest())


def test_bit_flips_detected(material: tuple[bytes, bytes, bytes]) -> None:
    """Crypto property 2 (crypto-design.md)."""
    key, _, sealed = material
    positions = [*range(HEADER + 2), *range(HEADER, len(sealed), 9973), len(sealed) - 1]
    for position in positions:
        altered = bytearray(sealed)
        altered[position] ^= 0x10
        _refused(key, bytes(altered))


def test_every_byte_of_a_small_attachment(data_key: bytes) -> None:
    sealed = _seal(data_key, b"photo bytes")
    for position in range(len(sealed)):
        altered = bytearray(sealed)
        altered[position] ^= 0x01
        _refused(data_key, bytes(altered))


def test_truncation_detected(material: tuple[bytes, bytes, bytes]) -> None:
    """Crypto property 3 (crypto-design.md)."""
    key, _, sealed = material
    boundaries = range(HEADER, len(sealed), CHUNK)
    for cut in [0, 1, HEADER - 1, *boundaries, len(sealed) - 1, len(sealed) - 16]:
        _refused(key, sealed[:cut])


def test_reordering_detected(material: tuple[bytes, bytes, bytes]) -> None:
    """Crypto property 3 (crypto-design.md)."""
    key, _, sealed = material
    for first in (0, 5, 40):
        a = HEADER + first * CHUNK
        b = a + CHUNK
        swapped = sealed[:a] + sealed[b : b + CHUNK] + sealed[a:b] + sealed[b + CHUNK :]
        assert swapped != sealed and len(swapped) == len(sealed)
        _refused(key, swapped)


def test_extension_detected(material: tuple[bytes, bytes, bytes]) -> None:
    """Crypto property 3 (crypto-design.md)."""
    key, _, sealed = material
    other = _seal(key, _plain(100_000))
    for extended in (
        sealed + b"\0",
        sealed + sealed[HEADER : HEADER + CHUNK],
        sealed + sealed[-CHUNK:],
        sealed + other,
        sealed + other[1:],
    ):
        _refused(key, extended)


def test_chunk_spliced_from_another_attachment(material: tuple[bytes, bytes, bytes]) -> None:
    key, plain, sealed = material
    other = _seal(key, plain)  # same key, same context, same plaintext
    a = HEADER + 3 * CHUNK
    _refused(key, sealed[:a] + other[a : a + CHUNK] + sealed[a + CHUNK :])


@pytest.mark.parametrize(("case", "att"), [("case-2", ATT), (CASE, "att-2")])
def test_moved_attachment_fails(data_key: bytes, case: str, att: str) -> None:
    _refused(data_key, _seal(data_key, b"x" * 1000), case, att)


def test_wrong_key_fails(data_key: bytes) -> None:
    _refused(new_data_key(), _seal(data_key, b"x" * 1000))


def test_max_size(data_key: bytes) -> None:
    out = io.BytesIO()
    out.write(PREFIX)
    with pytest.raises(AttachmentTooLarge) as info:
        seal_attachment(data_key, CASE, ATT, [b"a" * 1000, b"b" * 1000], out, 512, max_size=1500)
    assert isinstance(info.value, ValueError) and not isinstance(info.value, CryptoError)
    assert out.getvalue() == PREFIX
    out = io.BytesIO()
    assert seal_attachment(data_key, CASE, ATT, [b"a" * 1500], out, max_size=1500)[0] == 1500


def test_failing_input_rolls_back(data_key: bytes) -> None:
    def chunks() -> object:
        yield b"a" * 100_000
        raise OSError("upload interrupted")

    out = io.BytesIO()
    with pytest.raises(OSError, match="interrupted"):
        seal_attachment(data_key, CASE, ATT, chunks(), out)  # type: ignore[arg-type]
    assert out.getvalue() == b""
