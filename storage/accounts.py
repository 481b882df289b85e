"""Caseworker accounts, the signed recipient manifest, and the audit log."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import select
from sqlalchemy.orm import Session

from core import RefusedError
from storage import crypto
from storage.models import AuditEntry, RecipientManifest, User

__all__ = [
    "CUSTODIAN",
    "CUSTODIAN_PREFIX",
    "READS_REPORTS",
    "RECOVERY_LABEL",
    "ROLES",
    "SIGNED_ROLES",
    "AccountError",
    "ManifestPin",
    "any_user",
    "audit",
    "audit_log",
    "create_user",
    "current_recipients",
    "fingerprint",
    "get_user",
    "identity_recipients",
    "is_active",
    "manifest_label",
    "new_totp_secret",
    "normalise_totp_secret",
    "publish_manifest",
    "report_readers",
    "unlock",
    "verified_key",
    "verified_manifest",
]

ROLES = ("caseworker", "supervisor", "admin", "auditor", "custodian")
READS_REPORTS = frozenset({"caseworker", "supervisor"})  # new reports are sealed to them
# Custodians hold the identity keys of new reports (names, contact details) and approve a
# reader's request to open them; they read no narrative (docs/threat-model.md). They are in
# the signed manifest under their own label, so the intake knows them without the users table.
CUSTODIAN = "custodian"
SIGNED_ROLES = READS_REPORTS | {CUSTODIAN}  # accounts whose key goes into the manifest
CUSTODIAN_PREFIX = "custodian:"
RECOVERY_LABEL = "organisation-recovery"


def manifest_label(name: str, role: str) -> str:
    """The label of an account's key in the signed manifest."""
    return f"{CUSTODIAN_PREFIX}{name}" if role == CUSTODIAN else f"user:{name}"


class AccountError(RefusedError):
    """A user-facing problem with an account (unknown name, wrong role, duplicate)."""


