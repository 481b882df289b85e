"""The audit log's hash chain: each entry's hash covers the previous hash and its record."""

from __future__ import annotations

import hashlib

__all__ = ["GENESIS", "chain_hash"]

GENESIS = b"\x00" * 32
_PREFIX = b"sanad/v1/audit|"


def chain_hash(prev: bytes, record: bytes) -> bytes:
    """SHA-256 over a domain prefix, the previous entry's hash and this entry's record."""
    if len(prev) != 32:
        raise ValueError("previous hash must be 32 bytes")
    return hashlib.sha256(_PREFIX + prev + record).digest()
