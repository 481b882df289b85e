"""Referrals followed up (issue 18 item 6; San José 23, 28-31; Kyiv-Copenhagen III-س).

A referral names a body of the register (`referral_bodies.yaml`: treaty bodies, special
rapporteurs, the national preventive mechanism, UN country teams, partner NGOs), needs the
reporter's `consent_refer` (read from the sealed records), and has a date sent, a status
(sent, acknowledged, answered, closed), a deadline the alerts remind of before and after
(`referral_due` to the on-call caseworkers, `referral_late` to the supervisors) and an
outcome. With `consent_followup` the reporter can be told, in their language, through their
channel. A report the body sends back (a medico-legal examination's) is kept with the case,
sealed like the reporter's files (`attach_report`). Nothing else here holds content: bodies,
codes and dates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import safe_load
from storage import (
    REFERRAL_OUTCOMES,
    REFERRAL_STATUSES,
    Case,
    CaseEvent,
    ObjectStore,
    Referral,
    cases,
    casework,
    crypto,
)

__all__ = [
    "BODIES_FILE",
    "MAX_REPORT_BYTES",
    "REPORT_FIELD",
    "Body",
    "ReferralError",
    "attach_report",
    "bodies",
    "create",
    "of_case",
    "told",
    "update",
]

BODIES_FILE = Path(__file__).parent / "defaults" / "referral_bodies.yaml"
KINDS = ("treaty_body", "special_procedure", "npm", "un_country_team", "partner_ngo", "other")
MAX_DAYS = 365


class ReferralError(casework.CaseworkError):
    """A refused referral change; `code` keys a catalogue text."""


@dataclass(frozen=True)
class Body:
    id: str
    kind: str
    name: dict[str, str]
    response_days: int


@cache
def bodies(path: Path = BODIES_FILE) -> dict[str, Body]:
    """The register, checked: unknown kinds, missing names or bad days are refused."""
    data = safe_load(path.read_text(encoding="utf-8")) or {}
    out: dict[str, Body] = {}
    for i, raw in enumerate(data.get("bodies") or []):
        where = f"{path}: bodies[{i}]"
        if not isinstance(raw, dict) or not str(raw.get("id", "")).replace("_", "").isalnum():
            raise ValueError(f"{where}: each body has an id of letters, digits and _")
        if raw.get("kind") not in KINDS:
            raise ValueError(f"{where}: kind is one of {', '.join(KINDS)}")
        name = raw.get("name") or {}
        if not all(isinstance(name.get(lang), str) and name[lang] for lang in ("en", "ar")):
            raise ValueError(f"{where}: a name in both languages (en, ar)")
        days = raw.get("response_days", 30)
        if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
            raise ValueError(f"{where}: response_days is 1 to {MAX_DAYS}")
        out[raw["id"]] = Body(raw["id"], raw["kind"], dict(name), days)
    return out


def create(
    session: Session,
    case: Case,
    body: str,
    actor: str,
    now: datetime,
    sealed: dict[str, str],
    days: int | None = None,
) -> Referral:
    """Record a referral sent today; refused without consent_refer (sealed records)."""
    register = bodies()
    if body not in register:
        raise ReferralError("bad_body", f"no body '{body}' in the register")
    days = days or register[body].response_days
    if not 1 <= days <= MAX_DAYS:
        raise ReferralError("bad_days", f"the deadline is 1 to {MAX_DAYS} days")
    result = casework.record_action(session, case, "refer", actor, now, target=body, sealed=sealed)
    if not result.done:
        raise ReferralError(
            "no_consent", "the reporter did not consent to a referral (consent_refer)"
        )
    row = Referral(
        id=str(uuid.uuid4()),
        case_id=case.id,
        body=body,
        status="sent",
        sent_at=now,
        deadline=now + timedelta(days=days),
        created_by=actor,
        updated_at=now,
    )
    session.add(row)
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="referral_sent",
            actor=actor,
            detail={"body": body, "days": days},
        )
    )
    session.flush()
    return row


def update(
    session: Session,
    case: Case,
    referral_id: str,
    actor: str,
    now: datetime,
    status: str | None = None,
    outcome: str | None = None,
) -> Referral:
    row = session.get(Referral, referral_id)
    if row is None or row.case_id != case.id:
        raise ReferralError("no_referral", "no such referral on this case")
    if status is not None:
        if status not in REFERRAL_STATUSES:
            raise ReferralError("bad_status", f"unknown status '{status}'")
        row.status = status
    if outcome is not None:
        if outcome not in REFERRAL_OUTCOMES:
            raise ReferralError("bad_outcome", f"unknown outcome '{outcome}'")
        row.outcome = outcome
    row.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="referral_updated",
            actor=actor,
            detail={"body": row.body, "status": row.status, "outcome": row.outcome},
        )
    )
    session.flush()
    return row


# What a report received from a body (a medico-legal examination's report) may be, by its
# first bytes, not by what the browser claims.
REPORT_FIELD = "referral_report"
REPORT_TYPES = {
    "application/pdf": b"%PDF-",
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
}
MAX_REPORT_BYTES = 25 * 1024 * 1024


def attach_report(
    session: Session,
    case: Case,
    referral_id: str,
    data_key: bytes,
    objects: ObjectStore,
    name: str,
    data: bytearray,
    actor: str,
    now: datetime,
) -> str:
    """Keep the report a body sent back (issue 18 item 4: the medico-legal referral's report)
    with the case, sealed under the report's data key like the reporter's own files, and
    linked to its referral; the attachment's id. The history records that a report came,
    never its name."""
    row = session.get(Referral, referral_id)
    if row is None or row.case_id != case.id:
        raise ReferralError("no_referral", "no such referral on this case")
    if not data:
        raise ReferralError("no_file", "choose the report's file")
    ctype = next(
        (t for t, magic in REPORT_TYPES.items() if bytes(data[: len(magic)]) == magic), None
    )
    if ctype is None:
        raise ReferralError("report_type", "a report is a PDF, JPEG or PNG file")
    attachment_id = str(uuid.uuid4())
    path = f"{case.id}/{attachment_id}.sealed"
    with objects.writer(path) as out:  # only ciphertext leaves the process
        size, digest = crypto.seal_attachment(
            data_key, case.id, attachment_id, [data], out, max_size=MAX_REPORT_BYTES
        )
    safe_name = (name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "report")[:120]
    cases.add_caseworker_file(
        session,
        case,
        data_key,
        attachment_id,
        size,
        path,
        {
            "name": safe_name,
            "content_type": ctype,
            "sha256": digest,
            "field": REPORT_FIELD,
            "referral": referral_id,
        },
        now,
    )
    row.updated_at = now
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="referral_report",
            actor=actor,
            detail={"body": row.body, "attachment": attachment_id},
        )
    )
    session.flush()
    return attachment_id


def told(
    session: Session,
    case: Case,
    referral_id: str,
    pepper: bytes | None,
    sealed: dict[str, str],
    actor: str,
    now: datetime,
    text: str,
) -> Referral:
    """Tell the reporter (consent_followup, their channel): `text` is already in their
    language (web/referrals.py renders it from the catalogue)."""
    from intake import followup as _followup

    row = session.get(Referral, referral_id)
    if row is None or row.case_id != case.id:
        raise ReferralError("no_referral", "no such referral on this case")
    casework.check_sealed_consent(case, sealed)
    if not casework.consented_map(sealed, "consent_followup") or pepper is None:
        raise ReferralError("no_followup", "the reporter did not agree to be contacted")
    if (
        _followup.queue_message(session, _followup.route_key(pepper), case, text, actor, now)
        is None
    ):
        raise ReferralError("no_followup", "this report came through no channel to write back to")
    row.reporter_told_at = now
    session.add(
        CaseEvent(
            case_id=case.id, at=now, kind="referral_told", actor=actor, detail={"body": row.body}
        )
    )
    session.flush()
    return row


def of_case(session: Session, case_id: str) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "body": r.body,
            "status": r.status,
            "sent_at": r.sent_at,
            "deadline": r.deadline,
            "reminded": r.reminded,
            "outcome": r.outcome,
            "told": r.reporter_told_at,
        }
        for r in session.scalars(
            select(Referral).where(Referral.case_id == case_id).order_by(Referral.sent_at)
        )
    ]
