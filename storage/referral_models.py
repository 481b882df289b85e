"""Referrals followed up (issue 18 item 6): one row per referral of a case to a body of the
register (caseworker/defaults/referral_bodies.yaml); codes and dates only, no content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

__all__ = ["REFERRAL_OUTCOMES", "REFERRAL_STATUSES", "Referral"]

REFERRAL_STATUSES = ("sent", "acknowledged", "answered", "closed")
REFERRAL_OUTCOMES = ("action_taken", "investigation_opened", "declined", "no_response", "other")


class Referral(Base):
    __tablename__ = "referrals"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    body: Mapped[str] = mapped_column(String(40))  # an id of the register
    status: Mapped[str] = mapped_column(String(16))  # see REFERRAL_STATUSES
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    reminded: Mapped[str | None] = mapped_column(String(12), nullable=True)  # due | overdue
    outcome: Mapped[str | None] = mapped_column(String(24), nullable=True)  # see REFERRAL_OUTCOMES
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reporter_told_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    __table_args__ = (Index("ix_referrals_due", "status", "deadline"),)
