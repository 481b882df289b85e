"""Property 10: ciphertexts saved once (golden/) still open after dependency upgrades.

If this fails after an upgrade, the upgrade broke stored reports: do not regenerate the
files, fix the code (or add a migration that keeps reading the old format).
"""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from storage.crypto import (
    open_attachment,
    open_field,
    parse_receipt,
    public_bytes,
    unlock_private_key,
    unwrap_key,
    verify_manifest,
    verify_receipt,
)


@pytest.fixture(scope="module")
def meta(golden_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((golden_dir / "golden.json").read_text("utf-8"))
    return loaded


@pytest.fixture(scope="module")
def private(golden_dir: Path) -> X25519PrivateKey:
    return X25519PrivateKey.from_private_bytes((golden_dir / "recipient_private.bin").read_bytes())


@pytest.fixture(scope="module")
def data_key(golden_dir: Path, meta: dict[str, Any], private: X25519PrivateKey) -> bytes:
    return unwrap_key((golden_dir / "wrapped_key.bin").read_bytes(), meta["case_id"], private)


def test_field(golden_dir: Path, meta: dict[str, Any], data_key: bytes) -> None:
    """Crypto property 10 (crypto-design.md)."""
    sealed = (golden_dir / "field.bin").read_bytes()
    opened = open_field(data_key, meta["case_id"], meta["field_id"], meta["seq"], sealed)
    assert opened.decode() == meta["field_text"]


def test_attachment(golden_dir: Path, meta: dict[str, Any], data_key: bytes) -> None:
    """Crypto property 10 (crypto-design.md)."""
    out = io.BytesIO()
    with (golden_dir / "attachment.bin").open("rb") as src:
        size, digest = open_attachment(data_key, meta["case_id"], meta["attachment_id"], src, out)
    assert size == meta["attachment_size"] == len(out.getvalue())
    assert digest == meta["attachment_sha256"] == hashlib.sha256(out.getvalue()).hexdigest()


def test_locked_key(golden_dir: Path, meta: dict[str, Any], private: X25519PrivateKey) -> None:
    blob = (golden_dir / "locked_key.bin").read_bytes()
    unlocked = unlock_private_key(blob, meta["passphrase"], meta["user_id"])
    assert public_bytes(unlocked) == public_bytes(private)


def test_receipt(golden_dir: Path, meta: dict[str, Any]) -> None:
    parsed = parse_receipt(meta["receipt_code"])
    assert parsed is not None
    assert verify_receipt(parsed[1], (golden_dir / "receipt_verifier.bin").read_bytes())


def test_manifest(golden_dir: Path, meta: dict[str, Any], private: X25519PrivateKey) -> None:
    manifest = verify_manifest(
        (golden_dir / "manifest.bin").read_bytes(), (golden_dir / "admin_public.bin").read_bytes()
    )
    assert manifest.version == meta["manifest_version"]
    assert manifest.created == meta["manifest_created"]
    assert [r.public_key for r in manifest.recipients] == [public_bytes(private)]
