"""The `alerts` table: one row per (case, kind, route), so sending is idempotent and retried.

A row whose route is ``ROTA`` ("*") is the case-level record written by the intake: it says
"this case needs a `new` (or `escalation`) alert" without knowing the rota. The dispatcher
fans it out into one row per route of the people on duty at that moment, then marks it sent.
Nothing here holds content: a stolen table shows which cases were urgent and when someone was
told, as the `cases` table already does.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

__all__ = ["KINDS", "ROTA", "STATUSES", "Alert"]

ROTA = "*"  # the case-level row: routes are chosen from the rota when it is dispatched
KINDS = (
    "new",
    "escalation",
    "measure_due",
    "measure_late",
    "allegation",
    "assessment_due",
    "assessment_late",
    "checkin_unsafe",
    "checkin_call",
    "checkin_missed",
    "referral_due",
    "referral_late",
)
# measure_due / measure_late: an interim measure's deadline is near / has passed (one per
# measure and stage; `action_id` names the measure, '' for the case-level kinds)
STATUSES = ("pending", "sent", "failed", "cancelled")  # cancelled: the case was closed or
# withdrawn before the alert went out


class Alert(Base):
    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # see KINDS
    route: Mapped[str] = mapped_column(String(64))  # a route name in oncall.yaml, or ROTA
    status: Mapped[str] = mapped_column(String(12))  # pending | sent | failed | cancelled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    action_id: Mapped[str] = mapped_column(String(36), default="", server_default="")
    __table_args__ = (
        UniqueConstraint(
            "case_id", "kind", "route", "action_id", name="uq_alerts_case_kind_route_action"
        ),
        Index("ix_alerts_due", "status", "next_attempt_at"),
    )
