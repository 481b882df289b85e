"""Repository functions of the caseworker side: TOTP secrets, claims, notes, status, priority,
consent-gated actions and access grants. They take a session; callers own the transaction.
All sealing goes through storage.crypto; every change lands in the case's history."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core import RefusedError, as_utc
from storage import accounts, cases, crypto
from storage.caseworker_models import CaseAction, CaseNote, CaseSeen, UserTotp
from storage.models import Case, CaseEvent, IdentityKey, User, WrappedKey

__all__ = [
    "ACTION_CONSENT",
    "GENDERS",
    "GENDER_HOLD",
    "INTERIM_DEFAULT_DAYS",
    "INTERIM_MAX_DAYS",
    "PRIORITY_REASONS",
    "REASONS_FOR_STATUS",
    "STATE_ANSWERS",
    "STATE_STEPS",
    "STATUSES",
    "STATUS_REASONS",
    "TRANSITIONS",
    "UNSEEN_WINDOW",
    "ActionResult",
    "CaseworkError",
    "actions",
    "add_note",
    "case_readers_signed",
    "change_status",
    "check_sealed_consent",
    "claim",
    "claim_next",
    "claim_next_ref",
    "consented",
    "consented_map",
    "grant",
    "has_access",
    "held_for_gender",
    "mark_seen",
    "not_seen_since_change",
    "notes",
    "open_deadlines",
    "open_totp_secret",
    "override_priority",
    "readers",
    "record_action",
    "record_state_response",
    "release",
    "report_key",
    "revoke",
    "set_totp_secret",
    "unseen",
]

# San José Guidelines para 12-13: an allegation until assessed, then a decision, then closure.
STATUSES = (
    "allegation_pending_assessment",
    "under_assessment",
    "action_taken",
    "referred",
    "monitoring",
    "closed",
)
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "allegation_pending_assessment": ("under_assessment",),
    "under_assessment": ("action_taken", "referred", "monitoring", "closed"),
    "action_taken": ("referred", "monitoring", "closed"),
    "referred": ("action_taken", "monitoring", "closed"),
    "monitoring": ("action_taken", "referred", "closed"),
    "closed": ("under_assessment",),
}
STATUS_REASONS = (
    "assessment_started",
    "credible_allegation",
    "protection_requested",
    "referred_elsewhere",
    "awaiting_information",
    "no_action_possible",
    "reporter_withdrew",
    "resolved",
    "duplicate",
    "reopened",
    "other",
)
# Which reasons explain a move to each status (a case is not "resolved" into assessment).
REASONS_FOR_STATUS: dict[str, tuple[str, ...]] = {
    "under_assessment": ("assessment_started", "reopened", "awaiting_information", "other"),
    "action_taken": ("credible_allegation", "protection_requested", "other"),
    "referred": ("referred_elsewhere", "credible_allegation", "other"),
    "monitoring": ("awaiting_information", "protection_requested", "credible_allegation", "other"),
    "closed": (
        "resolved",
        "no_action_possible",
        "reporter_withdrew",
        "duplicate",
        "referred_elsewhere",
        "other",
    ),
}
PRIORITY_REASONS = (
    "more_urgent_on_review",
    "less_urgent_on_review",
    "new_information",
    "reporter_safe",
    "other",
)
# Outward-facing actions and the consent each needs (San José para 21, 26, 29; domain.md).
ACTION_CONSENT = {
    "raise_with_state": "consent_share_identity",
    "interim_measures": "consent_share_identity",
    "refer": "consent_refer",
    "write_back": "consent_followup",
    "publish": "consent_publish",  # San José 26: never implied by consent_stats
}
INTERIM_DEFAULT_DAYS = 7
INTERIM_MAX_DAYS = 90
_TOTP_CONTEXT = "totp"


class CaseworkError(RefusedError):
    """A refused change (bad transition, unknown reason, not a reader); `code` keys a text."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def _event(
    session: Session, case: Case, kind: str, actor: str, now: datetime, **detail: Any
) -> None:
    session.add(CaseEvent(case_id=case.id, at=now, kind=kind, actor=actor, detail=detail))


# ---------------------------------------------------------------- TOTP secrets


def _totp_id(user_id: str) -> str:
    return f"user-{user_id}"


