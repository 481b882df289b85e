"""Accounts for the dashboard: create a user with a key pair and a TOTP secret, and republish
the signed recipient manifest when the new user reads reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp

from storage import accounts, casework, crypto
from storage.db import Database


@dataclass(frozen=True)
class NewUser:
    name: str
    role: str
    totp_secret: str
    totp_generated: bool
    manifest_version: int | None


def normalise_totp_secret(secret: str) -> str:
    """Accept base32 with spaces or lower case; refuse anything else clearly."""
    cleaned = "".join(secret.split()).upper().rstrip("=")
    try:
        pyotp.TOTP(cleaned).now()
    except Exception as exc:  # pyotp raises binascii.Error/ValueError on bad base32
        raise accounts.AccountError("the TOTP secret must be base32 (A-Z, 2-7)") from exc
    if len(cleaned) < 16:
        raise accounts.AccountError("the TOTP secret must have at least 16 base32 characters")
    return cleaned


def new_totp_secret() -> str:
    return pyotp.random_base32()


def load_admin_key(pem: bytes, passphrase: str) -> Any:
    key = crypto.import_private_key_encrypted(pem, passphrase)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise crypto.CryptoError("the administrator key file does not hold a signing key")
    return key


def add_user(db: Database, name: str, role: str, passphrase: str, kdf: crypto.KdfParams,
             admin_public: bytes, totp_secret: str | None = None,
             admin_key: Any = None) -> NewUser:
    """Create the account; a caseworker or supervisor also goes into a newly signed manifest
    (so new reports are sealed to them), which needs the administrator's signing key."""
    now = datetime.now(UTC)
    generated = not totp_secret
    secret = normalise_totp_secret(totp_secret) if totp_secret else pyotp.random_base32()
    if role in accounts.READS_REPORTS and admin_key is None:
        raise accounts.AccountError("adding a caseworker or supervisor needs the "
                                    "administrator's signing key")
    version = None
    with db.transaction() as session:
        user = accounts.create_user(session, name, role, passphrase, kdf, now)
        casework.set_totp_secret(session, user, secret, now)
        if role in accounts.READS_REPORTS:
            if admin_key.public_key().public_bytes_raw() != admin_public:
                raise crypto.ManifestError("that signing key is not the pinned administrator key")
            recovery = [r for r in accounts.current_recipients(session, admin_public)
                        if r.label == accounts.RECOVERY_LABEL]
            version = accounts.publish_manifest(
                session, admin_key, [*accounts.report_readers(session), *recovery], now)
        accounts.audit(session, "admin", "user.add", None, "granted", now, user=name, role=role)
    return NewUser(name, role, secret, generated, version)


def terminal_qr(uri: str) -> str:
    """The enrolment QR code as text for a terminal (two rows per line)."""
    import qrcode

    qr = qrcode.QRCode(border=2)
    qr.add_data(uri)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    if len(matrix) % 2:
        matrix.append([False] * len(matrix[0]))
    chars = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    return "\n".join("".join(chars[(top, bottom)] for top, bottom in zip(
        matrix[i], matrix[i + 1], strict=True)) for i in range(0, len(matrix), 2))
