"""Tables of the caseworker side (dashboard). Same rule as storage.models: content is sealed.

Kept apart from storage.models so the intake and caseworker sides can change independently;
both share one declarative Base (one metadata, one Alembic history).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

__all__ = ["CaseAction", "CaseNote", "CaseSeen", "UserTotp"]


class UserTotp(Base):
    """A user's TOTP secret, sealed to the user's own public key (opened only after the
    passphrase unlocked the private key), so a stolen database gives no second factor."""

    __tablename__ = "user_totp"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseNote(Base):
    """A caseworker's note: its own data key (sequence `seq`), wrapped to the case's readers."""

    __tablename__ = "case_notes"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)


class CaseAction(Base):
    """An outward-facing step (raise with the State, refer, write back, publish, interim
    measures): recorded whether done or refused for lack of the reporter's consent."""

    __tablename__ = "case_actions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # done | refused
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # the last deadline reminder sent by the alerts (due, then overdue): once per stage
    reminded: Mapped[str | None] = mapped_column(String(12), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class CaseSeen(Base):
    """When a caseworker last opened a case: the queue marks a case "new to you" when it
    arrived or changed after that (issue 16 item 6, unread badges). Holds nothing else."""

    __tablename__ = "case_seen"
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
