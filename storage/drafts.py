"""Drafts: in-progress conversations, sealed under epoch keys that never enter the database.

Each draft is also sealed under an item key of its own (``draft:<id>``), erased once the
draft's deletion is committed: a copy left behind by the database (a PostgreSQL dead tuple
until VACUUM, pg_wal, the SQLite WAL, a backup) then opens for no one (crypto-shredding).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, event, select
from sqlalchemy.orm import Session

from storage import crypto
from storage.models import Draft, ProcessedEvent

__all__ = [
    "DraftUnreadable",
    "OpenDraft",
    "discard",
    "event_row",
    "forget_after_commit",
    "item_name",
    "live_case_ids",
    "load",
    "new",
    "purge_expired",
    "record_event",
    "save",
]


@dataclass(frozen=True)
class OpenDraft:
    """A draft opened in memory: the engine state plus what the service keeps beside it."""

    id: str
    case_id: str
    data_key: bytes
    state: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)  # the service's own notes, sealed too


class DraftUnreadable(crypto.CryptoError):
    """A live draft whose key should be in the keyring and is not (a tmpfs keyring lost in a
    reboot, or hosts that do not share one). The draft is kept, never silently deleted: the
    caller says so and counts it; only the reporter's /exit erases it."""

    def __init__(self, draft_id: str) -> None:
        super().__init__("a live draft's key is missing from the keyring")
        self.draft_id = draft_id


def item_name(draft_id: str) -> str:
    """The keyring item a draft is sealed under."""
    return f"draft:{draft_id}"


def forget_after_commit(session: Session, keyring: crypto.Keyring, names: list[str]) -> None:
    """Erase these item keys once this transaction commits (never before: a rollback
    keeps the rows, which must still open)."""
    if not names:
        return
    pending: list[str] = session.info.setdefault("sanad_forget", [])
    if not pending:

        def erase(committed: Session) -> None:
            keyring.forget(committed.info.pop("sanad_forget", []))

        def keep(rolled_back: Session, _previous: Any) -> None:  # (session, transaction)
            rolled_back.info.pop("sanad_forget", None)

        event.listen(session, "after_commit", erase, once=True)
        event.listen(session, "after_soft_rollback", keep, once=True)
    pending.extend(names)


def _open(keyring: crypto.Keyring, row: Draft, handle: bytes) -> bytes:
    sealed = bytes(row.sealed)
    item = item_name(row.id) if sealed[:1] == bytes([2]) else None  # older drafts: epoch only
    return crypto.open_draft(keyring, row.id, handle, row.expires_at, sealed, item)


def load(session: Session, keyring: crypto.Keyring, handle: bytes, now: int) -> OpenDraft | None:
    """The user's live draft, or None (expired or sealed under an epoch key already gone)."""
    row = session.scalar(select(Draft).where(Draft.user_handle == handle).with_for_update())
    if row is None:
        return None
    if row.expires_at <= now:
        session.delete(row)
        forget_after_commit(session, keyring, [item_name(row.id)])
        return None
    try:
        plain = _open(keyring, row, handle)
    except crypto.DraftKeyMissing as exc:
        if exc.unexpected:  # still within retention: the keyring lost it, or is not shared
            raise DraftUnreadable(row.id) from None
        session.delete(row)  # its epoch key is gone: it can never be opened again
        forget_after_commit(session, keyring, [item_name(row.id)])
        return None
    except crypto.CryptoError:
        session.delete(row)  # altered or moved: it can never be opened
        forget_after_commit(session, keyring, [item_name(row.id)])
        return None
    data = json.loads(plain)
    return OpenDraft(
        row.id, row.case_id, bytes.fromhex(data["data_key"]), data["state"], data.get("extra", {})
    )


def new(case_id: str | None = None) -> OpenDraft:
    return OpenDraft(str(uuid.uuid4()), case_id or str(uuid.uuid4()), crypto.new_data_key(), {})


def save(
    session: Session,
    keyring: crypto.Keyring,
    handle: bytes,
    draft: OpenDraft,
    expires_at: int,
    now: datetime,
) -> None:
    plain = json.dumps(
        {"data_key": draft.data_key.hex(), "state": draft.state, "extra": draft.extra},
        ensure_ascii=False,
    ).encode("utf-8")
    sealed = crypto.seal_draft(keyring, draft.id, handle, expires_at, plain, item_name(draft.id))
    row = session.get(Draft, draft.id)
    if row is None:
        discard(session, keyring, handle)
        session.add(
            Draft(
                id=draft.id,
                user_handle=handle,
                case_id=draft.case_id,
                sealed=sealed,
                expires_at=expires_at,
                updated_at=now,
            )
        )
    else:
        row.sealed, row.expires_at, row.updated_at = sealed, expires_at, now
    session.flush()


def discard(session: Session, keyring: crypto.Keyring, handle: bytes) -> list[str]:
    """Delete the user's draft and, once committed, its item key; return its case id(s) so
    the caller can remove sealed files."""
    rows = session.execute(select(Draft.id, Draft.case_id).where(Draft.user_handle == handle)).all()
    session.execute(delete(Draft).where(Draft.user_handle == handle))
    forget_after_commit(session, keyring, [item_name(r.id) for r in rows])
    return [r.case_id for r in rows]


def purge_expired(session: Session, keyring: crypto.Keyring, now: int) -> list[str]:
    """Delete expired drafts for real (SQLite runs with secure_delete; their item keys go
    after the commit); return their case ids."""
    rows = session.execute(select(Draft.id, Draft.case_id).where(Draft.expires_at <= now)).all()
    session.execute(delete(Draft).where(Draft.expires_at <= now))
    forget_after_commit(session, keyring, [item_name(r.id) for r in rows])
    return [r.case_id for r in rows]


def live_case_ids(session: Session) -> set[str]:
    return set(session.scalars(select(Draft.case_id)))


def event_row(session: Session, channel: str, event_id: str) -> ProcessedEvent | None:
    """The record of a platform event already processed, if any (locked for this unit)."""
    return session.get(ProcessedEvent, (channel, event_id), with_for_update=True)


def record_event(session: Session, channel: str, event_id: str, now: datetime) -> ProcessedEvent:
    """Mark a platform event as processed; committed together with its answer."""
    row = ProcessedEvent(channel=channel, event_id=event_id, processed_at=now)
    session.add(row)
    session.flush()
    return row
