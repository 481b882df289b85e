"""First-assessment deadlines (San José 10, 12; contracts.md "First-assessment deadlines").

Every allegation is to be assessed "as soon as possible": each priority has a target in
`oncall.yaml` (`first_assessment_minutes`, which a team may override), counted from receipt
until the case first leaves "allegation, pending assessment". A dispatcher round queues, once
per case and stage, with the case reference, priority and time only:

- `allegation`: the focal point of the case's team is told of the new allegation;
- `assessment_due`: once `assessment_reminder_percent` of the time has gone, the on-call
  caseworkers (and the focal point) are reminded;
- `assessment_late`: once the deadline has passed, the supervisors (and the focal point).

A case first seen past a stage skips the earlier ones (turning the setting on does not flood
anyone with notices of old cases). The stage is the `alerts` row itself (unique per case and
kind), so a restart or a second dispatcher never queues it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts._config import OncallConfig
from core import as_utc
from storage import INITIAL_STATUS, ROTA, Alert, Case, CaseEvent, CaseTeam

__all__ = ["PENDING", "STAGES", "assess_by", "queue_assessment_alerts", "teams_of"]

log = logging.getLogger("sanad.alerts")
PENDING = INITIAL_STATUS
STAGES = ("allegation", "assessment_due", "assessment_late")


def assess_by(
    config: OncallConfig | None, priority: int, received_at: datetime, teams: Iterable[str] = ()
) -> datetime | None:
    """When the first assessment of this allegation is due; None when no target applies."""
    if config is None:
        return None
    minutes = config.assessment_minutes(priority, tuple(teams))
    return None if minutes is None else as_utc(received_at) + timedelta(minutes=minutes)


def teams_of(session: Session, case_ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    out: dict[str, list[str]] = {}
    ids = list(case_ids)
    if ids:
        for case_id, team in session.execute(
            select(CaseTeam.case_id, CaseTeam.team_name)
            .where(CaseTeam.case_id.in_(ids))
            .order_by(CaseTeam.team_name)
        ):
            out.setdefault(case_id, []).append(team)
    return {k: tuple(v) for k, v in out.items()}


def _stage(config: OncallConfig, received: datetime, deadline: datetime, now: datetime) -> str:
    if now >= deadline:
        return "assessment_late"
    remind = received + (deadline - received) * config.assessment_reminder_percent / 100
    return "assessment_due" if now >= remind else "allegation"


def queue_assessment_alerts(session: Session, config: OncallConfig, now: datetime) -> int:
    """Queue the stage each pending allegation has reached and not yet been alerted for;
    the number queued. Nothing happens unless targets are configured."""
    from alerts._dispatch import _insert_once

    if not config.first_assessment_minutes and not any(
        t.first_assessment_minutes for t in config.teams.values()
    ):
        return 0
    rows = list(
        session.execute(
            select(Case.id, Case.priority, Case.received_at)
            .where(Case.status == PENDING)
            .order_by(Case.received_at)
        )
    )
    if not rows:
        return 0
    done: dict[str, set[str]] = {}
    for case_id, kind in session.execute(
        select(Alert.case_id, Alert.kind).where(
            Alert.route == ROTA, Alert.kind.in_(STAGES), Alert.case_id.in_([r[0] for r in rows])
        )
    ):
        done.setdefault(case_id, set()).add(kind)
    teams = teams_of(session, [r[0] for r in rows])
    count = 0
    for case_id, priority, received_at in rows:
        received = as_utc(received_at)
        deadline = assess_by(config, priority, received, teams.get(case_id, ()))
        if deadline is None:
            continue
        stage = _stage(config, received, deadline, now)
        have = done.get(case_id, set())
        # a later stage already sent means the earlier ones are past
        if stage in have or STAGES.index(stage) < max((STAGES.index(k) for k in have), default=-1):
            continue
        if _insert_once(session, case_id, stage, ROTA, now):
            session.add(
                CaseEvent(
                    case_id=case_id,
                    at=now,
                    kind="assessment_alert",
                    actor=None,
                    detail={"stage": stage, "deadline": deadline.isoformat()},
                )
            )
            count += 1
    if count:
        log.info("alerts: %d first-assessment notice(s) or reminder(s) queued", count)
    return count
