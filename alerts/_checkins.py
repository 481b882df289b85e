"""Safety check-ins, the alerts' side: raising a case whose reporter is not safe, or has not
answered in time, and telling the on-call caseworkers (case reference and priority only).

    raise_for_checkin(session, case, checkin_id, kind, now)   the intake, as the answer comes
    queue_missed_checkins(session, config, now)               a dispatcher round
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts._config import OncallConfig
from core import as_utc
from storage import ROTA, Case, CaseEvent, CaseRoute, Checkin

__all__ = ["CHECKIN_KINDS", "queue_missed_checkins", "raise_for_checkin"]

log = logging.getLogger("sanad.alerts")
CHECKIN_KINDS = ("checkin_unsafe", "checkin_call", "checkin_missed")
INACTIVE = ("closed", "withdrawn")
REASONS = {"checkin_unsafe": "checkin_not_safe", "checkin_missed": "checkin_no_answer"}


def raise_for_checkin(
    session: Session, case: Case, checkin_id: str, kind: str, now: datetime
) -> bool:
    """Queue the on-call alert `kind` for one check-in (once); "not safe" and "no answer"
    also raise the case to priority 1 with the reason, so it heads the queue."""
    from alerts._dispatch import _insert_once

    reason = REASONS.get(kind)
    if reason is not None:
        before = case.priority
        case.priority = 1
        if reason not in case.reasons:
            case.reasons = [*case.reasons, reason]
        case.updated_at = now
        if before != 1:
            session.add(
                CaseEvent(
                    case_id=case.id,
                    at=now,
                    kind="priority_raised",
                    actor=None,
                    detail={"from": before, "to": 1, "reason": reason},
                )
            )
    session.flush()
    return _insert_once(session, case.id, kind, ROTA, now, checkin_id)


def queue_missed_checkins(session: Session, config: OncallConfig, now: datetime) -> int:
    """Check-ins nobody answered within the schedule's `answer_within_hours` (or that could not
    be delivered in that time): the case is raised and the on-call caseworkers told, once."""
    from alerts._assessment import teams_of

    if config.checkins is None and not any(t.checkins for t in config.teams.values()):
        return 0
    rows = list(
        session.scalars(
            select(Checkin)
            .where(Checkin.status.in_(("queued", "sent")))
            .order_by(Checkin.due_at)
            .with_for_update(skip_locked=True)
        )
    )
    if not rows:
        return 0
    teams = teams_of(session, {r.case_id for r in rows})
    count = 0
    for row in rows:
        schedule = config.checkins_for(teams.get(row.case_id, ()))
        within = timedelta(hours=schedule.answer_within_hours if schedule else 48)
        since = as_utc(row.sent_at or row.due_at)
        if since + within > now:
            continue
        case = session.get(Case, row.case_id)
        if case is None or case.status in INACTIVE or session.get(CaseRoute, case.id) is None:
            row.status = "cancelled"  # closed, or the reporter withdrew consent_followup
            continue
        row.status = "missed"
        session.add(
            CaseEvent(
                case_id=case.id,
                at=now,
                kind="checkin_missed",
                actor=None,
                detail={"stage": row.stage, "delivered": row.sent_at is not None},
            )
        )
        count += raise_for_checkin(session, case, row.id, "checkin_missed", now)
    if count:
        log.warning("alerts: %d safety check-in(s) unanswered: cases raised", count)
    return count