def set_totp_secret(session: Session, user: User, secret_b32: str, now: datetime) -> None:
    """Seal the secret to the user's own public key: only their passphrase opens it."""
    key = crypto.new_data_key()
    ctx = _totp_id(user.id)
    row = session.get(UserTotp, user.id) or UserTotp(user_id=user.id)
    row.wrapped = crypto.wrap_key(key, ctx, user.public_key)
    row.sealed = crypto.seal_field(key, ctx, _TOTP_CONTEXT, 0, secret_b32.encode("ascii"))
    row.created_at = now
    session.add(row)
    session.flush()


def open_totp_secret(session: Session, user: User, private_key: Any) -> str | None:
    row = session.get(UserTotp, user.id)
    if row is None:
        return None
    ctx = _totp_id(user.id)
    key = crypto.unwrap_key(row.wrapped, ctx, private_key)
    return crypto.open_field(key, ctx, _TOTP_CONTEXT, 0, row.sealed).decode("ascii")


# ---------------------------------------------------------------- access


def has_access(session: Session, case: Case, key_id: bytes) -> bool:
    return (
        session.scalar(
            select(WrappedKey.id)
            .where(WrappedKey.case_id == case.id, WrappedKey.key_id == key_id)
            .limit(1)
        )
        is not None
    )


def readers(session: Session, case: Case) -> list[User]:
    """Accounts that hold a wrapped key of this case."""
    kids = select(WrappedKey.key_id).where(WrappedKey.case_id == case.id).distinct()
    return list(session.scalars(select(User).where(User.key_id.in_(kids)).order_by(User.name)))


def _data_keys(session: Session, case: Case, private_key: Any, key_id: bytes) -> dict[int, bytes]:
    rows = session.scalars(
        select(WrappedKey).where(WrappedKey.case_id == case.id, WrappedKey.key_id == key_id)
    )
    keys = {w.seq: crypto.unwrap_key(w.wrapped, case.id, private_key) for w in rows}
    if not keys:
        raise CaseworkError("no_access", "this account is not a reader of the case")
    return keys


def report_key(session: Session, case: Case, private_key: Any, key_id: bytes) -> bytes:
    """The data key of the report itself (sequence 0), for a reader of the case."""
    keys = _data_keys(session, case, private_key, key_id)
    if 0 not in keys:
        raise CaseworkError("no_access", "this account is not a reader of the report")
    return keys[0]


def grant(
    session: Session,
    case: Case,
    private_key: Any,
    key_id: bytes,
    grantee: User,
    actor: str,
    now: datetime,
    admin_public: bytes,
    pin: accounts.ManifestPin | None = None,
) -> int:
    """Re-wrap every data key of the case (report, addenda, notes) to a colleague, with the
    colleague's key as the signed manifest lists it (review finding 3)."""
    if grantee.role not in accounts.READS_REPORTS or grantee.disabled_at is not None:
        raise CaseworkError(
            "grantee_role", "only active caseworkers and supervisors can be given access"
        )
    try:
        signed = accounts.verified_key(session, grantee, admin_public, pin)
    except crypto.ManifestError as exc:
        raise CaseworkError("unsigned_key", str(exc)) from exc
    keys = _data_keys(session, case, private_key, key_id)
    have = set(
        session.scalars(
            select(WrappedKey.seq).where(
                WrappedKey.case_id == case.id, WrappedKey.key_id == grantee.key_id
            )
        )
    )
    added = 0
    for seq, data_key in sorted(keys.items()):
        if seq in have:
            continue
        session.add(
            WrappedKey(
                case_id=case.id,
                seq=seq,
                key_id=signed.key_id,
                wrapped=crypto.wrap_key(data_key, case.id, signed.public_key),
            )
        )
        added += 1
    _event(session, case, "access_granted", actor, now, user=grantee.name)
    session.flush()
    return added


def revoke(session: Session, case: Case, grantee: User, actor: str, now: datetime) -> int:
    """Delete the colleague's wrapped keys (not retroactive for what they already read)."""
    if grantee.name == actor:
        raise CaseworkError("revoke_self", "you cannot revoke your own access")
    result = session.execute(
        delete(WrappedKey).where(WrappedKey.case_id == case.id, WrappedKey.key_id == grantee.key_id)
    )
    # a copy of the identity key a custodian approved goes with the access it depended on
    session.execute(
        delete(IdentityKey).where(
            IdentityKey.case_id == case.id,
            IdentityKey.key_id == grantee.key_id,
            IdentityKey.granted_by.is_not(None),
        )
    )
    if case.assigned_to == grantee.id:
        case.assigned_to = None
    _event(session, case, "access_revoked", actor, now, user=grantee.name)
    session.flush()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


