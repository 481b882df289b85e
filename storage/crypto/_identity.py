"""The protected identity section: a second key per case, for names and contact details.

The identity key is random, like a data key, but wrapped under its own HPKE context
(``info = sanad/v1/idwrap|case_id|key_id hex``), so a wrapped data key moved into the
identity table (or the other way round) does not open, and it is never derived from the data
key: a reader of the narrative learns nothing about it. Identity fields are sealed with
``seal_field`` under that key with the field id ``identity:<field>``.

The readers' sealed index of the report commits to the identity key
(``identity_commitment``: SHA-256 over a domain prefix, the case id and the key), so an
identity section swapped for one sealed under another key, to the custodians' public keys,
is reported as tampering when it is opened.
"""

from __future__ import annotations

import hashlib

from ._keys import SUITE_X25519, unwrap_key, wrap_key
from ._util import check_key, component, context

_WRAP_PREFIX = b"sanad/v1/idwrap|"
_COMMIT_PREFIX = b"sanad/v1/idcommit|"
IDENTITY_FIELD_PREFIX = "identity:"


def wrap_identity_key(
    identity_key: bytes, case_id: str, recipient_public: bytes, suite: int = SUITE_X25519
) -> bytes:
    """Encrypt a case's identity key to one custodian (or a reader a custodian approved)."""
    return wrap_key(identity_key, case_id, recipient_public, suite, _prefix=_WRAP_PREFIX)


def unwrap_identity_key(wrapped: bytes, case_id: str, private_key: object) -> bytes:
    """Recover the identity key; CryptoError unless wrapped as one, for this case and key."""
    return unwrap_key(
        wrapped,
        case_id,
        private_key,  # type: ignore[arg-type]
        _prefix=_WRAP_PREFIX,
    )


def identity_commitment(identity_key: bytes, case_id: str) -> str:
    """What the readers' sealed index holds about the identity key: a hash, never the key."""
    check_key(identity_key)
    return hashlib.sha256(
        context(_COMMIT_PREFIX, component("case_id", case_id)) + b"|" + identity_key
    ).hexdigest()


__all__ = [
    "IDENTITY_FIELD_PREFIX",
    "identity_commitment",
    "unwrap_identity_key",
    "wrap_identity_key",
]
