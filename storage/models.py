"""SQLAlchemy models. Content columns hold only sealed bytes; nothing here imports crypto.

What a stolen database shows, by design: times, status, triage priority and reasons, report
type, consent flags and sizes. Never a reporter's words, name, chat id or phone number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Attachment",
    "AuditEntry",
    "Base",
    "Case",
    "CaseEvent",
    "CaseField",
    "CaseRoute",
    "ChatMessage",
    "Draft",
    "HealthAlert",
    "IdentityKey",
    "IdentityRequest",
    "InboxUpdate",
    "OutboxMessage",
    "ProcessedEvent",
    "RateLimit",
    "RecipientManifest",
    "User",
    "WorkerHeartbeat",
    "WrappedKey",
]


class Base(DeclarativeBase):
    pass


class User(Base):
    """A caseworker account: a public key anyone may wrap to, a private key locked by Argon2id."""

    __tablename__ = "users"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(16), index=True)
    private_key_blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The last TOTP time step that logged in: a code is good once, across restarts and
    # workers (review finding 16).
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # woman | man | None: what "claim next" matches a reporter's caseworker preference with
    gender: Mapped[str | None] = mapped_column(String(8), nullable=True)


class RecipientManifest(Base):
    """Signed list of public keys new reports are sealed to; verified against a pinned key."""

    __tablename__ = "recipient_manifests"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Draft(Base):
    """An unfinished conversation, sealed under an epoch key that is never in the database."""

    __tablename__ = "drafts"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    case_id: Mapped[str] = mapped_column(String(36))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProcessedEvent(Base):
    """Platform update ids already handled, so a redelivered update is not processed twice."""

    __tablename__ = "processed_events"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The replies this event produced, sealed like a draft (epoch keys, never in the database),
    # so an update redelivered after a crash gets the same answer again, receipt included.
    sealed_replies: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    expires_at: Mapped[int | None] = mapped_column(Integer, nullable=True)


class InboxUpdate(Base):
    """A platform update received and confirmed to the platform but not yet fully answered
    (storage.inbox). Sealed like a draft: it holds what the reporter wrote and their chat id."""

    __tablename__ = "channel_inbox"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[int] = mapped_column(Integer, index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Webhook mode: which chat (a keyed hash, never the chat id) and the platform's order
    # (Telegram's update_id), so one worker at a time answers a chat's updates in order.
    chat_tag: Mapped[str | None] = mapped_column(String(32), index=True, nullable=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_ref: Mapped[str] = mapped_column(String(16), unique=True)
    report_type: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status: Mapped[str] = mapped_column(String(40))
    priority: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Indexed for the live queue's "changed since the page was loaded" (0020).
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    lang: Mapped[str] = mapped_column(String(4))
    flow_version: Mapped[str] = mapped_column(String(160))
    consent: Mapped[dict[str, Any]] = mapped_column(JSON)
    consent_recorded_at: Mapped[datetime | None] = mapped_column(
        DateTime(timezone=True), nullable=True
    )
    receipt_handle: Mapped[bytes] = mapped_column(LargeBinary(5), unique=True)
    receipt_verifier: Mapped[bytes] = mapped_column(LargeBinary)
    incomplete: Mapped[bool] = mapped_column(Boolean, default=False)
    assigned_to: Mapped[str | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    # The reporter's caseworker_gender_pref (woman | man; None: any or not said), kept plain
    # so routing's choice is honoured by "claim next" (issue 18 item 5); no report content.
    caseworker_pref: Mapped[str | None] = mapped_column(String(8), nullable=True)
    __table_args__ = (Index("ix_cases_queue", "status", "priority", "received_at"),)


class CaseField(Base):
    """One sealed answer; AAD binds it to its case, field and sequence (addendum number)."""

    __tablename__ = "case_fields"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    field_id: Mapped[str] = mapped_column(String(64))
    seq: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (UniqueConstraint("case_id", "field_id", "seq"),)


class WrappedKey(Base):
    """A case's data key (for one sequence) wrapped to one recipient's public key."""

    __tablename__ = "wrapped_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(16))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    __table_args__ = (UniqueConstraint("case_id", "seq", "key_id"),)


class Attachment(Base):
    """A sealed file on disk; its name, type and SHA-256 are sealed in `sealed_meta`."""

    __tablename__ = "attachments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    path: Mapped[str] = mapped_column(String(200))
    sealed_meta: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseEvent(Base):
    """The register's history of a case (San José para 11): what happened, never content."""

    __tablename__ = "case_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


class AuditEntry(Base):
    """Every login, read, reveal, export and state change, and every refused attempt."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    case_ref: Mapped[str | None] = mapped_column(String(16), nullable=True)
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Hash chain (storage.audit_chain): each entry's hash covers the previous one's.
    prev_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)
    entry_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), nullable=True)


class ChatMessage(Base):
    """Platform message ids of a conversation (both directions), so quick exit and "clean this
    chat" can delete them. Keyed by the user handle (a keyed hash), never by a chat id."""

    __tablename__ = "chat_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    message_ref: Mapped[str] = mapped_column(String(64))
    direction: Mapped[str] = mapped_column(String(3))  # in | out
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CaseRoute(Base):
    """How to write back to the reporter: kept only with consent_followup, sealed under the
    intake's route key (the bot must read it to deliver; see docs/architecture.md)."""

    __tablename__ = "case_routes"
    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    sealed_route: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class OutboxMessage(Base):
    """A caseworker's message waiting for the running bot to deliver it (sealed)."""

    __tablename__ = "outbox"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    status: Mapped[str] = mapped_column(String(12), index=True)  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # A worker delivering the message holds it until then (intake/followup.py::claim).
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    __table_args__ = (Index("ix_outbox_due", "channel", "status", "next_attempt_at"),)


class WorkerHeartbeat(Base):
    """The last beat of one long-running worker (kind and process): liveness, no content."""

    __tablename__ = "worker_heartbeats"
    kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    worker_id: Mapped[str] = mapped_column(String(96), primary_key=True)  # host:pid
    host: Mapped[str] = mapped_column(String(64))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    beat_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HealthAlert(Base):
    """An open health problem the on-call route is told about once (e.g. `alerts_silent`)."""

    __tablename__ = "health_alerts"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(12))  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class RateLimit(Base):
    """Fixed-window counters (e.g. receipt attempts per user handle)."""

    __tablename__ = "rate_limits"
    bucket: Mapped[str] = mapped_column(String(96), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


class IdentityKey(Base):
    """A case's identity key (names and contact details, storage.identity) wrapped to one
    key: at intake to each custodian of the signed manifest and the recovery key; later to a
    reader a custodian approved (`request_id`, `granted_by`). Never to a reader by default."""

    __tablename__ = "identity_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[bytes] = mapped_column(LargeBinary(16))
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    request_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    __table_args__ = (UniqueConstraint("case_id", "key_id"),)


class IdentityRequest(Base):
    """A reader asks to open a case's identity section for a purpose (a code, never free
    text: nothing a person wrote is kept in clear); a custodian other than the requester
    approves or refuses it. pending | approved | refused."""

    __tablename__ = "identity_requests"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requester: Mapped[str] = mapped_column(String(64), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(12), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    decision_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
