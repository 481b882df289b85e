"""Queueing, escalation and delivery of on-call alerts.

    enqueue_for_case(session, case, now)   the intake, inside the transaction that makes a
                                           priority-1 case: one INSERT, no network, no config
    dispatch(db, config, now, senders)     a round: escalate, remind of interim-measure
                                           deadlines, fan out to the rota, send what is due,
                                           record the outcome; never raises

A round holds the database only for short transactions and never while a route is being
called, so it cannot hold up a conversation (SQLite takes its write lock at BEGIN). Rows being
sent are leased (their next attempt moved ahead) so two dispatchers do not send the same alert.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts._assessment import assess_by, queue_assessment_alerts, teams_of
from alerts._checkins import queue_missed_checkins
from alerts._config import OncallConfig
from alerts._message import render
from alerts._senders import Sender, SendError
from core import as_utc as _aware
from storage import ROTA, Alert, Case, CaseAction, CaseEvent, Database

__all__ = ["LEASE", "DispatchReport", "dispatch", "enqueue_for_case"]

log = logging.getLogger("sanad.alerts")
LEASE = timedelta(minutes=5)  # longer than any send can take (every call has a timeout)
URGENT = 1
INACTIVE = ("closed", "withdrawn")  # no one needs telling any more: alerts are cancelled
MEASURE = "interim_measures"  # the case action whose deadline is reminded


def _insert_once(
    session: Session, case_id: str, kind: str, route: str, now: datetime, action_id: str = ""
) -> bool:
    """Add one pending alert unless (case, kind, route, measure) exists; True if added."""
    if (
        session.scalar(
            select(Alert.id).where(
                Alert.case_id == case_id,
                Alert.kind == kind,
                Alert.route == route,
                Alert.action_id == action_id,
            )
        )
        is not None
    ):
        return False
    try:
        with session.begin_nested():  # a concurrent insert loses here, not the caller's work
            session.add(
                Alert(
                    case_id=case_id,
                    kind=kind,
                    route=route,
                    status="pending",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                    action_id=action_id,
                )
            )
    except IntegrityError:
        return False
    return True


def enqueue_for_case(session: Session, case: Case, now: datetime) -> bool:
    """Ask for an on-call alert about `case`, in the caller's transaction.

    Call it in the transaction that creates (or raises to priority 1) a case: it is a single
    INSERT, so the conversation never waits for a route, and the alert exists exactly when the
    case does. It does nothing for cases that are not priority 1 and is idempotent per case:
    calling it again, as an urgent case is completed in place, adds nothing. Returns True when
    an alert was queued. The routes are chosen from the rota by the dispatcher.
    """
    if case.priority != URGENT:
        return False
    session.flush()  # the case row must exist for the foreign key
    return _insert_once(session, case.id, "new", ROTA, now)


@dataclass
class DispatchReport:
    """What one round did (counts only)."""

    escalated: int = 0
    planned: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    reminded: int = 0  # interim-measure deadlines that became due or overdue this round
    assessments: int = 0  # first-assessment notices and reminders queued this round
    checkins_missed: int = 0  # safety check-ins left unanswered: cases raised this round
    error: str | None = None  # the round stopped early (e.g. database unavailable)


@dataclass(frozen=True)
class _Job:
    id: int
    kind: str
    route: str
    case_ref: str
    priority: int
    received_at: datetime
    deadline: datetime | None = None  # measure reminders


def _escalate(session: Session, config: OncallConfig, now: datetime) -> int:
    cutoff = now - timedelta(minutes=config.escalate_after_minutes)
    alerted = exists().where(Alert.case_id == Case.id, Alert.kind == "new")
    escalated = exists().where(Alert.case_id == Case.id, Alert.kind == "escalation")
    due = session.scalars(
        select(Case.id).where(
            Case.priority == URGENT,
            Case.assigned_to.is_(None),
            Case.received_at <= cutoff,
            Case.status.not_in(INACTIVE),
            alerted,
            ~escalated,
        )
    )
    count = 0
    for case_id in list(due):
        if _insert_once(session, case_id, "escalation", ROTA, now):
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=now,
                    kind="alert_escalated",
                    actor=None,
                    detail={"after_minutes": config.escalate_after_minutes},
                )
            )
            count += 1
    if count:
        log.warning("alerts: %d unclaimed priority-1 case(s) escalated to supervisors", count)
    return count


def _remind(session: Session, config: OncallConfig, now: datetime) -> int:
    """Queue a reminder for each interim measure whose deadline is within the configured
    window (`measure_due`) or has passed (`measure_late`), once per measure and stage.

    The stage is recorded on the measure in this transaction, so a restart, a second
    dispatcher or the next round never queues it again; a measure first seen after its
    deadline gets only the overdue reminder."""
    horizon = now + timedelta(days=config.measure_reminder_days)
    due = session.execute(
        select(CaseAction)
        .join(Case, Case.id == CaseAction.case_id)
        .where(
            CaseAction.kind == MEASURE,
            CaseAction.outcome == "done",
            CaseAction.deadline.is_not(None),
            CaseAction.deadline <= horizon,
            Case.status.not_in(INACTIVE),
            or_(
                CaseAction.reminded.is_(None),
                (CaseAction.reminded == "due") & (CaseAction.deadline <= now),
            ),
        )
        .order_by(CaseAction.deadline, CaseAction.id)
        .with_for_update(skip_locked=True, of=CaseAction)
    ).scalars()
    count = 0
    for action in list(due):
        assert action.deadline is not None
        stage = "overdue" if _aware(action.deadline) <= now else "due"
        kind = "measure_late" if stage == "overdue" else "measure_due"
        action.reminded = stage
        if _insert_once(session, action.case_id, kind, ROTA, now, action.id):
            session.add(
                CaseEvent(
                    case_id=action.case_id,
                    at=now,
                    kind="measure_reminder",
                    actor=None,
                    detail={"stage": stage, "deadline": _aware(action.deadline).isoformat()},
                )
            )
            count += 1
    if count:
        log.info("alerts: %d interim-measure deadline reminder(s) queued", count)
    return count


def _remind_referrals(session: Session, config: OncallConfig, now: datetime) -> int:
    """A referral's deadline, as an interim measure's: `referral_due` once it is within the
    measure window (the on-call caseworkers), `referral_late` once passed (the supervisors),
    once per referral and stage; none once the referral is answered or closed."""
    from storage import Referral

    horizon = now + timedelta(days=config.measure_reminder_days)
    due = session.execute(
        select(Referral)
        .join(Case, Case.id == Referral.case_id)
        .where(
            Referral.status.in_(("sent", "acknowledged")),
            Referral.deadline.is_not(None),
            Referral.deadline <= horizon,
            Case.status.not_in(INACTIVE),
            or_(
                Referral.reminded.is_(None),
                (Referral.reminded == "due") & (Referral.deadline <= now),
            ),
        )
        .order_by(Referral.deadline, Referral.id)
        .with_for_update(skip_locked=True, of=Referral)
    ).scalars()
    count = 0
    for row in list(due):
        assert row.deadline is not None
        stage = "overdue" if _aware(row.deadline) <= now else "due"
        row.reminded = stage
        kind = "referral_late" if stage == "overdue" else "referral_due"
        if _insert_once(session, row.case_id, kind, ROTA, now, row.id):
            session.add(
                CaseEvent(
                    case_id=row.case_id,
                    at=now,
                    kind="referral_reminder",
                    actor=None,
                    detail={"stage": stage, "body": row.body},
                )
            )
            count += 1
    return count


def _plan(session: Session, config: OncallConfig, now: datetime) -> int:
    """Turn each case-level row into one row per route of the people on duty now."""
    rows = session.scalars(
        select(Alert)
        .where(Alert.route == ROTA, Alert.status == "pending")
        .order_by(Alert.id)
        .with_for_update(skip_locked=True)
    )
    planned = 0
    for row in list(rows):
        case = session.get(Case, row.case_id)
        if case is None or case.status in INACTIVE:
            row.status = "cancelled"
            continue
        routes = config.routes_for(
            row.kind, now, tuple(teams_of(session, [case.id]).get(case.id, ()))
        )
        for route in routes:
            planned += _insert_once(session, row.case_id, row.kind, route.name, now, row.action_id)
        row.attempts += 1
        if routes:
            row.status, row.sent_at = "sent", now
        else:
            row.status = "failed"
            log.error(
                "alerts: no route for a %s alert (alert %d): check the rota", row.kind, row.id
            )
    return planned


def _claim(session: Session, config: OncallConfig, now: datetime, limit: int) -> list[_Job]:
    rows = session.execute(
        select(Alert, Case, CaseAction.deadline)
        .join(Case, Case.id == Alert.case_id)
        .outerjoin(CaseAction, CaseAction.id == Alert.action_id)
        .where(Alert.status == "pending", Alert.route != ROTA, Alert.next_attempt_at <= now)
        .order_by(Alert.next_attempt_at, Alert.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Alert)
    )
    jobs = []
    for alert, case, deadline in rows:
        if case.status in INACTIVE:
            alert.status = "cancelled"
            continue
        alert.next_attempt_at = now + LEASE
        if alert.kind.startswith("referral_"):
            from storage import Referral

            referral = session.get(Referral, alert.action_id)
            deadline = referral.deadline if referral is not None else None
        if alert.kind.startswith("assessment_") or alert.kind == "allegation":
            deadline = assess_by(
                config,
                case.priority,
                case.received_at,
                teams_of(session, [case.id]).get(case.id, ()),
            )
        jobs.append(
            _Job(
                alert.id,
                alert.kind,
                alert.route,
                case.case_ref,
                case.priority,
                _aware(case.received_at),
                _aware(deadline) if deadline is not None else None,
            )
        )
    return jobs


def _send(
    job: _Job, config: OncallConfig, now: datetime, senders: Mapping[str, Sender]
) -> SendError | None:
    route = config.routes.get(job.route)
    if route is None:
        return SendError("the route is no longer in the configuration")
    sender = senders.get(route.kind)
    if sender is None:
        return SendError(f"no sender for {route.kind} routes")
    age = int((now - job.received_at).total_seconds() // 60)
    until = int((job.deadline - now).total_seconds() // 60) if job.deadline is not None else None
    message = render(
        job.kind, job.case_ref, job.priority, age, config.escalate_after_minutes, until
    )
    try:
        sender(route, message)
    except SendError as exc:
        return exc
    except Exception as exc:  # a sender bug must not stop the other alerts
        return SendError(f"unexpected {type(exc).__name__}")
    return None


def _record(
    session: Session,
    job: _Job,
    error: SendError | None,
    config: OncallConfig,
    now: datetime,
    report: DispatchReport,
) -> None:
    alert = session.get(Alert, job.id)
    if alert is None:  # the case was deleted meanwhile
        return
    alert.attempts += 1
    if error is None:
        alert.status, alert.sent_at = "sent", now
        session.add(
            CaseEvent(
                case_id=alert.case_id,
                at=now,
                kind="alert_sent",
                actor=None,
                detail={"alert": alert.kind, "route": alert.route},
            )
        )
        log.info("alert sent route=%s kind=%s alert=%d", alert.route, alert.kind, alert.id)
        report.sent += 1
        return
    if alert.attempts >= config.retry.max_attempts:
        alert.status = "failed"
        session.add(
            CaseEvent(
                case_id=alert.case_id,
                at=now,
                kind="alert_failed",
                actor=None,
                detail={"alert": alert.kind, "route": alert.route},
            )
        )
        log.error(
            "alert failed for good route=%s kind=%s alert=%d attempts=%d reason=%s",
            alert.route,
            alert.kind,
            alert.id,
            alert.attempts,
            error.reason,
        )
        report.failed += 1
        return
    delay = max(config.retry.delay(alert.attempts), int(error.retry_after or 0))
    alert.next_attempt_at = now + timedelta(seconds=delay)
    log.warning(
        "alert not delivered route=%s kind=%s alert=%d attempt=%d reason=%s retry_in=%ds",
        alert.route,
        alert.kind,
        alert.id,
        alert.attempts,
        error.reason,
        delay,
    )
    report.retrying += 1


def dispatch(
    db: Database,
    config: OncallConfig,
    now: datetime,
    senders: Mapping[str, Sender],
    limit: int = 100,
) -> DispatchReport:
    """One round at time `now`. Never raises: problems are logged (route and outcome, never
    content) and reported in the returned counts."""
    report = DispatchReport()
    try:
        with db.transaction() as session:
            report.escalated = _escalate(session, config, now)
            report.reminded = _remind(session, config, now)
            report.reminded += _remind_referrals(session, config, now)
            report.assessments = queue_assessment_alerts(session, config, now)
            report.checkins_missed = queue_missed_checkins(session, config, now)
            report.planned = _plan(session, config, now)
            jobs = _claim(session, config, now, limit)
    except Exception as exc:
        report.error = type(exc).__name__
        log.error("alerts: round stopped before sending (%s)", report.error)
        return report
    for job in jobs:
        error = _send(job, config, now, senders)
        try:
            with db.transaction() as session:
                _record(session, job, error, config, now, report)
        except Exception as exc:  # the lease expires and the alert is tried again
            report.error = type(exc).__name__
            log.error("alerts: cannot record the outcome of alert %d (%s)", job.id, report.error)
    return report
