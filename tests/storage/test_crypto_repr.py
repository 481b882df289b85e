"""Secrets never appear in repr (so never in logs or tracebacks by accident)."""

from __future__ import annotations

from storage.crypto import TEST_KDF, generate_hybrid_keypair, new_receipt


def test_receipt_repr_hides_everything() -> None:
    receipt = new_receipt(TEST_KDF)
    text = repr(receipt)
    assert receipt.code not in text and receipt.handle.hex() not in text
    assert repr(receipt.handle) not in text and repr(receipt.verifier) not in text


def test_hybrid_key_repr() -> None:
    private, _ = generate_hybrid_keypair()
    assert repr(private) == "HybridPrivateKey(<hidden>)"
