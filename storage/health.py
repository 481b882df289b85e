"""Liveness and status: worker heartbeats, readiness, and the status report.

    beat(session, kind, now)        a worker says it is alive (one row per kind and process)
    Heartbeat(db, kind).start()     the same from a background thread, every `interval` s
    readiness(db) -> Readiness      database reachable, migrations current (for /readyz)

Nothing here reads or returns case content: worker ids are a host name and a process id.
The status report that joins these with the queue and the alerts is `jobs.status`.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import as_utc as _aware
from storage.db import Database
from storage.models import WorkerHeartbeat

__all__ = [
    "KINDS",
    "Heartbeat",
    "Readiness",
    "beat",
    "first_start",
    "heartbeats",
    "last_beat",
    "readiness",
    "worker_id",
]

log = logging.getLogger("sanad.health")

# The long-running worker kinds that beat (a row's `kind`).
KINDS = ("telegram", "signal", "webchat", "webhook", "alerts", "dashboard", "jobs")


def worker_id() -> str:
    """This process: host name and process id (no user data)."""
    return f"{socket.gethostname()[:64]}:{os.getpid()}"


def beat(
    session: Session,
    kind: str,
    now: datetime,
    worker: str | None = None,
    started_at: datetime | None = None,
) -> None:
    """Record that worker `worker` (default: this process) of `kind` is alive at `now`.
    Only that worker writes its row, so there is no race to lose."""
    wid = worker or worker_id()
    row = session.get(WorkerHeartbeat, (kind, wid))
    if row is None:
        host, _, pid = wid.rpartition(":")
        session.add(
            WorkerHeartbeat(
                kind=kind,
                worker_id=wid,
                host=host[:64] or wid[:64],
                pid=int(pid) if pid.isdigit() else 0,
                started_at=started_at or now,
                beat_at=now,
            )
        )
    else:
        row.beat_at = now


def last_beat(session: Session, kind: str) -> datetime | None:
    value = session.scalar(
        select(func.max(WorkerHeartbeat.beat_at)).where(WorkerHeartbeat.kind == kind)
    )
    return _aware(value) if value is not None else None


def first_start(session: Session) -> datetime | None:
    """When the first worker that still has a row started (how long a silence can be
    measured when a kind never beat)."""
    value = session.scalar(select(func.min(WorkerHeartbeat.started_at)))
    return _aware(value) if value is not None else None


def heartbeats(session: Session, now: datetime) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(WorkerHeartbeat).order_by(WorkerHeartbeat.kind, WorkerHeartbeat.worker_id)
    )
    return [
        {
            "kind": r.kind,
            "worker": r.worker_id,
            "host": r.host,
            "pid": r.pid,
            "started_at": _aware(r.started_at).isoformat(),
            "last_beat": _aware(r.beat_at).isoformat(),
            "age_seconds": int((now - _aware(r.beat_at)).total_seconds()),
        }
        for r in rows
    ]


class Heartbeat:
    """A background thread that beats for `kind` every `interval` seconds until stopped.
    A failed beat (database away) is logged by type and tried at the next interval."""

    def __init__(
        self,
        db: Database,
        kind: str,
        interval: float = 15.0,
        clock: Callable[[], float] = time.time,
        worker: str | None = None,
    ) -> None:
        self.db, self.kind, self.interval, self.clock = db, kind, interval, clock
        self.worker = worker or worker_id()
        self.started_at = datetime.fromtimestamp(clock(), UTC)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"sanad-beat-{kind}", daemon=True)

    def beat_now(self) -> None:
        with self.db.transaction() as session:
            beat(
                session,
                self.kind,
                datetime.fromtimestamp(self.clock(), UTC),
                self.worker,
                self.started_at,
            )

    def start(self) -> Heartbeat:
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.beat_now()
            except Exception as exc:  # keep the worker running; the type is all we log
                log.warning("heartbeat not written kind=%s error=%s", self.kind, type(exc).__name__)
            self._stop.wait(self.interval)


@dataclass(frozen=True)
class Readiness:
    database: bool
    migrations: bool
    error: str | None = None  # the exception type, never its text (it may hold the URL)

    @property
    def ready(self) -> bool:
        return self.database and self.migrations

    def to_json(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "database": self.database,
            "migrations": self.migrations,
            **({"error": self.error} if self.error else {}),
        }


def readiness(db: Database) -> Readiness:
    """Can this process serve: the database answers and its schema is the newest revision.
    Reusable by any HTTP front (the dashboard's /readyz, a webhook worker's)."""
    try:
        current = db.is_current()
    except Exception as exc:
        return Readiness(False, False, type(exc).__name__)
    return Readiness(True, current)
