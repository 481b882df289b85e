"""Accounts for the dashboard: create a user with a key pair and a TOTP secret, and republish
the signed recipient manifest when the new user reads reports."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyotp

from core import SanadError
from storage import Database, accounts, casework, crypto, normalise_totp_secret, teams

__all__ = ["Cancelled", "Confirm", "NewUser", "add_user", "load_admin_key", "terminal_qr"]


@dataclass(frozen=True)
class NewUser:
    name: str
    role: str
    totp_secret: str
    totp_generated: bool
    manifest_version: int | None


def load_admin_key(pem: bytes, passphrase: str) -> Any:
    key = crypto.import_private_key_encrypted(pem, passphrase)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise crypto.CryptoError("the administrator key file does not hold a signing key")
    return key


class Cancelled(SanadError):
    """The administrator did not confirm the new recipient list: nothing was changed."""


Confirm = Callable[[list[crypto.Recipient]], bool]


def add_user(
    db: Database,
    name: str,
    role: str,
    passphrase: str,
    kdf: crypto.KdfParams,
    admin_public: bytes,
    totp_secret: str | None = None,
    admin_key: Any = None,
    confirm: Confirm | None = None,
    pin: accounts.ManifestPin | None = None,
    team_names: Sequence[str] = (),
) -> NewUser:
    """Create the account; a caseworker or supervisor also goes into a newly signed manifest
    (so new reports are sealed to them), and so does a custodian, under its own label (so the
    identity keys of new reports are wrapped to them); that needs the administrator's
    signing key.

    The new manifest is the previous *verified* manifest plus this one key, never what the
    users table holds (review finding 2). `confirm` is shown the whole new list before
    signing; False changes nothing (Cancelled). `team_names` (existing teams of the signed
    manifest) are signed with it; admins and auditors read no reports and join no team."""
    now = datetime.now(UTC)
    generated = not totp_secret
    secret = normalise_totp_secret(totp_secret) if totp_secret else pyotp.random_base32()
    if team_names and role not in accounts.READS_REPORTS:
        raise accounts.AccountError(
            "only caseworkers and supervisors are team members: "
            "admins, auditors and custodians read no reports"
        )
    if role in accounts.SIGNED_ROLES and admin_key is None:
        raise accounts.AccountError(
            "adding a caseworker, supervisor or custodian needs the administrator's signing key"
        )
    version = None
    with db.transaction() as session:
        user = accounts.create_user(session, name, role, passphrase, kdf, now)
        casework.set_totp_secret(session, user, secret, now)
        if role in accounts.SIGNED_ROLES:
            if admin_key.public_key().public_bytes_raw() != admin_public:
                raise crypto.ManifestError("that signing key is not the pinned administrator key")
            previous = accounts.verified_manifest(session, admin_public, pin)
            new = crypto.Recipient(
                label=accounts.manifest_label(name, role), public_key=user.public_key
            )
            plan = teams.Plan.of(previous)
            plan.put(new)
            try:
                plan.set_teams(new.label, team_names)
            except teams.TeamError as exc:
                raise accounts.AccountError(str(exc)) from exc
            recipients = plan.signed_list()
            if confirm is not None and not confirm(recipients):
                raise Cancelled("nothing was changed")
            version = accounts.publish_manifest(
                session, admin_key, list(recipients), now, teams=recipients.teams
            )
            if version <= previous.version:
                raise crypto.ManifestError("the manifest version did not grow")
            teams.mirror(session, accounts.verified_manifest(session, admin_public), now)
        accounts.audit(
            session,
            "admin",
            "user.add",
            None,
            "granted",
            now,
            user=name,
            role=role,
            **({"teams": ",".join(team_names)} if team_names else {}),
        )
    if version is not None and pin is not None:
        pin.check(version)
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
    return "\n".join(
        "".join(chars[(top, bottom)] for top, bottom in zip(matrix[i], matrix[i + 1], strict=True))
        for i in range(0, len(matrix), 2)
    )
