"""Safety check-ins (issue 18 item 1): one row per check-in of a case, no content.

A row says when a check-in was due, whether it reached the reporter, and which of the fixed
answers they chose (safe, not_safe, call_me, stop); never anything they wrote. The question
itself is a catalogue text rendered in the reporter's language when it is delivered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

__all__ = ["ANSWERS", "STATUSES", "Checkin"]

# queued: in the outbox; sent: delivered, waiting for the answer; answered; missed: no answer
# in time (the case was raised); stopped: the reporter stopped check-ins; skipped: already too
# late when first seen (the schedule was turned on after it); cancelled: no way back any more
STATUSES = ("queued", "sent", "answered", "missed", "stopped", "skipped", "cancelled")
ANSWERS = ("safe", "not_safe", "call_me", "stop")


class Checkin(Base):
    __tablename__ = "checkins"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))  # after_report | after_contact | after_visit
    anchor_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # what it follows
    seq: Mapped[int] = mapped_column(Integer)  # which offset of the stage's schedule
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))  # see STATUSES
    outbox_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    answer: Mapped[str | None] = mapped_column(String(12), nullable=True)  # see ANSWERS
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (
        UniqueConstraint("case_id", "stage", "anchor_at", "seq", name="uq_checkins_slot"),
        Index("ix_checkins_status", "status", "sent_at"),
    )
