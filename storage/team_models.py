"""Tables of teams, case routing and access requests (issue 14).

Team membership here is a **mirror** of the signed recipient manifest, kept so pages and
queries can join on it; it grants nothing. Who is a member, and so who new reports are
sealed to, is what the manifest signed by the administrator says (storage.teams): a row
written into `team_members` by someone with database access changes no recipient.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models import Base

__all__ = ["AccessRequest", "CaseTeam", "Team", "TeamMember"]


class Team(Base):
    __tablename__ = "teams"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TeamMember(Base):
    __tablename__ = "team_members"
    team_name: Mapped[str] = mapped_column(
        ForeignKey("teams.name", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )


class CaseTeam(Base):
    """A team a case was routed to at intake, or shared or moved to later (by a grant)."""

    __tablename__ = "case_teams"
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    team_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AccessRequest(Base):
    """A caseworker's request to read a case (a reason, never report content); a supervisor
    of one of the case's teams approves it (a grant) or refuses it."""

    __tablename__ = "access_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[str] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12))  # pending | approved | refused
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (Index("ix_access_requests_status", "status", "created_at"),)