# ---------------------------------------------------------------- claims


def held_for_gender(case: Case, user: User, now: datetime) -> bool:
    """The case waits for a caseworker of the gender its reporter asked for, and `user` is
    not one (supervisors assign; after GENDER_HOLD anyone may claim it)."""
    received = (
        case.received_at if case.received_at.tzinfo else case.received_at.replace(tzinfo=now.tzinfo)
    )
    return (
        case.caseworker_pref in GENDERS
        and user.gender != case.caseworker_pref
        and user.role != "supervisor"
        and received > now - GENDER_HOLD
    )


def claim(session: Session, case_id: str, user: User, now: datetime) -> bool:
    """Assign an unassigned case; True for exactly one of any number of racing claimers.

    PostgreSQL: the row is locked with FOR UPDATE SKIP LOCKED, so a claimer never waits
    behind another; SQLite: a conditional UPDATE under the database's single writer lock.
    """
    case = session.get(Case, case_id)
    if case is not None and held_for_gender(case, user, now):
        return False
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            text(
                "SELECT id FROM cases WHERE id = :id AND assigned_to IS NULL FOR UPDATE SKIP LOCKED"
            ),
            {"id": case_id},
        ).first()
        if row is None:
            return False
    result = session.execute(
        update(Case)
        .where(Case.id == case_id, Case.assigned_to.is_(None))
        .values(assigned_to=user.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return False
    session.add(CaseEvent(case_id=case_id, at=now, kind="claimed", actor=user.name, detail={}))
    session.flush()
    return True


def claim_next(
    session: Session, user: User, now: datetime, key_id: bytes | None = None
) -> str | None:
    """Claim the most urgent unassigned case this user can read; its id, or None."""
    won = claim_next_ref(
        session, user.id, user.name, key_id if key_id is not None else user.key_id, now
    )
    return won[0] if won else None


# PostgreSQL: one statement picks the most urgent readable unassigned case, locks it (other
# claimers skip it rather than queue behind it), assigns it and writes its history: one round
# trip per claim. The UPDATE re-checks `assigned_to IS NULL` on the locked row.
# A case whose reporter asked for a woman (or a man) caseworker goes first to one: for this
# long after it came in, "claim next" offers it only to caseworkers of that gender, and a
# caseworker of another gender cannot claim it (a supervisor can assign it); then to anyone,
# so that it never waits for nobody.
GENDER_HOLD = timedelta(hours=24)
GENDERS = ("woman", "man")

_CLAIM_NEXT_PG = text(
    "WITH next AS (SELECT id FROM cases WHERE assigned_to IS NULL AND id IN "
    "(SELECT case_id FROM wrapped_keys WHERE key_id = :kid) "
    "AND (caseworker_pref IS NULL OR caseworker_pref = :gender OR received_at <= :hold) "
    "ORDER BY priority, received_at, case_ref LIMIT 1 FOR UPDATE SKIP LOCKED), "
    "claimed AS (UPDATE cases SET assigned_to = :uid, updated_at = :now FROM next "
    "WHERE cases.id = next.id AND cases.assigned_to IS NULL "
    "RETURNING cases.id, cases.case_ref), "
    "history AS (INSERT INTO case_events (case_id, at, kind, actor, detail) "
    "SELECT id, :now, 'claimed', :actor, CAST('{}' AS json) FROM claimed) "
    "SELECT id, case_ref FROM claimed"
)


def claim_next_ref(
    session: Session, user_id: str, actor: str, key_id: bytes, now: datetime
) -> tuple[str, str] | None:
    """Claim the most urgent unassigned case readable with `key_id` for the account
    `user_id`; (case id, case reference), or None when there is none left.

    On PostgreSQL concurrent claimers skip each other's locked rows (SKIP LOCKED) instead of
    queueing behind them, in a single statement; on SQLite the database's single writer lock
    serialises them and the claim is a conditional UPDATE."""
    user = session.get(User, user_id)
    gender = user.gender if user is not None else None
    hold = now - GENDER_HOLD
    if session.get_bind().dialect.name == "postgresql":
        row = session.execute(
            _CLAIM_NEXT_PG,
            {
                "kid": key_id,
                "uid": user_id,
                "now": now,
                "actor": actor,
                "gender": gender or "",
                "hold": hold,
            },
        ).first()
        return (str(row[0]), str(row[1])) if row is not None else None
    readable = select(WrappedKey.case_id).where(WrappedKey.key_id == key_id)
    query = (
        select(Case.id, Case.case_ref)
        .where(
            Case.assigned_to.is_(None),
            Case.id.in_(readable),
            or_(
                Case.caseworker_pref.is_(None),
                Case.caseworker_pref == (gender or ""),
                Case.received_at <= hold,
            ),
        )
        .order_by(Case.priority, Case.received_at, Case.case_ref)
        .limit(1)
    )
    found = session.execute(query).first()
    if found is None:
        return None
    result = session.execute(
        update(Case)
        .where(Case.id == found[0], Case.assigned_to.is_(None))
        .values(assigned_to=user_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(result.rowcount or 0) != 1:  # type: ignore[attr-defined]
        return None
    session.add(CaseEvent(case_id=found[0], at=now, kind="claimed", actor=actor, detail={}))
    session.flush()
    return str(found[0]), str(found[1])


def release(
    session: Session, case: Case, actor: str, now: datetime, to: User | None = None
) -> None:
    """Release (to=None) or reassign a claim; callers check the supervisor role."""
    previous = session.get(User, case.assigned_to) if case.assigned_to else None
    case.assigned_to = to.id if to else None
    case.updated_at = now
    _event(
        session,
        case,
        "reassigned" if to else "released",
        actor,
        now,
        previous=previous.name if previous else None,
        to=to.name if to else None,
    )
    session.flush()


# ---------------------------------------------------------------- notes


def _next_seq(session: Session, case: Case) -> int:
    top = session.scalar(select(func.max(WrappedKey.seq)).where(WrappedKey.case_id == case.id))
    return (top or 0) + 1


def _case_recipients(session: Session, case: Case, admin_public: bytes) -> list[crypto.Recipient]:
    """The case's readers and the recovery key, each with the key the signed manifest lists
    (finding 3): a users row or a wrapped-key row written into the database adds no one."""
    return case_readers_signed(session, case, accounts.verified_manifest(session, admin_public))


def case_readers_signed(
    session: Session, case: Case, manifest: crypto.Manifest
) -> list[crypto.Recipient]:
    """`_case_recipients` against an already verified manifest."""
    kids = set(
        session.scalars(select(WrappedKey.key_id).where(WrappedKey.case_id == case.id).distinct())
    )
    found: dict[bytes, crypto.Recipient] = {}
    names = {
        f"user:{u.name}": u
        for u in session.scalars(
            select(User).where(User.key_id.in_(kids), User.disabled_at.is_(None))
        )
    }
    for recipient in manifest.recipients:
        user = names.get(recipient.label)
        if recipient.label == accounts.RECOVERY_LABEL or (
            user is not None
            and recipient.key_id in kids
            and user.public_key == recipient.public_key
        ):
            found[recipient.key_id] = recipient
    return list(found.values())


def add_note(
    session: Session,
    case: Case,
    body: str,
    author: str,
    admin_public: bytes,
    now: datetime,
    kind: str = "note",
    message_id: str | None = None,
) -> CaseNote:
    """Seal a note under a new data key (its own sequence) wrapped to the case's readers and
    the recovery key; it needs no private key, like the intake side. A message to the reporter
    (kind `to_reporter`) names its outbox message, whose delivery the case page shows."""
    seq = _next_seq(session, case)
    data_key = crypto.new_data_key()
    note_id = str(uuid.uuid4())
    content: dict[str, Any] = {"kind": kind, "text": body}
    if message_id:
        content["message"] = message_id
    payload = json.dumps(content, ensure_ascii=False).encode("utf-8")
    for recipient in _case_recipients(session, case, admin_public):
        session.add(
            WrappedKey(
                case_id=case.id,
                seq=seq,
                key_id=recipient.key_id,
                wrapped=crypto.wrap_key(data_key, case.id, recipient.public_key, recipient.suite),
            )
        )
    note = CaseNote(
        id=note_id,
        case_id=case.id,
        seq=seq,
        author=author,
        created_at=now,
        sealed=crypto.seal_field(data_key, case.id, f"note:{note_id}", seq, payload),
    )
    session.add(note)
    _event(session, case, "note_added", author, now, note_kind=kind)
    session.flush()
    return note


def notes(session: Session, case: Case, private_key: Any, key_id: bytes) -> list[dict[str, Any]]:
    keys = _data_keys(session, case, private_key, key_id)
    out = []
    for note in session.scalars(
        select(CaseNote)
        .where(CaseNote.case_id == case.id)
        .order_by(CaseNote.created_at, CaseNote.id)
    ):
        if note.seq not in keys:
            raise crypto.CryptoError("no key for a note of this case")
        data = json.loads(
            crypto.open_field(
                keys[note.seq], case.id, f"note:{note.id}", note.seq, note.sealed
            ).decode("utf-8")
        )
        out.append(
            {
                "id": note.id,
                "author": note.author,
                "at": note.created_at,
                "kind": data.get("kind", "note"),
                "text": data.get("text", ""),
                "message": data.get("message"),
            }
        )
    return out


# ---------------------------------------------------------------- status and priority


def change_status(
    session: Session, case: Case, to: str, reason: str, actor: str, now: datetime
) -> None:
    if to not in TRANSITIONS.get(case.status, ()):
        raise CaseworkError("bad_transition", f"a case cannot go from {case.status} to {to}")
    if reason not in STATUS_REASONS:
        raise CaseworkError("bad_reason", f"unknown reason '{reason}'")
    if reason not in REASONS_FOR_STATUS.get(to, STATUS_REASONS):
        raise CaseworkError("reason_not_for_status", f"'{reason}' does not explain a move to {to}")
    _event(
        session,
        case,
        "status_changed",
        actor,
        now,
        **{"from": case.status, "to": to, "reason": reason},
    )
    case.status = to
    case.updated_at = now
    session.flush()


def override_priority(
    session: Session, case: Case, priority: int, reason: str, actor: str, now: datetime
) -> None:
    """A person overrides the automated triage (Kyiv–Copenhagen III-ث); the rule's reasons
    stay visible, the override and its reason are added."""
    if priority not in (1, 2, 3, 4):
        raise CaseworkError("bad_priority", "priority is 1 (most urgent) to 4")
    if reason not in PRIORITY_REASONS:
        raise CaseworkError("bad_reason", f"unknown reason '{reason}'")
    _event(
        session,
        case,
        "priority_overridden",
        actor,
        now,
        **{"from": case.priority, "to": priority, "reason": reason},
    )
    case.priority = priority
    case.reasons = [
        *[r for r in case.reasons if not r.startswith("override:")],
        f"override:{reason}",
    ]
    case.updated_at = now
    session.flush()


# ---------------------------------------------------------------- consent-gated actions


def consented(case: Case, consent_key: str) -> bool:
    return consented_map(case.consent, consent_key)


def consented_map(consent: dict[str, Any] | None, consent_key: str) -> bool:
    """True only for an explicit yes: "no", "unknown" and a missing answer all refuse."""
    entry = (consent or {}).get(consent_key)
    value = entry.get("value") if isinstance(entry, dict) else entry
    return value is True or value == "yes"


@dataclass(frozen=True)
class ActionResult:
    action: CaseAction
    done: bool
    consent_key: str


def check_sealed_consent(case: Case, sealed: dict[str, str]) -> None:
    """Refuse, as tampering, a case whose plaintext consent flags differ from its sealed
    consent records (cases.sealed_consent)."""
    changed = cases.consent_mismatch(case, sealed)
    if changed:
        raise CaseworkError(
            "consent_tampered",
            f"the consent flags of {case.case_ref} do not match its sealed "
            f"records ({', '.join(changed)}): tampering; nothing was done",
        )


def record_action(
    session: Session,
    case: Case,
    kind: str,
    actor: str,
    now: datetime,
    target: str | None = None,
    days: int | None = None,
    sealed: dict[str, str] | None = None,
) -> ActionResult:
    """Record an outward-facing action; refuse it (and record the refusal) without consent.

    `sealed`: the current consents from the sealed records (cases.sealed_consent), as the
    dashboard passes them; then they decide, and a plaintext flag that says otherwise is
    refused as tampering. Without it (scripts holding no key) the plaintext flags decide."""
    if kind not in ACTION_CONSENT:
        raise CaseworkError("bad_action", f"unknown action '{kind}'")
    consent_key = ACTION_CONSENT[kind]
    if sealed is not None:
        check_sealed_consent(case, sealed)
        done = consented_map(sealed, consent_key)
    else:
        done = consented(case, consent_key)
    deadline = None
    if done and kind == "interim_measures":
        deadline = now + timedelta(days=days or INTERIM_DEFAULT_DAYS)
    action = CaseAction(
        id=str(uuid.uuid4()),
        case_id=case.id,
        kind=kind,
        outcome="done" if done else "refused",
        actor=actor,
        at=now,
        deadline=deadline,
        detail={"consent": consent_key, **({"target": target} if target else {})},
    )
    session.add(action)
    _event(
        session,
        case,
        "action_done" if done else "action_refused",
        actor,
        now,
        action=kind,
        consent=consent_key,
        **({"deadline": deadline.isoformat()} if deadline else {}),
    )
    session.flush()
    return ActionResult(action, done, consent_key)


STATE_ANSWERS = ("replied", "measures_taken", "refused")
STATE_STEPS = ("raise_with_state", "interim_measures")  # the steps the State answers


def record_state_response(
    session: Session, case: Case, kind: str, answer: str, actor: str, now: datetime
) -> CaseAction:
    """What the State answered to the latest done step of `kind` (raise_with_state or
    interim_measures) of this case: a code, never text; it feeds the periodic report."""
    if kind not in STATE_STEPS or answer not in STATE_ANSWERS:
        raise CaseworkError("bad_response", f"unknown State response '{kind}: {answer}'")
    action = session.scalar(
        select(CaseAction)
        .where(CaseAction.case_id == case.id, CaseAction.kind == kind, CaseAction.outcome == "done")
        .order_by(CaseAction.at.desc(), CaseAction.id.desc())
        .limit(1)
    )
    if action is None:
        raise CaseworkError("no_step", f"no {kind} was done on {case.case_ref}")
    action.detail = {
        **(action.detail or {}),
        "state_response": answer,
        "answered_at": now.isoformat(),
    }
    _event(session, case, "state_response", actor, now, action=kind, response=answer)
    session.flush()
    return action


def actions(session: Session, case: Case) -> list[CaseAction]:
    return list(
        session.scalars(
            select(CaseAction)
            .where(CaseAction.case_id == case.id)
            .order_by(CaseAction.at, CaseAction.id)
        )
    )


def open_deadlines(session: Session, case_ids: list[str]) -> dict[str, datetime]:
    """Nearest deadline of interim measures per case."""
    if not case_ids:
        return {}
    rows = session.execute(
        select(CaseAction.case_id, func.min(CaseAction.deadline))
        .where(CaseAction.case_id.in_(case_ids), CaseAction.deadline.is_not(None))
        .group_by(CaseAction.case_id)
    )
    return {case_id: deadline for case_id, deadline in rows if deadline is not None}


# ---- what each caseworker has seen (unread badges, live queue) -------------------------------


def mark_seen(session: Session, user_id: str, case_id: str, now: datetime) -> None:
    """`user_id` opened the case at `now` (one row per caseworker and case)."""
    row = session.get(CaseSeen, (user_id, case_id))
    if row is None:
        # Two tabs of one caseworker opening one case at once: the second insert would
        # conflict; a savepoint keeps the page's transaction going.
        try:
            with session.begin_nested():
                session.add(CaseSeen(user_id=user_id, case_id=case_id, seen_at=now))
        except IntegrityError:
            pass
        return
    if as_utc(row.seen_at) < now:
        row.seen_at = now


# A case never opened counts as new to a caseworker only if it changed within this window:
# otherwise every old case of a large register would carry the badge.
UNSEEN_WINDOW = timedelta(days=30)


def unseen(session: Session, user_id: str, rows: list[Case], now: datetime) -> set[str]:
    """Ids among `rows` that arrived or changed since `user_id` last opened them (never
    opened: changed within UNSEEN_WINDOW)."""
    seen = dict(
        session.execute(
            select(CaseSeen.case_id, CaseSeen.seen_at).where(
                CaseSeen.user_id == user_id, CaseSeen.case_id.in_([c.id for c in rows])
            )
        ).all()
    )
    return {
        c.id
        for c in rows
        if (
            as_utc(c.updated_at) > as_utc(seen[c.id])
            if c.id in seen
            else as_utc(c.updated_at) > now - UNSEEN_WINDOW
        )
    }


def not_seen_since_change(user_id: str) -> Any:
    """A condition on Case: changed after `user_id` last opened it (or never opened)."""
    return ~exists().where(
        CaseSeen.user_id == user_id,
        CaseSeen.case_id == Case.id,
        CaseSeen.seen_at >= Case.updated_at,
    )
