"""Safety check-ins (issue 18 item 1; Kyiv-Copenhagen III-ص, San José 13): the intake's side.

With `consent_followup` (the case keeps a sealed way back, `case_routes`), the schedule in
`oncall.yaml` (`checkins:`, per team under `teams:`) sends a check-in some days after the
report, after a caseworker's message reached the reporter, and after a visit. It travels
through the reporter's channel like a caseworker's message (the outbox, sealed, leased), and
is rendered there in the reporter's language from the catalogue: the row holds no text.

The reporter answers by number or word (flows.engine, CHECKIN): "safe" is recorded; "not
safe" raises the case and alerts the on-call caseworkers (alerts.raise_for_checkin), "call
me" alerts them, "stop" ends the check-ins of the case. A check-in nobody answers in time is
raised by the alerts round (alerts.queue_missed_checkins). One check-in is open per case at a
time; a slot already too late when first seen (the schedule was turned on later) is skipped.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import alerts
from core import as_utc
from storage import Case, CaseEvent, CaseRoute, Checkin, OutboxMessage, crypto

__all__ = ["AUTHOR", "answer", "delivered", "of_outbox", "schedule_due"]

log = logging.getLogger("sanad.intake")
AUTHOR = "sanad:checkin"  # the outbox's created_by for a check-in (not a caseworker)
INACTIVE = ("closed", "withdrawn")
OPEN = ("queued", "sent")


def _followup_given(case: Case) -> bool:
    entry = (case.consent or {}).get("consent_followup")
    value = entry.get("value") if isinstance(entry, dict) else entry
    return value is True or value == "yes"


def schedule_due(
    session: Session, key: bytes, config: alerts.OncallConfig | None, now: datetime
) -> int:
    """Queue every check-in that has come due; the number queued."""
    if config is None or (
        config.checkins is None and not any(t.checkins for t in config.teams.values())
    ):
        return 0
    rows = list(
        session.execute(
            select(Case, CaseRoute.channel)
            .join(CaseRoute, CaseRoute.case_id == Case.id)
            .where(Case.status.not_in(INACTIVE))
        )
    )
    if not rows:
        return 0
    ids = [c.id for c, _ in rows]
    stopped = set(
        session.scalars(
            select(Checkin.case_id).where(Checkin.case_id.in_(ids), Checkin.status == "stopped")
        )
    )
    busy = set(
        session.scalars(
            select(Checkin.case_id).where(Checkin.case_id.in_(ids), Checkin.status.in_(OPEN))
        )
    )
    slots = {
        (r.case_id, r.stage, as_utc(r.anchor_at), r.seq)
        for r in session.execute(
            select(Checkin.case_id, Checkin.stage, Checkin.anchor_at, Checkin.seq).where(
                Checkin.case_id.in_(ids)
            )
        )
    }
    contact = {
        cid: as_utc(at)
        for cid, at in session.execute(
            select(OutboxMessage.case_id, func.max(OutboxMessage.sent_at))
            .where(
                OutboxMessage.case_id.in_(ids),
                OutboxMessage.status == "sent",
                OutboxMessage.created_by != AUTHOR,
            )
            .group_by(OutboxMessage.case_id)
        )
        if at is not None
    }
    visits = {
        cid: as_utc(at)
        for cid, at in session.execute(
            select(CaseEvent.case_id, func.max(CaseEvent.at))
            .where(CaseEvent.case_id.in_(ids), CaseEvent.kind == "visit")
            .group_by(CaseEvent.case_id)
        )
        if at is not None
    }
    teams = alerts.teams_of(session, ids)
    queued = 0
    for case, channel in rows:
        if case.id in stopped or case.id in busy or not _followup_given(case):
            continue
        schedule = config.checkins_for(teams.get(case.id, ()))
        if schedule is None:
            continue
        window = timedelta(hours=schedule.answer_within_hours)
        anchors = {
            "after_report": as_utc(case.received_at),
            "after_contact": contact.get(case.id),
            "after_visit": visits.get(case.id),
        }
        done = False
        for stage in alerts.CHECKIN_STAGES:
            anchor = anchors[stage]
            if anchor is None or done:
                continue
            for seq, days in enumerate(schedule.days(stage)):
                due = anchor + timedelta(days=days)
                if due > now or (case.id, stage, anchor, seq) in slots:
                    continue
                stale = now > due + window
                row = _slot(session, case, stage, anchor, seq, due, stale, now)
                if row is None or stale:
                    continue
                _queue(session, key, case, channel, row, now)
                queued += 1
                done = True  # one open check-in per case at a time
                break
    if queued:
        log.info("check-ins: %d queued", queued)
    return queued


def _slot(
    session: Session,
    case: Case,
    stage: str,
    anchor: datetime,
    seq: int,
    due: datetime,
    stale: bool,
    now: datetime,
) -> Checkin | None:
    row = Checkin(
        id=str(uuid.uuid4()),
        case_id=case.id,
        stage=stage,
        anchor_at=anchor,
        seq=seq,
        due_at=due,
        status="skipped" if stale else "queued",
        created_at=now,
    )
    try:
        with session.begin_nested():  # another worker made the same slot: it sends it
            session.add(row)
    except IntegrityError:
        return None
    return row


def _queue(
    session: Session, key: bytes, case: Case, channel: str, row: Checkin, now: datetime
) -> None:
    message_id = str(uuid.uuid4())
    body = json.dumps({"text": "", "checkin": row.id}).encode("utf-8")  # rendered on delivery
    session.add(
        OutboxMessage(
            id=message_id,
            case_id=case.id,
            channel=channel,
            sealed=crypto.seal_field(key, case.id, f"outbox:{message_id}", 0, body),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            created_by=AUTHOR,
        )
    )
    row.outbox_id = message_id
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="checkin_queued",
            actor=None,
            detail={"stage": row.stage, "checkin": row.id},
        )
    )


def of_outbox(session: Session, message_ids: list[str]) -> dict[str, str]:
    """Which of these outbox messages are check-ins: message id -> check-in id."""
    if not message_ids:
        return {}
    return {
        str(outbox): checkin
        for outbox, checkin in session.execute(
            select(Checkin.outbox_id, Checkin.id).where(Checkin.outbox_id.in_(message_ids))
        )
    }


def delivered(session: Session, message_id: str, now: datetime) -> Checkin | None:
    """The check-in behind a delivered outbox message, now waiting for its answer."""
    row = session.scalar(select(Checkin).where(Checkin.outbox_id == message_id))
    if row is None:
        return None
    if row.status == "queued":
        row.status, row.sent_at = "sent", now
    return row


def answer(session: Session, checkin_id: str, case: Case, value: str, now: datetime) -> None:
    """Record the reporter's answer (one of the fixed ones) and act on it."""
    row = session.get(Checkin, checkin_id)
    if row is None or row.case_id != case.id or row.answer is not None:
        return
    row.answer, row.answered_at = value, now
    row.status = "stopped" if value == "stop" else "answered"
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="checkin_answered",
            actor=None,
            detail={"answer": value, "stage": row.stage},
        )
    )
    if value == "not_safe":
        alerts.raise_for_checkin(session, case, row.id, "checkin_unsafe", now)
    elif value == "call_me":
        alerts.raise_for_checkin(session, case, row.id, "checkin_call", now)
    elif value == "stop":
        stop(session, case.id, now)


def stop(session: Session, case_id: str, now: datetime) -> None:
    """No more check-ins for this case: those waiting are cancelled, unsent ones unqueued."""
    waiting = list(
        session.scalars(select(Checkin).where(Checkin.case_id == case_id, Checkin.status.in_(OPEN)))
    )
    for row in waiting:
        row.status = "cancelled"
    ids = [r.outbox_id for r in waiting if r.outbox_id]
    if ids:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "pending")
            .values(status="failed", sealed=b"")
        )
