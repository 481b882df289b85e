"""The exception tree of ``storage.crypto``.

::

    CryptoError                      sealed data that cannot be opened: wrong key, altered,
     |                               moved to another case/field/user, truncated, wrong
     |                               passphrase, random bytes. One error on purpose: callers
     |                               must not learn (or tell an attacker) *why* it failed.
     +-- ManifestError               recipient manifest unsigned, altered or wrongly signed
    AttachmentTooLarge(ValueError)   input refused while sealing; nothing is kept

Messages never contain plaintext, ids or key material. Programming errors (a key of the
wrong length, an id containing ``|``) raise ``ValueError``/``TypeError`` instead.
"""

from __future__ import annotations

from core import RefusedError, SanadError

__all__ = ["AttachmentTooLarge", "CryptoError", "ManifestError"]


class CryptoError(SanadError):
    """Sealed data could not be opened or verified."""


class ManifestError(CryptoError):
    """A recipient manifest is unsigned, altered, malformed or signed by another key."""


class AttachmentTooLarge(RefusedError, ValueError):
    """An attachment exceeded the size limit given to ``seal_attachment``."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"attachment exceeds the limit of {limit} bytes")
        self.limit = limit
