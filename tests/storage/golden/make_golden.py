"""Write the golden ciphertexts once; commit them; never regenerate to make a test pass.

Run from the project root: ``python tests/storage/golden/make_golden.py`` (``--force``
to overwrite). The files are test data only: the keys and passphrase are public.
"""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Any

from storage.crypto import (
    TEST_KDF,
    Recipient,
    generate_keypair,
    generate_signing_key,
    lock_private_key,
    new_data_key,
    new_receipt,
    seal_attachment,
    seal_field,
    sign_manifest,
    wrap_key,
)

HERE = Path(__file__).parent
META: dict[str, Any] = {
    "case_id": "case-golden-1",
    "field_id": "q_what_happened",
    "seq": 2,
    "field_text": "اعتُقلت في ٣ آذار — detained on 3 March",
    "attachment_id": "att-golden-1",
    "attachment_size": 150_000,
    "user_id": "golden-caseworker",
    "passphrase": "golden passphrase كلمة",
    "manifest_version": 7,
    "manifest_created": 1_700_000_000,
}
FILES = (
    "field.bin",
    "wrapped_key.bin",
    "recipient_private.bin",
    "attachment.bin",
    "locked_key.bin",
    "receipt_verifier.bin",
    "manifest.bin",
    "admin_public.bin",
    "golden.json",
)


def attachment_plaintext(size: int) -> bytes:
    """Deterministic filler: only its size and SHA-256 (in golden.json) are checked."""
    blocks = (hashlib.sha256(i.to_bytes(8, "big")).digest() for i in range(size // 32 + 1))
    return b"".join(blocks)[:size]


def main(force: bool) -> None:
    if not force and any((HERE / name).exists() for name in FILES):
        sys.exit("golden files exist; pass --force only if the format really changed")
    private, public = generate_keypair()
    data_key = new_data_key()
    case = META["case_id"]
    out = io.BytesIO()
    plain = attachment_plaintext(META["attachment_size"])
    _, digest = seal_attachment(data_key, case, META["attachment_id"], [plain], out)
    receipt = new_receipt(TEST_KDF)
    admin, admin_public = generate_signing_key()
    files = {
        "field.bin": seal_field(
            data_key,
            case,
            META["field_id"],
            META["seq"],
            META["field_text"].encode(),
        ),
        "wrapped_key.bin": wrap_key(data_key, case, public),
        "recipient_private.bin": private.private_bytes_raw(),
        "attachment.bin": out.getvalue(),
        "locked_key.bin": lock_private_key(private, META["passphrase"], META["user_id"], TEST_KDF),
        "receipt_verifier.bin": receipt.verifier,
        "manifest.bin": sign_manifest(
            admin,
            [Recipient("golden recipient", public)],
            META["manifest_version"],
            created=META["manifest_created"],
        ),
        "admin_public.bin": admin_public,
    }
    meta = {**META, "attachment_sha256": digest, "receipt_code": receipt.code}
    for name, content in files.items():
        (HERE / name).write_bytes(content)
    text = json.dumps(meta, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    (HERE / "golden.json").write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main("--force" in sys.argv[1:])