def create_user(
    session: Session, name: str, role: str, passphrase: str, params: crypto.KdfParams, now: datetime
) -> User:
    if role not in ROLES:
        raise AccountError(f"unknown role '{role}' (use one of: {', '.join(ROLES)})")
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").isalnum():
        raise AccountError("a user name is 1 to 64 letters, digits, '-' or '_'")
    if len(passphrase) < 8:
        raise AccountError("the passphrase must have at least 8 characters")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise AccountError(f"a user named '{name}' already exists")
    user_id = str(uuid.uuid4())
    private, public = crypto.generate_keypair()
    user = User(
        id=user_id,
        name=name,
        role=role,
        public_key=public,
        key_id=crypto.key_id(public),
        private_key_blob=crypto.lock_private_key(private, passphrase, user_id, params),
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def get_user(session: Session, name: str) -> User | None:
    """The active account NAME; None for an unknown or disabled one."""
    return session.scalar(select(User).where(User.name == name, User.disabled_at.is_(None)))


def any_user(session: Session, name: str) -> User | None:
    """The account NAME, disabled or not (for the lifecycle commands)."""
    return session.scalar(select(User).where(User.name == name))


def is_active(session: Session, user_id: str) -> bool:
    """True while the account exists and is not disabled. The dashboard asks this on every
    request, so a disabled person's open sessions end at once (issue 14)."""
    return (
        session.scalar(select(User.id).where(User.id == user_id, User.disabled_at.is_(None)))
        is not None
    )


def unlock(user: User, passphrase: str) -> Any:
    """The user's private key; crypto.CryptoError on a wrong passphrase."""
    return crypto.unlock_private_key(user.private_key_blob, passphrase, user.id)


def report_readers(session: Session) -> list[crypto.Recipient]:
    """Reader rows of the users table. Not a source of recipients: a database writer can add
    rows (finding 2); the next manifest is built from the previous verified one."""
    users = session.scalars(
        select(User)
        .where(User.role.in_(READS_REPORTS), User.disabled_at.is_(None))
        .order_by(User.name)
    )
    return [crypto.Recipient(label=f"user:{u.name}", public_key=u.public_key) for u in users]


def publish_manifest(
    session: Session,
    admin_key: Any,
    recipients: Sequence[crypto.Recipient],
    now: datetime,
    teams: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Sign and store the next manifest version: the recipients and (storage.teams) the
    teams, both under the administrator's signature."""
    latest = (
        session.scalar(
            select(RecipientManifest.version).order_by(RecipientManifest.version.desc()).limit(1)
        )
        or 0
    )
    version = latest + 1
    blob = crypto.sign_manifest(admin_key, list(recipients), version, teams=teams)
    session.add(RecipientManifest(version=version, blob=blob, created_at=now))
    session.flush()
    return version


class ManifestPin:
    """The highest manifest version seen, kept outside the database (SANAD_HOME/keys/
    manifest-version): deleting newer manifest rows cannot roll the recipients back
    (December 2026 review, finding 18). It only grows."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def floor(self) -> int:
        try:
            return int(self.path.read_text().strip() or 0)
        except FileNotFoundError:
            return 0
        except ValueError as exc:
            raise crypto.ManifestError(f"{self.path} is not a version number") from exc

    def check(self, version: int) -> None:
        """Refuse a version below the pin; raise the pin to a newer one."""
        floor = self.floor()
        if version < floor:
            raise crypto.ManifestError(
                f"the newest recipient manifest is version {version} but version {floor} was "
                "seen before: newer manifests were deleted (rollback refused)"
            )
        if version > floor:
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text(f"{version}\n")
            os.replace(tmp, self.path)


def verified_manifest(
    session: Session, pinned_admin_public: bytes, pin: ManifestPin | None = None
) -> crypto.Manifest:
    """The newest manifest, verified against the pinned administrator key (and, with a pin,
    never older than one seen before). crypto.ManifestError when there is none or it does
    not verify: the intake side then refuses to seal anything rather than seal to keys it
    cannot trust."""
    row = session.scalar(
        select(RecipientManifest).order_by(RecipientManifest.version.desc()).limit(1)
    )
    if row is None:
        raise crypto.ManifestError("no recipient manifest: run `sanad init`")
    manifest = crypto.verify_manifest(row.blob, pinned_admin_public)
    if manifest.version != row.version:
        raise crypto.ManifestError("manifest version does not match its row")
    if not any(r.label == RECOVERY_LABEL for r in manifest.recipients):
        raise crypto.ManifestError("the manifest lacks the organisation recovery key")
    if pin is not None:
        pin.check(manifest.version)
    return manifest


def current_recipients(
    session: Session, pinned_admin_public: bytes, pin: ManifestPin | None = None
) -> tuple[crypto.Recipient, ...]:
    """Report recipients from the newest verified manifest (see `verified_manifest`): the
    readers and the recovery key, never the custodians (they get identity keys only)."""
    return tuple(
        r
        for r in verified_manifest(session, pinned_admin_public, pin).recipients
        if not r.label.startswith(CUSTODIAN_PREFIX)
    )


def identity_recipients(
    session: Session, pinned_admin_public: bytes, pin: ManifestPin | None = None
) -> tuple[crypto.Recipient, ...]:
    """Who a new report's identity key is wrapped to: the custodians the newest verified
    manifest lists, and the recovery key. Never a reader, never a users row."""
    return tuple(
        r
        for r in verified_manifest(session, pinned_admin_public, pin).recipients
        if r.label.startswith(CUSTODIAN_PREFIX) or r.label == RECOVERY_LABEL
    )


def verified_key(
    session: Session, user: User, pinned_admin_public: bytes, pin: ManifestPin | None = None
) -> crypto.Recipient:
    """The user's key as the signed manifest lists it; ManifestError when the users row's
    key is not the signed one (findings 2 and 3: a row written into the database, or a
    swapped public key, gets nothing wrapped to it)."""
    if crypto.key_id(user.public_key) != user.key_id:
        raise crypto.ManifestError(f"the key of '{user.name}' does not match its key id")
    label = manifest_label(user.name, user.role)
    for recipient in verified_manifest(session, pinned_admin_public, pin).recipients:
        if (
            recipient.label == label
            and recipient.key_id == user.key_id
            and recipient.public_key == user.public_key
        ):
            return recipient
    raise crypto.ManifestError(f"the key of '{user.name}' is not in the signed recipient manifest")


def fingerprint(public_key: bytes) -> str:
    """A key's id as people compare it: 32 hex digits in groups of 4."""
    kid = crypto.key_id(public_key).hex()
    return " ".join(kid[i : i + 4] for i in range(0, len(kid), 4))


def audit(
    session: Session,
    actor: str,
    action: str,
    case_ref: str | None,
    outcome: str,
    now: datetime,
    **detail: Any,
) -> None:
    """Append to the hash-chained audit log (storage.audit_chain); never pass content."""
    from storage import audit_chain

    audit_chain.append(session, actor, action, case_ref, outcome, now, detail)


def audit_log(session: Session, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


def normalise_totp_secret(secret: str) -> str:
    """Accept base32 with spaces or lower case; refuse anything else clearly."""
    cleaned = "".join(secret.split()).upper().rstrip("=")
    try:
        pyotp.TOTP(cleaned).now()
    except Exception as exc:  # pyotp raises binascii.Error/ValueError on bad base32
        raise AccountError("the TOTP secret must be base32 (A-Z, 2-7)") from exc
    if len(cleaned) < 16:
        raise AccountError("the TOTP secret must have at least 16 base32 characters")
    return cleaned


def new_totp_secret() -> str:
    return pyotp.random_base32()
