"""The watchdog of the alerts worker: a silent `sanad alerts run` means priority-1 cases reach
nobody, so when no alerts worker has beaten for `SILENCE` the on-call routes are told.

    watch_alerts_worker(db, config, now, senders) -> str    one check; never raises

The problem is one `health_alerts` row (kind `alerts_silent`): inserting it is what decides
who tells, so the on-call route hears it once across every host and round, and again only
after the worker came back and fell silent anew. Its text names no case, only how long.
Run it anywhere but in the alerts worker itself (the job worker, the bots).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from alerts._config import OncallConfig
from alerts._dispatch import LEASE
from alerts._message import render
from alerts._senders import Sender, SendError
from storage import Database, HealthAlert, health

__all__ = ["SILENCE", "SILENT", "watch_alerts_worker"]

log = logging.getLogger("sanad.alerts")
SILENCE = timedelta(minutes=2)
SILENT = "alerts_silent"


def _silent_since(db: Database, now: datetime) -> datetime | None:
    """When the alerts workers went quiet, or None if one beat within `SILENCE`. A kind that
    never beat is measured from the first worker's start, so a fresh install is not an
    alarm in its first two minutes."""
    with db.transaction() as session:
        last = health.last_beat(session, "alerts") or health.first_start(session)
    if last is None or now - last < SILENCE:
        return None
    return last


def watch_alerts_worker(
    db: Database, config: OncallConfig, now: datetime, senders: Mapping[str, Sender]
) -> str:
    """One check: 'ok', 'quiet' (not yet two minutes), 'raised', 'sent', 'retrying',
    'failed' or 'error'. Never raises; logs name routes and outcomes only."""
    try:
        since = _silent_since(db, now)
        if since is None:
            with db.transaction() as session:
                gone = session.execute(delete(HealthAlert).where(HealthAlert.kind == SILENT))
            if getattr(gone, "rowcount", 0):
                log.info("alerts: an alerts worker is beating again")
            return "ok"
        try:
            with db.transaction() as session:
                if session.get(HealthAlert, SILENT) is None:
                    session.add(
                        HealthAlert(
                            kind=SILENT,
                            raised_at=now,
                            status="pending",
                            attempts=0,
                            next_attempt_at=now,
                        )
                    )
                    log.error("alerts: no alerts worker has beaten since %s", since.isoformat())
        except IntegrityError:  # another host raised it at the same moment
            pass
        with db.transaction() as session:
            row = session.scalar(
                select(HealthAlert)
                .where(
                    HealthAlert.kind == SILENT,
                    HealthAlert.status == "pending",
                    HealthAlert.next_attempt_at <= now,
                )
                .with_for_update(skip_locked=True)
            )
            if row is None:
                return "raised"
            row.next_attempt_at = now + LEASE  # leased while the routes are called
        error = _tell(config, now, since, senders)
        with db.transaction() as session:
            row = session.get(HealthAlert, SILENT)
            if row is None:
                return "ok"
            row.attempts += 1
            if error is None:
                row.status, row.sent_at = "sent", now
                log.warning("alerts: on-call told that the alerts worker is silent")
                return "sent"
            if row.attempts >= config.retry.max_attempts:
                row.status = "failed"
                log.error(
                    "alerts: could not tell on-call that the alerts worker is silent (%s)",
                    error.reason,
                )
                return "failed"
            row.next_attempt_at = now + timedelta(
                seconds=max(config.retry.delay(row.attempts), int(error.retry_after or 0))
            )
            log.warning("alerts: silent-worker alert not delivered (%s); will retry", error.reason)
            return "retrying"
    except Exception as exc:
        log.error("alerts: watchdog check stopped (%s)", type(exc).__name__)
        return "error"


def _tell(
    config: OncallConfig, now: datetime, since: datetime, senders: Mapping[str, Sender]
) -> SendError | None:
    """Every on-call route on duty (falling back to supervisors, as `new` alerts do); the
    alert counts as told when at least one route took it."""
    routes = config.routes_for("new", now)
    if not routes:
        return SendError("no route on duty")
    message = render(SILENT, "-", 0, int((now - since).total_seconds() // 60), 0)
    errors: list[SendError] = []
    for route in routes:
        sender = senders.get(route.kind)
        if sender is None:
            errors.append(SendError(f"no sender for {route.kind} routes"))
            continue
        try:
            sender(route, message)
        except SendError as exc:
            errors.append(exc)
        except Exception as exc:  # a sender bug must not stop the others
            errors.append(SendError(f"unexpected {type(exc).__name__}"))
    return errors[0] if len(errors) == len(routes) else None
