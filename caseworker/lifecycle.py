"""Account lifecycle and teams (issue 14): teams, roles and team membership, disabling an
account, a new passphrase, a TOTP reset. One function per use case, shared by the CLI and the
dashboard; each is one transaction and lands in the audit log.

Whatever changes who new reports are sealed to is a new manifest signed with the
administrator's key, built from the previous verified manifest plus the change (storage.teams
Plan) and shown whole to `confirm` before anything is written: False changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from caseworker.users import Cancelled
from storage import (
    AccessRequest,
    Case,
    Database,
    IdentityKey,
    User,
    WrappedKey,
    accounts,
    casework,
    crypto,
    normalise_totp_secret,
    teams,
)

__all__ = [
    "Disabled",
    "add_team",
    "change_manifest",
    "change_passphrase",
    "disable_user",
    "list_teams",
    "list_users",
    "reset_totp",
    "set_user",
    "stop_access",
]

Confirm = Callable[[list[crypto.Recipient]], bool]


def _now() -> datetime:
    return datetime.now(UTC)


def change_manifest(
    session: Session,
    admin_key: Any,
    admin_public: bytes,
    edit: Callable[[teams.Plan], None],
    confirm: Confirm | None,
    now: datetime,
    pin: accounts.ManifestPin | None = None,
) -> int:
    """Sign the next manifest: the previous verified one, changed by `edit`; its version."""
    if admin_key is None:
        raise accounts.AccountError("this change needs the administrator's signing key")
    if admin_key.public_key().public_bytes_raw() != admin_public:
        raise crypto.ManifestError("that signing key is not the pinned administrator key")
    previous = accounts.verified_manifest(session, admin_public, pin)
    plan = teams.Plan.of(previous)
    try:
        edit(plan)
    except teams.TeamError as exc:
        raise accounts.AccountError(str(exc)) from exc
    signed = plan.signed_list()
    if confirm is not None and not confirm(signed):
        raise Cancelled("nothing was changed")
    version = accounts.publish_manifest(session, admin_key, list(signed), now, teams=signed.teams)
    if version <= previous.version:
        raise crypto.ManifestError("the manifest version did not grow")
    teams.mirror(session, accounts.verified_manifest(session, admin_public), now)
    return version


def _pin_after(pin: accounts.ManifestPin | None, version: int) -> None:
    if pin is not None:
        pin.check(version)


def add_team(
    db: Database,
    name: str,
    admin_key: Any,
    admin_public: bytes,
    confirm: Confirm | None = None,
    pin: accounts.ManifestPin | None = None,
) -> int:
    now = _now()
    with db.transaction() as session:
        version = change_manifest(
            session, admin_key, admin_public, lambda plan: plan.add_team(name), confirm, now, pin
        )
        accounts.audit(
            session, "admin", "team.add", None, "granted", now, team=name, manifest=version
        )
    _pin_after(pin, version)
    return version


def list_teams(db: Database, admin_public: bytes) -> list[dict[str, Any]]:
    """Teams as the signed manifest has them: `[{"name", "members": [...]}]`."""
    with db.transaction() as session:
        manifest = accounts.verified_manifest(session, admin_public)
    return [
        {"name": name, "members": [teams.user_of_label(m) or m for m in members]}
        for name, members in sorted(manifest.teams.items())
    ]


def list_users(db: Database, admin_public: bytes) -> list[dict[str, Any]]:
    """`[{"name", "role", "teams", "disabled", "recipient"}]`: teams from the signed manifest."""
    with db.transaction() as session:
        manifest = accounts.verified_manifest(session, admin_public)
        users = list(session.scalars(select(User).order_by(User.name)))
    signed = {r.label: r for r in manifest.recipients}
    out = []
    for u in users:
        label = teams.label_of(u.name)
        r = signed.get(label)
        out.append(
            {
                "name": u.name,
                "role": u.role,
                "teams": list(manifest.teams_of(label)),
                "disabled": u.disabled_at is not None,
                "recipient": r is not None and r.public_key == u.public_key,
            }
        )
    return out


def _user(session: Session, name: str) -> User:
    user = accounts.any_user(session, name)
    if user is None:
        raise accounts.AccountError(f"no user named '{name}'")
    return user


def set_user(
    db: Database,
    name: str,
    role: str | None,
    team_names: Sequence[str] | None,
    admin_key: Any,
    admin_public: bytes,
    confirm: Confirm | None = None,
    pin: accounts.ManifestPin | None = None,
) -> int:
    """Change NAME's role and/or teams (`team_names` replaces them; None keeps them). A
    caseworker or supervisor is a recipient; another role is not (need-to-know), so a reader
    who becomes an admin or auditor leaves the manifest and loses the copies of case keys."""
    now = _now()
    if role is not None and role not in accounts.ROLES:
        raise accounts.AccountError(f"unknown role '{role}'")
    with db.transaction() as session:
        user = _user(session, name)
        if user.disabled_at is not None:
            raise accounts.AccountError(f"'{name}' is disabled")
        new_role = role or user.role
        reads = new_role in accounts.READS_REPORTS
        if team_names and not reads:
            raise accounts.AccountError(
                "only caseworkers and supervisors are team members: "
                "admins and auditors read no reports"
            )
        label = teams.label_of(name)

        def edit(plan: teams.Plan) -> None:
            if not reads:
                plan.remove(label)
                return
            if label not in plan.recipients:
                plan.put(crypto.Recipient(label=label, public_key=user.public_key))
            if team_names is not None:
                plan.set_teams(label, team_names)

        version = change_manifest(session, admin_key, admin_public, edit, confirm, now, pin)
        removed = 0
        if not reads:
            removed = stop_access(session, user)
        old_role, user.role = user.role, new_role
        accounts.audit(
            session,
            "admin",
            "user.set",
            None,
            "granted",
            now,
            user=name,
            role=new_role,
            previous_role=old_role,
            teams=",".join(team_names) if team_names is not None else "(kept)",
            keys_deleted=removed,
            manifest=version,
        )
    _pin_after(pin, version)
    return version


def stop_access(session: Session, user: User) -> int:
    """Delete every wrapped copy of a case key for this account's key (they can no longer
    open any case, even one they opened before), release their claims and close their
    pending access requests; the number of wrapped keys deleted."""
    result = session.execute(delete(WrappedKey).where(WrappedKey.key_id == user.key_id))
    # and every copy of an identity key (a custodian's, or a reader's approved one)
    session.execute(delete(IdentityKey).where(IdentityKey.key_id == user.key_id))
    session.execute(
        update(Case)
        .where(Case.assigned_to == user.id)
        .values(assigned_to=None)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(AccessRequest)
        .where(AccessRequest.requester_id == user.id, AccessRequest.status == "pending")
        .values(status="refused", decided_by="-", decided_at=_now())
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Disabled:
    name: str
    keys_deleted: int
    manifest_version: int | None
    recovery_only: tuple[str, ...]  # case references now readable only by the recovery key


def _recovery_only(session: Session, admin_public: bytes, case_ids: set[str]) -> list[str]:
    if not case_ids:
        return []
    recovery = {
        r.key_id
        for r in accounts.current_recipients(session, admin_public)
        if r.label == accounts.RECOVERY_LABEL
    }
    out = []
    for case in session.scalars(select(Case).where(Case.id.in_(case_ids))):
        kids = set(session.scalars(select(WrappedKey.key_id).where(WrappedKey.case_id == case.id)))
        if kids <= recovery:
            out.append(case.case_ref)
    return sorted(out)


def disable_user(
    db: Database,
    name: str,
    admin_key: Any,
    admin_public: bytes,
    confirm: Confirm | None = None,
    pin: accounts.ManifestPin | None = None,
    actor: str = "admin",
) -> Disabled:
    """NAME can no longer log in (their open dashboard sessions end at their next request:
    the dashboard checks `accounts.is_active`), leaves the signed manifest and every team,
    and their wrapped copies of case keys are deleted. Cases that only they (and the
    recovery key) could read are named, so someone can be granted them from a backup."""
    now = _now()
    with db.transaction() as session:
        user = _user(session, name)
        label = teams.label_of(name)
        version = change_manifest(
            session, admin_key, admin_public, lambda plan: plan.remove(label), confirm, now, pin
        )
        held = set(
            session.scalars(select(WrappedKey.case_id).where(WrappedKey.key_id == user.key_id))
        )
        if user.disabled_at is None:
            user.disabled_at = now
        removed = stop_access(session, user)
        alone = _recovery_only(session, admin_public, held)
        accounts.audit(
            session,
            actor,
            "user.disable",
            None,
            "granted",
            now,
            user=name,
            keys_deleted=removed,
            manifest=version,
            recovery_only=len(alone),
        )
    _pin_after(pin, version)
    return Disabled(name, removed, version, tuple(alone))


def disable_now(db: Database, name: str, actor: str, admin_public: bytes) -> Disabled:
    """The dashboard's disable, which holds no signing key: at once the account cannot log
    in, its sessions end, its copies of case keys are deleted, and the intake stops sealing
    to it (routing skips disabled accounts, storage.teams.route); `sanad users disable NAME`
    then signs it out of the manifest."""
    now = _now()
    with db.transaction() as session:
        user = _user(session, name)
        if user.name == actor:
            raise accounts.AccountError("you cannot disable your own account")
        held = set(
            session.scalars(select(WrappedKey.case_id).where(WrappedKey.key_id == user.key_id))
        )
        if user.disabled_at is None:
            user.disabled_at = now
        removed = stop_access(session, user)
        alone = _recovery_only(session, admin_public, held)
        accounts.audit(
            session,
            actor,
            "user.disable",
            None,
            "granted",
            now,
            user=name,
            keys_deleted=removed,
            manifest="pending",
            recovery_only=len(alone),
        )
    return Disabled(name, removed, None, tuple(alone))


def change_passphrase(
    db: Database, name: str, current: str, new: str, kdf: crypto.KdfParams
) -> None:
    """Re-wrap NAME's private key under a new passphrase (the key pair stays, so nothing in
    the manifest or the cases changes); the old passphrase stops working at once."""
    now = _now()
    if len(new) < 8:
        raise accounts.AccountError("the passphrase must have at least 8 characters")
    if new == current:
        raise accounts.AccountError("the new passphrase is the same as the current one")
    with db.transaction() as session:
        user = accounts.get_user(session, name)
        if user is None:
            raise accounts.AccountError(f"no active user named '{name}'")
        try:
            private = accounts.unlock(user, current)
        except crypto.CryptoError:
            refused = True
        else:
            refused = False
            user.private_key_blob = crypto.lock_private_key(private, new, user.id, kdf)
            accounts.audit(session, name, "user.passwd", None, "granted", now, user=name)
    if refused:
        with db.transaction() as session:
            accounts.audit(
                session,
                name,
                "user.passwd",
                None,
                "refused",
                now,
                user=name,
                reason="wrong passphrase",
            )
        raise accounts.AccountError(f"wrong current passphrase for '{name}'")


def reset_totp(
    db: Database, name: str, secret: str | None, actor: str = "admin"
) -> tuple[str, bool]:
    """A new TOTP secret for NAME (given, or generated); the old codes stop working and the
    person enrols the new one (shown once). (secret, generated)."""
    import pyotp

    now = _now()
    value = normalise_totp_secret(secret) if secret else pyotp.random_base32()
    with db.transaction() as session:
        user = accounts.get_user(session, name)
        if user is None:
            raise accounts.AccountError(f"no active user named '{name}'")
        casework.set_totp_secret(session, user, value, now)
        user.totp_last_step = None
        accounts.audit(session, actor, "user.totp_reset", None, "granted", now, user=name)
    return value, not secret
