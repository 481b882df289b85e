"""Retention jobs that delete for real: expired drafts, abandoned sealed files, and — when the
organisation sets a retention — the content and files of closed cases.

- Drafts live at most two epochs (`SANAD_DRAFT_EPOCH_SECONDS`).
- `SANAD_CLOSED_CASE_RETENTION_DAYS`: that many days after a case was closed (its last
  change while closed), its answers, files, keys, follow-up route, waiting messages and notes
  are deleted; the register keeps a tombstone (reference, dates, type, status, the fact of the
  expiry), as a withdrawal does (San José para 11).
- `SANAD_ATTACHMENT_RETENTION_DAYS`: the files of closed cases go after that many days (files
  are the bulkiest and most identifying part), the answers stay until the case retention.
  Open cases are never touched: evidence is kept while a case is worked on.

On SQLite deleted rows are overwritten (`secure_delete`), and the WAL — which still holds the
pages as they were before the deletion — is checkpointed and truncated after each purge. On
PostgreSQL deleted rows stay in the table files until VACUUM FULL rewrites them:
`vacuum_postgres` runs it on the tables a purge touches (`sanad purge --vacuum`).
`DailyPurge` runs `purge` in a running bot. Logs and results hold counts only.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, select, text

from core import as_utc as _aware
from intake.service import IntakeService
from storage import (
    Attachment,
    Case,
    CaseEvent,
    Database,
    ProcessedEvent,
    cases,
    drafts,
    inbox,
    shred,
)
from storage import statistics as stat_rows

log = logging.getLogger("sanad.retention")

__all__ = [
    "PURGED_TABLES",
    "DailyPurge",
    "PurgeCounts",
    "compact_sqlite",
    "purge",
    "purge_closed_cases",
    "purge_drafts",
    "sweep_objects",
    "vacuum_postgres",
]

# Tables whose rows a purge deletes or clears: what VACUUM must rewrite on PostgreSQL.
PURGED_TABLES = (
    "drafts",
    "processed_events",
    "channel_inbox",
    "case_fields",
    "wrapped_keys",
    "attachments",
    "case_routes",
    "outbox",
    "case_notes",
    "cases",
    "case_events",
)


@dataclass(frozen=True)
class PurgeCounts:
    drafts: int = 0
    folders: int = 0
    closed_cases: int = 0
    attachments: int = 0

    @property
    def total(self) -> int:
        return self.drafts + self.folders + self.closed_cases + self.attachments


def purge_drafts(service: IntakeService) -> tuple[int, int]:
    """Delete expired drafts, then any attachment folder that belongs to no case or draft."""
    now = int(service.clock())
    with service.db.transaction() as session:
        expired = drafts.purge_expired(session, service.keyring, now)
        # Event keys expire (finding 13): a record of a processed update lives no longer
        # than a draft; rows of older versions without an expiry go after two epochs.
        old = datetime.fromtimestamp(now - 2 * service.settings.epoch_seconds, UTC)
        session.execute(
            delete(ProcessedEvent).where(
                (ProcessedEvent.expires_at <= now)
                | (ProcessedEvent.expires_at.is_(None) & (ProcessedEvent.processed_at < old))
            )
        )
        # Updates held for a channel that never came back to them live no longer either.
        inbox.purge_expired(session, service.keyring, now)
    # Item keys of drafts and inbox rows not sealed for two epochs open nothing any more.
    service.keyring.rotate()
    return len(expired), sweep_objects(service)


def sweep_objects(service: IntakeService) -> int:
    """Delete the attachment groups (``<case_id>/``) that belong to no case or live draft,
    and, in a case's group, the objects the case no longer lists (a deletion that failed
    after its transaction committed). The store is listed before the database is read, so
    every object listed was stored while its draft was live: the draft is live still or its
    rows are committed. Returns the groups
    deleted whole (the purge's "folders")."""
    objects = service.objects
    groups = objects.list_prefixes()
    keys = [key for key, _ in objects.walk()]
    listed: dict[str, set[str]] = {}  # a case's group: the paths its rows name
    with service.db.transaction() as session:
        live = set(drafts.live_case_ids(session))
        for start in range(0, len(groups), 500):
            batch = [g for g in groups[start : start + 500] if g not in live]
            for case_id in session.scalars(select(Case.id).where(Case.id.in_(batch))):
                listed[case_id] = set()
            for case_id, path in session.execute(
                select(Attachment.case_id, Attachment.path).where(Attachment.case_id.in_(batch))
            ):
                listed.setdefault(case_id, set()).add(path)
    orphans = [g for g in groups if g not in live and g not in listed]
    for group in orphans:
        objects.delete_prefix(group)
    strays = [
        key
        for key in keys
        if key.partition("/")[0] in listed and key not in listed[key.partition("/")[0]]
    ]
    for key in strays:
        objects.delete(key)
    if strays:
        log.info("purge: stray attachments deleted count=%d", len(strays))
    return len(orphans)


def purge_closed_cases(service: IntakeService) -> tuple[int, int]:
    """Apply the closed-case and attachment retentions; (cases expired, files deleted)."""
    case_days = service.settings.closed_case_retention_days
    file_days = service.settings.attachment_retention_days
    if case_days is None and file_days is None:
        return 0, 0
    now = datetime.fromtimestamp(service.clock(), UTC)
    expired_cases, paths = 0, []
    with service.db.transaction() as session:
        done = set(
            session.scalars(select(CaseEvent.case_id).where(CaseEvent.kind == "content_expired"))
        )
        closed = [
            c
            for c in session.scalars(select(Case).where(Case.status == "closed"))
            if c.id not in done
        ]
        for case in closed:
            closed_for = now - _aware(case.updated_at)
            if case_days is not None and closed_for >= timedelta(days=case_days):
                paths += cases.expire_content(session, case, now, case_days)
                stat_rows.forget_case_statistics(session, case.id, service._pepper)
                expired_cases += 1
            elif file_days is not None and closed_for >= timedelta(days=file_days):
                paths += cases.expire_attachments(
                    session, case, now - timedelta(days=file_days), now, file_days
                )
    for rel in paths:  # committed: a failure here is left to the next sweep, not retried now
        service.objects.delete(rel)
    return expired_cases, len(paths)


def purge(service: IntakeService) -> PurgeCounts:
    """Every retention at once, then the SQLite WAL is emptied (see the module docstring)."""
    removed_drafts, folders = purge_drafts(service)
    expired_cases, files = purge_closed_cases(service)
    counts = PurgeCounts(removed_drafts, folders, expired_cases, files)
    if service.db.is_sqlite:
        compact_sqlite(service.db)
    log.info(
        "purge done drafts=%d folders=%d closed_cases=%d attachments=%d",
        counts.drafts,
        counts.folders,
        counts.closed_cases,
        counts.attachments,
    )
    return counts


def compact_sqlite(db: Database) -> bool:
    """Checkpoint the WAL into the database file and truncate it to zero bytes: until then it
    holds the pages as they were before a deletion. False if a reader kept it busy."""
    busy = not db.truncate_wal()
    if busy:
        # Not an operator's problem: the next purge retries, and what the WAL keeps of erased
        # drafts and inbox rows opens for no one (their item keys are gone).
        log.info("purge: the SQLite WAL could not be truncated (busy); next purge retries")
    return not busy


def vacuum_postgres(db: Database, tables: tuple[str, ...] = PURGED_TABLES) -> None:
    """VACUUM FULL the tables a purge touches: each is rewritten into new files and the old
    ones are removed. A plain VACUUM only marks dead rows' space free, and their bytes stay in
    the pages until overwritten (tests/intake/test_retention.py shows it). Each table is locked
    while it is rewritten: seconds for these tables of small sealed rows."""
    if db.is_sqlite:
        raise ValueError("VACUUM here is for PostgreSQL; SQLite overwrites deleted rows")
    unknown = [t for t in tables if t not in PURGED_TABLES]
    if unknown:
        raise ValueError(f"not a table the purge touches: {', '.join(unknown)}")
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f'VACUUM FULL "{table}"'))  # a name from PURGED_TABLES
    log.info("vacuum done tables=%d", len(tables))


def _shred(path: Path) -> None:
    """Overwrite a file with zeros before unlinking it (storage.objects.shred)."""
    shred(path)


class DailyPurge:
    """`purge` in a background thread of a running bot: once at start, then every
    `settings.purge_interval_seconds`. A failure is logged (its type only) and retried at the
    next interval; it never stops the channel."""

    def __init__(self, service: IntakeService, interval: float | None = None) -> None:
        self.service = service
        self.interval = interval or service.settings.purge_interval_seconds
        self.runs = 0
        self.last: PurgeCounts | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="sanad-purge", daemon=True)

    def start(self) -> DailyPurge:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = purge(self.service)
            except Exception as exc:  # keep the bot running; the type is all the log says
                log.error("scheduled purge failed error=%s", type(exc).__name__)
            self.runs += 1
            self._stop.wait(self.interval)
