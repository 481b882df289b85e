"""Use cases of the protected identity section, one way in for the dashboard and the CLI:
a reader asks to open a case's names and contact details, a custodian approves or refuses.

Each call is one transaction and writes the audit log (granted or refused, never content);
a refusal is audited in a transaction of its own, so it is kept when the change is not.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from core import RefusedError
from storage import Case, Database, IdentityRequest, User, accounts, cases, crypto
from storage import identity as store

__all__ = ["Actor", "IdentityRefused", "approve", "my_requests", "pending", "refuse", "request"]


class Actor(Protocol):
    """Who acts: the dashboard's Principal, or an account the CLI unlocked."""

    name: str
    role: str
    key_id: bytes
    private_key: Any


class IdentityRefused(RefusedError):
    """A refused identity step; `code` keys the text (web catalogue `refused.<code>`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _now() -> datetime:
    return datetime.now(UTC)


def _user(session: Any, who: Actor) -> User:
    user = accounts.get_user(session, who.name)
    if user is None or bytes(user.key_id) != bytes(who.key_id):
        raise store.IdentityError("no_user", "this account is not active")
    return user


def _refused(
    db: Database, who: Actor, action: str, case_ref: str | None, code: str, now: datetime
) -> None:
    with db.transaction() as session:
        accounts.audit(session, who.name, action, case_ref, "refused", now, reason=code)


def request(db: Database, who: Actor, case_ref: str, purpose: str) -> dict[str, Any]:
    """Ask a custodian to open CASE's identity section, for a purpose code
    (storage.identity.PURPOSES). The requester must be able to open the case: its sealed
    consent records decide whether a State-facing purpose may be asked at all."""
    now = _now()
    ref = case_ref.strip().upper()[:16]
    try:
        with db.transaction() as session:
            user = _user(session, who)
            case = cases.by_ref(session, ref)
            if case is None:
                raise store.IdentityError("no_access", "no such case, or no access to it")
            try:
                opened = cases.open_case(session, case, who.private_key, who.key_id)
            except cases.Tampered as exc:
                raise store.IdentityError("tampered", "the case was altered") from exc
            except crypto.CryptoError as exc:
                raise store.IdentityError("no_access", "no such case, or no access to it") from exc
            row = store.request(session, case, user, purpose, cases.sealed_consent(opened), now)
            accounts.audit(
                session,
                who.name,
                "identity.request",
                case.case_ref,
                "granted",
                now,
                request=row.id,
                purpose=purpose,
            )
            return {
                "id": row.id,
                "case_ref": case.case_ref,
                "status": row.status,
                "purpose": row.purpose,
            }
    except store.IdentityError as exc:
        _refused(db, who, "identity.request", ref, exc.code, now)
        raise IdentityRefused(exc.code, str(exc)) from exc


def _decide(db: Database, who: Actor, request_id: str, action: str, op: Any) -> dict[str, Any]:
    now = _now()
    ref = None
    try:
        with db.transaction() as session:
            user = _user(session, who)
            found = session.get(IdentityRequest, request_id)
            ref = found.case_id if found is not None else None
            case = session.get(Case, ref) if ref else None
            ref = case.case_ref if case is not None else None
            row = op(session, user, now)
            accounts.audit(
                session,
                who.name,
                action,
                ref,
                "granted",
                now,
                request=row.id,
                requester=row.requester,
            )
            return {"id": row.id, "case_ref": ref, "status": row.status, "requester": row.requester}
    except store.IdentityError as exc:
        _refused(db, who, action, ref, exc.code, now)
        raise IdentityRefused(exc.code, str(exc)) from exc
    except crypto.CryptoError as exc:  # the custodian's copy of the key does not open
        _refused(db, who, action, ref, "tampered", now)
        raise IdentityRefused("tampered", "the identity key of this case was altered") from exc


def approve(
    db: Database,
    who: Actor,
    request_id: str,
    admin_public: bytes,
    pin: accounts.ManifestPin | None = None,
) -> dict[str, Any]:
    """A custodian (not the requester) opens the identity section to the requester."""
    return _decide(
        db,
        who,
        request_id,
        "identity.approve",
        lambda s, u, now: store.approve(s, request_id, u, who.private_key, admin_public, now, pin),
    )


def refuse(db: Database, who: Actor, request_id: str, reason: str) -> dict[str, Any]:
    """A custodian (not the requester) refuses, with a reason code the requester sees."""
    return _decide(
        db,
        who,
        request_id,
        "identity.refuse",
        lambda s, u, now: store.refuse(s, request_id, u, reason, now),
    )


def pending(db: Database, who: Actor) -> list[dict[str, Any]]:
    """The requests waiting for this custodian (cases whose identity key they hold)."""
    now = _now()
    if who.role != accounts.CUSTODIAN:
        _refused(db, who, "identity.list", None, "role", now)
        raise IdentityRefused("not_custodian", "only a custodian decides identity requests")
    with db.transaction() as session:
        found = store.pending(session, who.key_id)
        accounts.audit(session, who.name, "identity.list", None, "granted", now)
        return found


def my_requests(db: Database, who: Actor) -> list[dict[str, Any]]:
    """The requester's own requests and what became of them (a refusal is told here)."""
    with db.transaction() as session:
        return store.requests_of_user(session, who.name)
