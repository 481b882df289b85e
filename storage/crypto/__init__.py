"""Every cryptographic operation of Sanad; handlers never call ``cryptography`` directly.

Anything sealed that cannot be opened raises :class:`CryptoError` (see ``_errors`` for
the exception tree). The design is ``/work/shared/crypto-design.md``: a random data key
per report, HPKE-wrapped to each recipient; fields with AES-256-GCM, attachments with
Cobblestone-256, every ciphertext bound to its case/field/recipient; passphrases and
receipts through Argon2id; drafts under short-lived epoch keys kept out of the database.
"""

from ._attachments import open_attachment, seal_attachment
from ._chain import GENESIS, chain_hash
from ._drafts import (
    DraftKeyMissing,
    DraftKeyring,
    Keyring,
    default_epoch_dir,
    open_draft,
    seal_draft,
)
from ._errors import AttachmentTooLarge, CryptoError, ManifestError
from ._fields import new_data_key, open_field, seal_field
from ._handles import new_pepper, user_handle
from ._identity import (
    IDENTITY_FIELD_PREFIX,
    identity_commitment,
    unwrap_identity_key,
    wrap_identity_key,
)
from ._kdf import PRODUCTION_RECEIPT_KDF, PRODUCTION_USER_KDF, TEST_KDF, KdfParams
from ._keys import (
    SUITE_MLKEM768_X25519,
    SUITE_X25519,
    HybridPrivateKey,
    generate_hybrid_keypair,
    generate_keypair,
    key_id,
    load_public,
    public_bytes,
    unwrap_key,
    wrap_key,
)
from ._manifest import Manifest, Recipient, generate_signing_key, sign_manifest, verify_manifest
from ._receipts import (
    Receipt,
    format_receipt,
    looks_like_receipt,
    new_receipt,
    parse_receipt,
    verify_receipt,
)
from ._redis_keyring import KeyringUnavailable, RedisKeyring, keyring_namespace
from ._userkeys import (
    export_private_key_encrypted,
    import_private_key_encrypted,
    is_locked_offline_key,
    lock_private_key,
    locked_key_id,
    unlock_private_key,
)

__all__ = [
    "GENESIS",
    "IDENTITY_FIELD_PREFIX",
    "PRODUCTION_RECEIPT_KDF",
    "PRODUCTION_USER_KDF",
    "SUITE_MLKEM768_X25519",
    "SUITE_X25519",
    "TEST_KDF",
    "AttachmentTooLarge",
    "CryptoError",
    "DraftKeyMissing",
    "DraftKeyring",
    "HybridPrivateKey",
    "KdfParams",
    "Keyring",
    "KeyringUnavailable",
    "Manifest",
    "ManifestError",
    "Receipt",
    "Recipient",
    "RedisKeyring",
    "chain_hash",
    "default_epoch_dir",
    "export_private_key_encrypted",
    "format_receipt",
    "generate_hybrid_keypair",
    "generate_keypair",
    "generate_signing_key",
    "identity_commitment",
    "import_private_key_encrypted",
    "is_locked_offline_key",
    "key_id",
    "keyring_namespace",
    "load_public",
    "lock_private_key",
    "locked_key_id",
    "looks_like_receipt",
    "new_data_key",
    "new_pepper",
    "new_receipt",
    "open_attachment",
    "open_draft",
    "open_field",
    "parse_receipt",
    "public_bytes",
    "seal_attachment",
    "seal_draft",
    "seal_field",
    "sign_manifest",
    "unlock_private_key",
    "unwrap_identity_key",
    "unwrap_key",
    "user_handle",
    "verify_manifest",
    "verify_receipt",
    "wrap_identity_key",
    "wrap_key",
]
