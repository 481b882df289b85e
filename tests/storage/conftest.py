"""Crypto fixtures: real keys, cheap Argon2id through a scoped fixture, a fake clock."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage.crypto import TEST_KDF, KdfParams, generate_keypair, new_data_key

GOLDEN_DIR = Path(__file__).parent / "golden"


@pytest.fixture(scope="session")
def kdf() -> KdfParams:
    """Argon2id at its minimum cost: tests only, never patched in globally."""
    return TEST_KDF


@pytest.fixture
def data_key() -> bytes:
    return new_data_key()


@dataclass
class Party:
    private: X25519PrivateKey
    public: bytes


@pytest.fixture
def recipient() -> Party:
    return Party(*generate_keypair())


@pytest.fixture
def outsider() -> Party:
    return Party(*generate_keypair())


class FakeClock:
    """A clock the test moves by hand; pass it wherever a ``clock`` callable is taken."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(scope="session")
def golden_dir() -> Path:
    return GOLDEN_DIR
