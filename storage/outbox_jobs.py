"""Caseworker-outbox delivery as a job of the engine.

On PostgreSQL every queued message is a procrastinate job on its channel's queue
(`sanad.outbox.<channel>`), deferred in the same transaction that stores the message
(`defer_delivery`), so a message is never stored without its job nor the other way round.
Only a channel process consumes its queue (only it holds the platform connection): its runner
registers the channel's `deliver(message_id)` (`Runner.consume_outbox`). A job's only
argument is the message id; the text and the way back stay sealed in the outbox row.

Exactly once: procrastinate hands a job to one worker (`FOR UPDATE SKIP LOCKED`), jobs of one
message share a `lock` (never two running at once) and a `queueing_lock` (never two waiting),
and the delivery itself leases the outbox row (`intake/followup.py::take`), so even a
duplicate job sends nothing twice. A failed send is retried by the engine after the backoff
the outbox row records (30 s, 1 min, 2 min … 1 h), until `MAX_ATTEMPTS`; then the row is
`failed`, which `sanad status` counts.

A sweep (`sweep`, once a minute across hosts) defers a job for any due message that has none
waiting or running: messages queued before the engine's tables were there, or whose job
ended without settling the row, and it retries the jobs of workers that died mid-send
(procrastinate's stalled jobs). On SQLite the same `deliver` runs in-process for every due
message (`ThreadRunner.consume_outbox`).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from core import UnavailableError

__all__ = [
    "FAILED",
    "JOB_CHANNELS",
    "RETRY",
    "SENT",
    "SKIPPED",
    "DeliveryDeferred",
    "defer_delivery",
    "outbox_lock",
    "outbox_queue",
    "outbox_task",
    "sweep_candidates",
]

SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"


# The channels whose processes consume an outbox queue. WhatsApp delivers from its own leased
# loop (`bot/whatsapp.py::deliver_outbox`): outside the 24-hour window a reply waits, leased,
# until the reporter writes back, which a job retried on a timer cannot express. Its messages
# get no job, so no job waits for ever on a queue nobody reads.
JOB_CHANNELS = frozenset({"telegram", "signal"})


def outbox_queue(channel: str) -> str:
    return f"sanad.outbox.{channel}"


def outbox_task(channel: str) -> str:
    return f"sanad.outbox.{channel}"


def outbox_lock(message_id: str) -> str:
    return f"outbox:{message_id}"


class DeliveryDeferred(UnavailableError):
    """Raised by an outbox job whose send failed (or whose message another worker holds): the
    engine runs it again after `wait`."""

    def __init__(self, wait: timedelta) -> None:
        super().__init__("outbox delivery deferred")
        self.wait = wait


def _engine_installed(session: Session) -> bool:
    return session.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None


def defer_delivery(session: Session, channel: str, message_ids: list[str]) -> int:
    """Defer the delivery jobs of these messages in the caller's transaction (PostgreSQL with
    the engine's tables; otherwise nothing: the in-process runner or the sweep finds them).
    Ids only in the job's arguments. How many jobs were deferred."""
    bind = session.get_bind()
    if (
        bind.dialect.name != "postgresql"
        or not message_ids
        or channel not in JOB_CHANNELS
        or not _engine_installed(session)
    ):
        return 0
    count = 0
    for message_id in message_ids:
        lock = outbox_lock(message_id)
        with session.begin_nested():  # a job already waiting for it: leave that one
            exists = session.scalar(
                text(
                    "SELECT 1 FROM procrastinate_jobs WHERE queueing_lock = :lock "
                    "AND status IN ('todo', 'doing') LIMIT 1"
                ),
                {"lock": lock},
            )
            if exists:
                continue
            session.execute(
                text(
                    "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :lock, "
                    "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
                ),
                {
                    "queue": outbox_queue(channel),
                    "task": outbox_task(channel),
                    "lock": lock,
                    "args": json.dumps({"message_id": message_id}),
                },
            )
            count += 1
    return count


def sweep_candidates(session: Session, channel: str, now: Any, limit: int = 200) -> list[str]:
    """Due messages of this channel that no job is waiting for or running (PostgreSQL)."""
    rows = session.execute(
        text(
            "SELECT o.id FROM outbox o WHERE o.channel = :channel AND o.status = 'pending' "
            "AND o.next_attempt_at <= :now AND (o.lease_until IS NULL OR o.lease_until <= :now) "
            "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs j "
            "WHERE j.queueing_lock = 'outbox:' || o.id AND j.status IN ('todo', 'doing')) "
            "ORDER BY o.created_at LIMIT :limit"
        ),
        {"channel": channel, "now": now, "limit": limit},
    )
    return [str(r[0]) for r in rows]
