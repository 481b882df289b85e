"""`sanad status`: workers' last beats, the oldest unclaimed priority-1 case, outbox and alert
failures. Case references, ages and counts only: no content (README, "sanad status")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts import ROTA, Alert
from core import as_utc as _aware
from storage import Case, HealthAlert, OutboxMessage, health

__all__ = ["status"]

INACTIVE = ("closed", "withdrawn")


def status(session: Session, now: datetime) -> dict[str, Any]:
    unclaimed = (Case.priority == 1, Case.assigned_to.is_(None), Case.status.not_in(INACTIVE))
    oldest = session.execute(
        select(Case.case_ref, Case.received_at)
        .where(*unclaimed)
        .order_by(Case.received_at)
        .limit(1)
    ).first()
    p1: dict[str, Any] | None = None
    if oldest is not None:
        received = _aware(oldest.received_at)
        p1 = {
            "case_ref": oldest.case_ref,
            "received_at": received.isoformat(),
            "age_seconds": int((now - received).total_seconds()),
        }

    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    pending = OutboxMessage.status == "pending"
    outbox = {
        "pending": count(OutboxMessage, pending),
        "retrying": count(OutboxMessage, pending, OutboxMessage.attempts > 0),
        "failed": count(OutboxMessage, OutboxMessage.status == "failed"),
        "leased": count(OutboxMessage, pending, OutboxMessage.lease_until > now),
    }
    routed = Alert.route != ROTA
    alerts = {
        "pending": count(Alert, Alert.status == "pending", routed),
        "retrying": count(Alert, Alert.status == "pending", routed, Alert.attempts > 0),
        "failed": count(Alert, Alert.status == "failed"),
    }
    problems = [
        {"kind": h.kind, "status": h.status, "raised_at": _aware(h.raised_at).isoformat()}
        for h in session.scalars(select(HealthAlert).order_by(HealthAlert.kind))
    ]
    return {
        "at": now.isoformat(),
        "workers": health.heartbeats(session, now),
        "oldest_unclaimed_p1": p1,
        "unclaimed_p1": count(Case, *unclaimed),
        "outbox": outbox,
        "alerts": alerts,
        "health_alerts": problems,
    }
