"""Follow-up plumbing: sealed routes, the outbox, message ids to delete, rate limits.

Routes and outbox texts are sealed under a key derived from the intake's pepper: the bot must
read a route to deliver a caseworker's message, so only reporters who consented to follow-up
have one, and it is never stored in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from storage import Case, CaseEvent, CaseRoute, ChatMessage, OutboxMessage, RateLimit, crypto

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "ROUTE_FIELD",
    "PendingMessage",
    "SentMessage",
    "allow",
    "backoff",
    "due",
    "forget_messages",
    "forget_route",
    "keep_route",
    "mark_failed",
    "mark_sent",
    "messages_of",
    "open_message",
    "pending",
    "queue_message",
    "release",
    "route_key",
    "take",
    "track_many",
]

MAX_ATTEMPTS = 8
# How long a worker holds a message it took for delivery: longer than any send (every
# platform call has a timeout). A worker that dies mid-send gives it up after this.
LEASE = timedelta(minutes=5)
ROUTE_FIELD = "route"


def route_key(pepper: bytes) -> bytes:
    return hmac.new(pepper, b"sanad/v1/route-key", hashlib.sha256).digest()


def keep_route(
    session: Session,
    key: bytes,
    case_id: str,
    handle: bytes,
    channel: str,
    route: str,
    now: datetime,
) -> None:
    sealed = crypto.seal_field(key, case_id, ROUTE_FIELD, 0, route.encode("utf-8"))
    session.add(
        CaseRoute(
            case_id=case_id,
            user_handle=handle,
            channel=channel,
            sealed_route=sealed,
            created_at=now,
        )
    )


def forget_route(session: Session, case_id: str) -> None:
    """Follow-up consent withdrawn: the way back and the messages not yet sent are deleted."""
    session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.case_id == case_id, OutboxMessage.status != "sent"
        )
    )
    session.execute(delete(CaseRoute).where(CaseRoute.case_id == case_id))


def queue_message(
    session: Session, key: bytes, case: Case, text: str, author: str, now: datetime
) -> str | None:
    """Queue a caseworker's message; None when the case has no route (no follow-up consent)."""
    route = session.get(CaseRoute, case.id)
    if route is None:
        return None
    message_id = str(uuid.uuid4())
    body = json.dumps({"text": text}, ensure_ascii=False).encode("utf-8")
    session.add(
        OutboxMessage(
            id=message_id,
            case_id=case.id,
            channel=route.channel,
            sealed=crypto.seal_field(key, case.id, f"outbox:{message_id}", 0, body),
            status="pending",
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            created_by=author,
        )
    )
    session.add(
        CaseEvent(
            case_id=case.id,
            at=now,
            kind="reply_queued",
            actor=author,
            detail={"message": message_id},
        )
    )
    from storage import defer_delivery  # its job, in this transaction (PostgreSQL)

    session.flush()
    defer_delivery(session, route.channel, [message_id])
    return message_id


def open_message(session: Session, key: bytes, message: OutboxMessage) -> str:
    """The text of one outbox message (for the case page's conversation); CryptoError once
    delivered (its body is deleted then)."""
    if not message.sealed:
        raise crypto.CryptoError("a delivered message keeps no body")
    body = crypto.open_field(key, message.case_id, f"outbox:{message.id}", 0, message.sealed)
    return str(json.loads(body)["text"])


@dataclass(frozen=True)
class PendingMessage:
    id: str
    route: str
    text: str
    case_ref: str
    lang: str


def pending(
    session: Session, key: bytes, channel: str, now: datetime, limit: int, lease: timedelta = LEASE
) -> list[PendingMessage]:
    """Take up to `limit` due messages for delivery: each is leased to the caller until
    `now + lease`, so another worker (thread, process or host) does not take it meanwhile.

    The rows are locked with `FOR UPDATE SKIP LOCKED` while the lease is written (PostgreSQL:
    a second worker skips them instead of waiting, then sees the lease; SQLite: BEGIN
    IMMEDIATE already lets one writer in at a time). `mark_sent` or `mark_failed` ends the
    lease; a lease that runs out (the worker died) makes the message due again."""
    free = OutboxMessage.lease_until.is_(None) | (OutboxMessage.lease_until <= now)
    rows = session.execute(
        select(OutboxMessage, Case, CaseRoute)
        .join(Case, Case.id == OutboxMessage.case_id)
        .join(CaseRoute, CaseRoute.case_id == OutboxMessage.case_id)
        .where(
            OutboxMessage.channel == channel,
            OutboxMessage.status == "pending",
            OutboxMessage.next_attempt_at <= now,
            free,
        )
        .order_by(OutboxMessage.created_at)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    )
    out = []
    for msg, case, route in rows:
        msg.lease_until = now + lease
        text = json.loads(crypto.open_field(key, case.id, f"outbox:{msg.id}", 0, msg.sealed))
        dest = crypto.open_field(key, case.id, ROUTE_FIELD, 0, route.sealed_route).decode()
        out.append(PendingMessage(msg.id, dest, text["text"], case.case_ref, case.lang))
    return out


