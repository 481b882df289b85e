"""Argon2id parameters, stored next to each hash so they can be raised later."""

from __future__ import annotations

import struct
import threading
import unicodedata
from dataclasses import dataclass

from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

from ._errors import CryptoError

__all__ = [
    "MAX_ITERATIONS",
    "MAX_LANES",
    "MAX_MEMORY_KIB",
    "PACKED_SIZE",
    "PRODUCTION_RECEIPT_KDF",
    "PRODUCTION_USER_KDF",
    "SALT_BYTES",
    "TEST_KDF",
    "KdfParams",
    "derive",
    "passphrase_bytes",
]

# Upper bounds for parameters read back from a blob: a forged blob must not make us
# allocate terabytes or spin for hours.
MAX_MEMORY_KIB = 1 << 21  # 2 GiB
MAX_ITERATIONS = 32
MAX_LANES = 16
SALT_BYTES = 16
_PACK = struct.Struct(">IIB")
PACKED_SIZE = _PACK.size  # 9


@dataclass(frozen=True)
class KdfParams:
    """Argon2id cost: memory in KiB, passes, lanes (parallelism)."""

    memory_kib: int
    iterations: int
    lanes: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.lanes <= MAX_LANES:
            raise ValueError(f"lanes must be 1..{MAX_LANES}")
        if not 1 <= self.iterations <= MAX_ITERATIONS:
            raise ValueError(f"iterations must be 1..{MAX_ITERATIONS}")
        if not 8 * self.lanes <= self.memory_kib <= MAX_MEMORY_KIB:
            raise ValueError(f"memory_kib must be 8*lanes..{MAX_MEMORY_KIB}")

    def pack(self) -> bytes:
        return _PACK.pack(self.memory_kib, self.iterations, self.lanes)

    @classmethod
    def unpack(cls, data: bytes) -> KdfParams:
        """Read parameters from a stored blob; out-of-range values are CryptoError."""
        if len(data) != PACKED_SIZE:
            raise CryptoError("malformed key-derivation parameters")
        try:
            return cls(*_PACK.unpack(data))
        except ValueError as exc:
            raise CryptoError("unacceptable key-derivation parameters") from exc


PRODUCTION_USER_KDF = KdfParams(memory_kib=262144, iterations=3, lanes=1)
PRODUCTION_RECEIPT_KDF = KdfParams(memory_kib=65536, iterations=3, lanes=1)
TEST_KDF = KdfParams(memory_kib=8, iterations=1, lanes=1)  # Argon2id's minimum: tests only


# Argon2id is memory-hard on purpose: 64 MiB for a receipt, 256 MiB for a caseworker key.
# One derivation at a time per process, so a burst of submissions (or logins) costs that
# memory once instead of once per thread; each takes well under a second.
_MEMORY_SLOTS = threading.BoundedSemaphore(1)


def derive(secret: bytes, salt: bytes, params: KdfParams, ad: bytes) -> bytes:
    """Argon2id to 32 bytes; ``ad`` separates the uses (user keys, receipts)."""
    with _MEMORY_SLOTS:
        return _derive(secret, salt, params, ad)


def _derive(secret: bytes, salt: bytes, params: KdfParams, ad: bytes) -> bytes:
    kdf = Argon2id(
        salt=salt,
        length=32,
        iterations=params.iterations,
        lanes=params.lanes,
        memory_cost=params.memory_kib,
        ad=ad,
    )
    return kdf.derive(secret)


def passphrase_bytes(passphrase: str) -> bytes:
    """NFC-normalise so the same Arabic/Latin passphrase typed on another keyboard matches."""
    if not isinstance(passphrase, str) or not passphrase:
        raise ValueError("passphrase must be a non-empty str")
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")
