"""The protected identity section: requests to open it, a custodian's approval or refusal.

Names and contact details are sealed under a per-case identity key (storage.cases) that is
wrapped at intake to the custodians of the signed manifest and the recovery key only. A
reader of the case asks for it with a purpose (a code: nothing a person wrote is kept in
clear); a custodian who is not the requester approves, which unwraps the identity key with
the custodian's own key and wraps it to the requester's key *as the signed manifest lists
it*, or refuses. Requests for State-facing purposes need the reporter's sealed consent to
share their identity (San José para 21). Functions take a session; callers own the
transaction and the audit log; every step lands in the case's history.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import RefusedError
from storage import accounts, crypto
from storage.models import Case, CaseEvent, IdentityKey, IdentityRequest, User, WrappedKey

__all__ = [
    "PURPOSES",
    "PURPOSE_CONSENTS",
    "REFUSAL_REASONS",
    "IdentityError",
    "approve",
    "holds_identity",
    "pending",
    "refuse",
    "request",
    "requests_of_case",
    "requests_of_user",
]

PURPOSES = (
    "raise_with_state",
    "interim_measures",
    "refer",
    "contact_reporter",
    "visit_or_appeal",
    "link_cases",
    "other",
)
# Purposes that disclose the identity outside the institution, and the sealed consents each
# needs (the same gates as storage.casework.ACTION_CONSENT).
PURPOSE_CONSENTS: Mapping[str, tuple[str, ...]] = {
    "raise_with_state": ("consent_share_identity",),
    "interim_measures": ("consent_share_identity",),
    "refer": ("consent_refer", "consent_share_identity"),
}
REFUSAL_REASONS = ("purpose_not_met", "risk_to_person", "more_information", "other")


class IdentityError(RefusedError):
    """A refused identity step; `code` keys a catalogue text (caseworker/catalog `refused.*`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _event(
    session: Session, case_id: str, kind: str, actor: str, now: datetime, **detail: Any
) -> None:
    session.add(CaseEvent(case_id=case_id, at=now, kind=kind, actor=actor, detail=detail))


def holds_identity(session: Session, case: Case, key_id: bytes) -> bool:
    return (
        session.scalar(
            select(IdentityKey.id)
            .where(IdentityKey.case_id == case.id, IdentityKey.key_id == key_id)
            .limit(1)
        )
        is not None
    )


def _given(sealed: Mapping[str, str], key: str) -> bool:
    return sealed.get(key) == "yes"


def request(
    session: Session,
    case: Case,
    requester: User,
    purpose: str,
    sealed_consent: Mapping[str, str],
    now: datetime,
) -> IdentityRequest:
    """A reader of the case asks to open its identity section. `sealed_consent`: the
    current consents from the sealed records (cases.sealed_consent), which the caller read
    with the requester's key. A State-facing purpose without the reporter's consent is
    refused here, before any custodian sees it."""
    if purpose not in PURPOSES:
        raise IdentityError("bad_purpose", f"unknown purpose '{purpose}'")
    if requester.role not in accounts.READS_REPORTS or requester.disabled_at is not None:
        raise IdentityError("no_access", "only a reader of the case can ask")
    if (
        session.scalar(
            select(WrappedKey.id)
            .where(WrappedKey.case_id == case.id, WrappedKey.key_id == requester.key_id)
            .limit(1)
        )
        is None
    ):
        raise IdentityError("no_access", "only a reader of the case can ask")
    if holds_identity(session, case, requester.key_id):
        raise IdentityError("identity_held", "you can already open the identity section")
    missing = [k for k in PURPOSE_CONSENTS.get(purpose, ()) if not _given(sealed_consent, k)]
    if missing:
        raise IdentityError(
            "identity_no_consent",
            "the reporter did not consent to sharing their identity for "
            f"this purpose ({', '.join(missing)})",
        )
    open_one = session.scalar(
        select(IdentityRequest).where(
            IdentityRequest.case_id == case.id,
            IdentityRequest.requester == requester.name,
            IdentityRequest.status == "pending",
        )
    )
    if open_one is not None:
        raise IdentityError("identity_pending", "your request is already waiting for a custodian")
    row = IdentityRequest(
        id=str(uuid.uuid4()),
        case_id=case.id,
        requester=requester.name,
        purpose=purpose,
        status="pending",
        created_at=now,
    )
    session.add(row)
    _event(
        session, case.id, "identity_requested", requester.name, now, request=row.id, purpose=purpose
    )
    session.flush()
    return row


def _pending(session: Session, request_id: str) -> tuple[IdentityRequest, Case]:
    row = session.get(IdentityRequest, request_id, with_for_update=True)
    case = session.get(Case, row.case_id) if row is not None else None
    if row is None or case is None:
        raise IdentityError("not_found", "no such request")
    if row.status != "pending":
        raise IdentityError("identity_decided", f"this request was already {row.status}")
    return row, case


def _check_custodian(custodian: User, row: IdentityRequest) -> None:
    if custodian.role != accounts.CUSTODIAN or custodian.disabled_at is not None:
        raise IdentityError("not_custodian", "only a custodian decides identity requests")
    if custodian.name == row.requester:
        raise IdentityError("own_request", "a custodian cannot decide their own request")


def approve(
    session: Session,
    request_id: str,
    custodian: User,
    private_key: Any,
    admin_public: bytes,
    now: datetime,
    pin: accounts.ManifestPin | None = None,
) -> IdentityRequest:
    """Wrap the case's identity key to the requester: unwrapped with the custodian's own
    copy, wrapped to the requester's key as the signed manifest lists it (never a users row
    alone), recorded with the request it answers."""
    row, case = _pending(session, request_id)
    _check_custodian(custodian, row)
    requester = accounts.get_user(session, row.requester)
    if requester is None or requester.key_id == custodian.key_id:
        raise IdentityError(
            "own_request" if requester is not None else "no_user",
            "the requester cannot be given access",
        )
    if (
        requester.role not in accounts.READS_REPORTS
        or session.scalar(
            select(WrappedKey.id)
            .where(WrappedKey.case_id == case.id, WrappedKey.key_id == requester.key_id)
            .limit(1)
        )
        is None
    ):
        raise IdentityError("no_access", "the requester is no longer a reader of the case")
    mine = session.scalar(
        select(IdentityKey).where(
            IdentityKey.case_id == case.id, IdentityKey.key_id == custodian.key_id
        )
    )
    if mine is None:
        raise IdentityError("not_held", "this case's identity key was not sealed to you")
    try:
        signed = accounts.verified_key(session, requester, admin_public, pin)
    except crypto.ManifestError as exc:
        raise IdentityError("unsigned_key", str(exc)) from exc
    identity_key = crypto.unwrap_identity_key(mine.wrapped, case.id, private_key)
    if not holds_identity(session, case, signed.key_id):
        session.add(
            IdentityKey(
                case_id=case.id,
                key_id=signed.key_id,
                created_at=now,
                granted_by=custodian.name,
                request_id=row.id,
                wrapped=crypto.wrap_identity_key(
                    identity_key, case.id, signed.public_key, signed.suite
                ),
            )
        )
    row.status, row.decided_by, row.decided_at = "approved", custodian.name, now
    _event(
        session,
        case.id,
        "identity_granted",
        custodian.name,
        now,
        request=row.id,
        user=row.requester,
        purpose=row.purpose,
    )
    session.flush()
    return row


def refuse(
    session: Session, request_id: str, custodian: User, reason: str, now: datetime
) -> IdentityRequest:
    """Refuse a request with a reason code; the requester sees it on the case."""
    if reason not in REFUSAL_REASONS:
        raise IdentityError("bad_reason", f"unknown reason '{reason}'")
    row, case = _pending(session, request_id)
    _check_custodian(custodian, row)
    row.status, row.decided_by, row.decided_at = "refused", custodian.name, now
    row.decision_reason = reason
    _event(
        session,
        case.id,
        "identity_refused",
        custodian.name,
        now,
        request=row.id,
        user=row.requester,
        purpose=row.purpose,
        reason=reason,
    )
    session.flush()
    return row


def _as_dict(row: IdentityRequest, case_ref: str) -> dict[str, Any]:
    return {
        "id": row.id,
        "case_ref": case_ref,
        "requester": row.requester,
        "purpose": row.purpose,
        "status": row.status,
        "at": row.created_at,
        "decided_by": row.decided_by,
        "decided_at": row.decided_at,
        "reason": row.decision_reason,
    }


def pending(session: Session, custodian_key_id: bytes) -> list[dict[str, Any]]:
    """Pending requests of cases whose identity key this custodian holds, oldest first."""
    held = select(IdentityKey.case_id).where(IdentityKey.key_id == custodian_key_id)
    rows = session.execute(
        select(IdentityRequest, Case.case_ref)
        .join(Case, Case.id == IdentityRequest.case_id)
        .where(IdentityRequest.status == "pending", IdentityRequest.case_id.in_(held))
        .order_by(IdentityRequest.created_at, IdentityRequest.id)
    )
    return [_as_dict(r, ref) for r, ref in rows]


def requests_of_case(session: Session, case: Case) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(IdentityRequest)
        .where(IdentityRequest.case_id == case.id)
        .order_by(IdentityRequest.created_at, IdentityRequest.id)
    )
    return [_as_dict(r, case.case_ref) for r in rows]


def requests_of_user(session: Session, name: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(IdentityRequest, Case.case_ref)
        .join(Case, Case.id == IdentityRequest.case_id)
        .where(IdentityRequest.requester == name)
        .order_by(IdentityRequest.created_at, IdentityRequest.id)
    )
    return [_as_dict(r, ref) for r, ref in rows]
