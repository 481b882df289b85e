"""A tamper-evident audit log: every entry stores the hash of the one before it.

An edited entry no longer matches its own hash; a deleted or reordered entry breaks the link
from the entry after it. `verify` walks the log in id order and names the first broken entry.
Entries hold actors, actions, case references and outcomes: never case content or reporter ids.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from core import as_utc
from storage import crypto
from storage.models import AuditEntry

__all__ = [
    "CHECKPOINT_FORMAT",
    "GENESIS",
    "AuditEntry",
    "Verification",
    "append",
    "checkpoint",
    "entry_hash",
    "verify",
    "verify_against",
]

GENESIS = crypto.GENESIS
_PG_LOCK = 0x5A4E_4144  # advisory lock id serialising appends on PostgreSQL
# Under that lock: the id the new entry will have and the hash it links to, in one statement
# (ids are taken only under the lock, so id order is chain order).
_PG_NEXT = text(
    "SELECT nextval(pg_get_serial_sequence('audit_log', 'id')), "
    "(SELECT entry_hash FROM audit_log ORDER BY id DESC LIMIT 1)"
)


def _at(value: Any) -> str:
    if isinstance(value, str):  # raw SQLite value during a migration
        value = datetime.fromisoformat(value)
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _record(row: Mapping[str, Any]) -> bytes:
    detail = row["detail"]
    if isinstance(detail, str):
        detail = json.loads(detail)
    payload = {
        "id": int(row["id"]),
        "at": _at(row["at"]),
        "actor": row["actor"],
        "action": row["action"],
        "case_ref": row["case_ref"],
        "outcome": row["outcome"],
        "detail": detail,
    }
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def entry_hash(prev: bytes, row: Mapping[str, Any]) -> bytes:
    return crypto.chain_hash(bytes(prev), _record(row))


def _as_row(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "action": entry.action,
        "case_ref": entry.case_ref,
        "outcome": entry.outcome,
        "detail": entry.detail,
    }


def append(
    session: Session,
    actor: str,
    action: str,
    case_ref: str | None,
    outcome: str,
    now: datetime,
    detail: dict[str, Any],
) -> AuditEntry:
    """Add one entry linked to the newest one (appends are serialised per database).

    On PostgreSQL the lock is held until the transaction ends, so the work done under it is
    kept to three round trips: the lock; the next id with the newest hash; one INSERT of the
    finished entry (its hash computed here, before it is written)."""
    now = as_utc(now).astimezone(UTC)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        row: Any = session.execute(_PG_NEXT).one()
        next_id, last = row
        prev = bytes(last) if last is not None else GENESIS
        entry = AuditEntry(
            id=int(next_id),
            at=now,
            actor=actor,
            action=action,
            case_ref=case_ref,
            outcome=outcome,
            detail=detail,
            prev_hash=prev,
        )
        entry.entry_hash = entry_hash(prev, _as_row(entry))
        session.add(entry)
        session.flush()
        return entry
    last = session.scalar(select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1))
    prev = bytes(last) if last is not None else GENESIS
    entry = AuditEntry(
        at=now,
        actor=actor,
        action=action,
        case_ref=case_ref,
        outcome=outcome,
        detail=detail,
        prev_hash=prev,
    )
    session.add(entry)
    session.flush()
    entry.entry_hash = entry_hash(prev, _as_row(entry))
    session.flush()
    return entry


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    broken_id: int | None = None
    problem: str | None = None

    def message(self) -> str:
        if self.ok:
            return f"The audit log is intact: {self.checked} entries, hash chain verified."
        return f"The audit log is broken at entry {self.broken_id}: {self.problem}"


def _entries(session: Session, batch: int = 1000) -> Iterator[AuditEntry]:
    """All entries in id order, a batch at a time (memory bounded for long logs)."""
    last = -1
    while True:
        rows = list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.id > last).order_by(AuditEntry.id).limit(batch)
            )
        )
        if not rows:
            return
        yield from rows
        last = rows[-1].id
        session.expunge_all()


def verify(session: Session) -> Verification:
    """Walk the chain in id order; report the first entry that does not fit."""
    prev = GENESIS
    count = 0
    previous_id: int | None = None
    for entry in _entries(session):
        if entry.prev_hash is None or bytes(entry.prev_hash) != prev:
            where = f"after entry {previous_id}" if previous_id is not None else "at the start"
            return Verification(
                False,
                count,
                entry.id,
                f"its link to the previous entry does not match (an entry "
                f"{where} was deleted, inserted or reordered)",
            )
        if entry.entry_hash is None or bytes(entry.entry_hash) != entry_hash(prev, _as_row(entry)):
            return Verification(
                False, count, entry.id, "its content does not match its hash (it was edited)"
            )
        prev = bytes(entry.entry_hash)
        previous_id = entry.id
        count += 1
    return Verification(True, count)


CHECKPOINT_FORMAT = "sanad/v1/audit-checkpoint"


def checkpoint(session: Session, now: datetime) -> dict[str, Any]:
    """The chain's head as of now: to be signed and kept outside the database (finding 8:
    without it, deleting the newest entries or rewriting one and re-chaining went unseen)."""
    result = verify(session)
    if not result.ok:
        raise ValueError(result.message())
    last = session.scalar(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    return {
        "format": CHECKPOINT_FORMAT,
        "entries": result.checked,
        "last_id": last.id if last else 0,
        "head": bytes(last.entry_hash).hex() if last and last.entry_hash else GENESIS.hex(),
        "at": _at(now),
    }


def verify_against(session: Session, point: Mapping[str, Any]) -> Verification:
    """The chain verifies and still holds the checkpoint's head: the entry `last_id` with
    that hash, and exactly `entries` entries up to it. Truncation below the checkpoint and
    a rewrite before it (re-chained or not) are both reported."""
    result = verify(session)
    if not result.ok:
        return result
    last_id, head = int(point["last_id"]), bytes.fromhex(str(point["head"]))
    entry = session.get(AuditEntry, last_id) if last_id else None
    upto = int(
        session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.id <= last_id))
        or 0
    )
    if last_id and entry is None:
        return Verification(
            False,
            result.checked,
            last_id,
            f"the checkpoint's last entry is gone: the log was cut back to "
            f"{result.checked} entries (the checkpoint of {point['at']} saw "
            f"{point['entries']})",
        )
    if (entry is not None and bytes(entry.entry_hash or b"") != head) or upto != int(
        point["entries"]
    ):
        return Verification(
            False,
            result.checked,
            last_id,
            "the log does not hold what the checkpoint of "
            f"{point['at']} saw: entries up to it were rewritten or removed "
            "and the chain recomputed",
        )
    return Verification(True, result.checked)
