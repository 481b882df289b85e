"""Attachments: Cobblestone-256 streaming AEAD, memory bounded by the piece size.

File layout: ``version(1) | Cobblestone-256 ciphertext`` with context
``sanad/v1/att|case_id|attachment_id``. Cobblestone detects truncation, reordering and
appended data, but its decryptor yields plaintext before ``finalize()``: ``open_attachment``
therefore cuts ``out`` back to where it started if anything fails, so unverified plaintext
never survives an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import BinaryIO

from cryptography.cobblestone import Cobblestone256Decryptor, Cobblestone256Encryptor
from cryptography.exceptions import AlreadyFinalized, InvalidTag

from ._errors import AttachmentTooLarge, CryptoError
from ._util import check_key, component, context

__all__ = ["DEFAULT_PIECE", "MAX_PIECE", "VERSION", "open_attachment", "seal_attachment"]

VERSION = 1
DEFAULT_PIECE = 1 << 16
MAX_PIECE = 1 << 24
_PREFIX = b"sanad/v1/att|"
# Buffer slack documented by cryptography for update_into (encrypt / decrypt).
_ENC_SLACK = 16456
_DEC_SLACK = 16400


def _context(case_id: str, attachment_id: str) -> bytes:
    return context(
        _PREFIX, component("case_id", case_id), component("attachment_id", attachment_id)
    )


def _check_piece(piece: int) -> None:
    if isinstance(piece, bool) or not isinstance(piece, int) or not 1 <= piece <= MAX_PIECE:
        raise ValueError(f"piece must be 1..{MAX_PIECE}")


def _check_out(out: BinaryIO) -> int:
    if not out.seekable():
        raise ValueError("out must be seekable so a failure can be rolled back")
    return out.tell()


def _rollback(out: BinaryIO, start: int) -> None:
    out.seek(start)
    out.truncate()


def seal_attachment(
    key: bytes,
    case_id: str,
    attachment_id: str,
    chunks: Iterable[bytes],
    out: BinaryIO,
    piece: int = DEFAULT_PIECE,
    *,
    max_size: int | None = None,
) -> tuple[int, str]:
    """Encrypt ``chunks`` into ``out``; return (plaintext size, plaintext SHA-256 hex).

    Large input chunks are cut into pieces so memory stays bounded by ``piece``. On any
    error (including ``AttachmentTooLarge``) ``out`` is cut back to its start.
    """
    _check_piece(piece)
    encryptor = Cobblestone256Encryptor(check_key(key), context=_context(case_id, attachment_id))
    start = _check_out(out)
    buf = bytearray(piece + piece // 1024 + _ENC_SLACK)
    view = memoryview(buf)
    digest = hashlib.sha256()
    size = 0
    try:
        out.write(bytes([VERSION]))
        for chunk in chunks:
            data = memoryview(chunk)
            for offset in range(0, len(data), piece):
                part = data[offset : offset + piece]
                size += len(part)
                if max_size is not None and size > max_size:
                    raise AttachmentTooLarge(max_size)
                digest.update(part)
                out.write(view[: encryptor.update_into(part, buf)])
        out.write(encryptor.finalize())
    except BaseException:
        _rollback(out, start)
        raise
    return size, digest.hexdigest()


def open_attachment(
    key: bytes,
    case_id: str,
    attachment_id: str,
    src: BinaryIO,
    out: BinaryIO,
    piece: int = DEFAULT_PIECE,
) -> tuple[int, str]:
    """Decrypt ``src`` into ``out``; return (plaintext size, plaintext SHA-256 hex).

    ``out`` holds trustworthy plaintext only if this returns: on CryptoError (or an I/O
    error) everything written is truncated away.
    """
    _check_piece(piece)
    decryptor = Cobblestone256Decryptor(check_key(key), context=_context(case_id, attachment_id))
    start = _check_out(out)
    buf = bytearray(piece + _DEC_SLACK)
    view = memoryview(buf)
    digest = hashlib.sha256()
    size = 0
    try:
        if src.read(1) != bytes([VERSION]):
            raise CryptoError("attachment header is missing or unsupported")
        while data := src.read(piece):
            written = view[: decryptor.update_into(data, buf)]
            out.write(written)
            digest.update(written)
            size += len(written)
        tail = decryptor.finalize()
        out.write(tail)
        digest.update(tail)
        size += len(tail)
    except (InvalidTag, AlreadyFinalized) as exc:
        _rollback(out, start)
        raise CryptoError("attachment cannot be opened") from exc
    except BaseException:
        _rollback(out, start)
        raise
    return size, digest.hexdigest()