def due(session: Session, channel: str, now: datetime, limit: int) -> list[str]:
    """The ids of messages due for delivery and held by no worker, oldest first."""
    free = OutboxMessage.lease_until.is_(None) | (OutboxMessage.lease_until <= now)
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.channel == channel,
                OutboxMessage.status == "pending",
                OutboxMessage.next_attempt_at <= now,
                free,
            )
            .order_by(OutboxMessage.created_at)
            .limit(limit)
        )
    )


def take(
    session: Session, key: bytes, message_id: str, now: datetime, lease: timedelta = LEASE
) -> tuple[PendingMessage | None, timedelta | None]:
    """Lease one message for delivery (the job engine's task: its schedule says when).
    (message, None) when taken; (None, wait) when another worker holds it, to look again
    after `wait`; (None, None) when there is nothing to send (sent, failed for good, or
    deleted with the consent to follow-up)."""
    row = session.execute(
        select(OutboxMessage, Case, CaseRoute)
        .join(Case, Case.id == OutboxMessage.case_id)
        .join(CaseRoute, CaseRoute.case_id == OutboxMessage.case_id)
        .where(OutboxMessage.id == message_id)
        .with_for_update(skip_locked=True, of=OutboxMessage)
    ).first()
    if row is None:
        held = session.scalar(select(OutboxMessage.status).where(OutboxMessage.id == message_id))
        return None, (lease if held == "pending" else None)  # locked by a taker right now
    msg, case, route = row
    if msg.status != "pending":
        return None, None
    lease_until = msg.lease_until
    if lease_until is not None:
        lease_until = lease_until if lease_until.tzinfo else lease_until.replace(tzinfo=now.tzinfo)
        if lease_until > now:
            return None, lease_until - now
    msg.lease_until = now + lease
    body = json.loads(crypto.open_field(key, case.id, f"outbox:{msg.id}", 0, msg.sealed))
    dest = crypto.open_field(key, case.id, ROUTE_FIELD, 0, route.sealed_route).decode()
    return PendingMessage(msg.id, dest, body["text"], case.case_ref, case.lang), None


@dataclass(frozen=True)
class SentMessage:
    case_id: str
    case_ref: str
    lang: str
    channel: str
    handle: bytes


def mark_sent(session: Session, message_id: str, now: datetime) -> SentMessage | None:
    msg = session.get(OutboxMessage, message_id)
    if msg is None or msg.status == "sent":
        return None
    # Delivered: the body goes (finding 6); the case keeps its copy sealed to the readers.
    msg.status, msg.sent_at, msg.sealed, msg.lease_until = "sent", now, b"", None
    case = session.get(Case, msg.case_id)
    route = session.get(CaseRoute, msg.case_id)
    assert case is not None and route is not None
    session.add(
        CaseEvent(
            case_id=case.id, at=now, kind="reply_sent", actor=None, detail={"message": message_id}
        )
    )
    return SentMessage(case.id, case.case_ref, case.lang, route.channel, route.user_handle)


def release(session: Session, message_id: str) -> None:
    msg = session.get(OutboxMessage, message_id)
    if msg is not None and msg.status == "pending":
        msg.lease_until = None


def mark_failed(session: Session, message_id: str, now: datetime) -> timedelta | None:
    """One more failed try: the wait before the next, or None when it failed for good."""
    msg = session.get(OutboxMessage, message_id)
    if msg is None:
        return None
    msg.attempts += 1
    msg.lease_until = None
    wait = backoff(msg.attempts)
    msg.next_attempt_at = now + wait
    if msg.attempts >= MAX_ATTEMPTS:
        msg.status = "failed"
        return None
    return wait


def backoff(attempts: int) -> timedelta:
    """The wait before the next try after `attempts` failures: 30 s, 1 min, 2 min … 1 h."""
    return timedelta(seconds=min(3600, 15 * 2**attempts))


def track_many(
    session: Session, handle: bytes, channel: str, refs: list[tuple[str, str]], now: datetime
) -> None:
    """Message ids of a conversation, in one statement (after every message: no ORM)."""
    if any(direction not in ("in", "out") for _, direction in refs):
        raise ValueError("direction is 'in' or 'out'")
    if refs:
        session.execute(
            insert(ChatMessage),
            [
                {
                    "user_handle": handle,
                    "channel": channel,
                    "message_ref": ref[:64],
                    "direction": direction,
                    "at": now,
                }
                for ref, direction in refs
            ],
        )


def messages_of(session: Session, handle: bytes) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(ChatMessage).where(ChatMessage.user_handle == handle).order_by(ChatMessage.id)
    )
    return [(r.message_ref, r.direction) for r in rows]


def forget_messages(session: Session, handle: bytes) -> None:
    session.execute(delete(ChatMessage).where(ChatMessage.user_handle == handle))


def allow(session: Session, bucket: str, now: int, limit: int, window: int) -> bool:
    """Fixed-window rate limit; counts this attempt."""
    row = session.get(RateLimit, bucket, with_for_update=True)
    if row is None or row.window_start + window <= now:
        if row is None:
            session.add(RateLimit(bucket=bucket, window_start=now, count=1))
        else:
            row.window_start, row.count = now, 1
        return True
    row.count += 1
    return row.count <= limit
