"""The channel inbox: platform updates held, sealed, between receiving and answering them.

A polling channel confirms an update to the platform (Telegram's getUpdates offset) as soon as
it is here, so it can go straight back to long polling instead of asking again and again while
updates are being handled. A crash after that loses nothing: the next start takes whatever is
left here and handles it again (the service's processed-event ids make that a replay, never a
second answer stored). Rows are sealed like drafts (epoch keys that never enter the database),
each also under an item key of its own that is erased once the row's deletion is committed:
an update holds what the reporter wrote and their chat id, and no copy of it the database
keeps after deleting it (dead tuples, WAL) can be opened.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from storage import crypto
from storage.drafts import forget_after_commit
from storage.models import InboxUpdate

__all__ = [
    "chats",
    "done",
    "ids_of_chat",
    "of_chat",
    "pending",
    "purge_expired",
    "put",
    "set_order",
    "untagged",
]

_HANDLE = b"sanad/v1/inbox"
log = logging.getLogger("sanad.inbox")


def _sealing_id(channel: str, event_id: str) -> str:
    return f"inbox:{channel}:{event_id}"


def put(
    session: Session,
    keyring: crypto.Keyring,
    channel: str,
    updates: Iterable[tuple[str, bytes]],
    expires_at: int,
    now: datetime,
    order: dict[str, tuple[str, int]] | None = None,
) -> int:
    """Keep these (event id, raw update) pairs, sealed; ones already here are left as they are.
    Core statements, not the ORM: this runs for every update before anything else.
    `order`: event id → (chat tag, sequence number), for rows answered per chat (webhook).
    Two workers storing the same update at once (a redelivery) is fine: on PostgreSQL the
    insert skips a row another transaction just stored."""
    fresh = dict(updates)
    if not fresh:
        return 0
    order = order or {}
    have = set(
        session.scalars(
            select(InboxUpdate.event_id).where(
                InboxUpdate.channel == channel, InboxUpdate.event_id.in_(list(fresh))
            )
        )
    )
    rows = [
        {
            "channel": channel,
            "event_id": event_id,
            "expires_at": expires_at,
            "received_at": now,
            "chat_tag": order[event_id][0] if event_id in order else None,
            "seq": order[event_id][1] if event_id in order else None,
            "sealed": crypto.seal_draft(
                keyring,
                _sealing_id(channel, event_id),
                _HANDLE,
                expires_at,
                raw,
                _sealing_id(channel, event_id),
            ),
        }
        for event_id, raw in fresh.items()
        if event_id not in have
    ]
    if not rows:
        return 0
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        stored = session.scalars(
            pg_insert(InboxUpdate)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["channel", "event_id"])
            .returning(InboxUpdate.event_id)
        )
        return len(list(stored))
    session.execute(insert(InboxUpdate), rows)
    return len(rows)


def _open(
    session: Session, keyring: crypto.Keyring, channel: str, row: InboxUpdate, now: int
) -> bytes | None:
    """The raw update of a row, or None after deleting a row that can no longer be opened."""
    try:
        if row.expires_at <= now:
            raise crypto.CryptoError("expired")
        sealed = bytes(row.sealed)
        name = _sealing_id(channel, row.event_id)
        return crypto.open_draft(
            keyring,
            name,
            _HANDLE,
            row.expires_at,
            sealed,
            name if sealed[:1] == bytes([2]) else None,
        )
    except crypto.DraftKeyMissing as exc:
        if exc.unexpected:  # the keyring lost it or is not shared: keep it, loudly
            log.error(
                "an update held in the inbox cannot be opened: its key is missing "
                "from the keyring; it is kept until it expires"
            )
            from storage import accounts

            accounts.audit(
                session, "intake", "inbox_key_missing", None, "error", datetime.now(UTC), count=1
            )
            return None
        session.delete(row)  # its epoch key is gone: it can never be opened again
        forget_after_commit(session, keyring, [_sealing_id(channel, row.event_id)])
        return None
    except crypto.CryptoError:
        session.delete(row)  # expired, altered or moved: it can never be opened
        forget_after_commit(session, keyring, [_sealing_id(channel, row.event_id)])
        return None


def of_chat(
    session: Session, keyring: crypto.Keyring, channel: str, chat_tag: str, now: int
) -> list[tuple[str, bytes]]:
    """One chat's held updates, in the platform's order (webhook mode)."""
    rows = session.scalars(
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel, InboxUpdate.chat_tag == chat_tag)
        .order_by(InboxUpdate.seq, InboxUpdate.received_at, InboxUpdate.event_id)
    )
    out: list[tuple[str, bytes]] = []
    for row in list(rows):
        raw = _open(session, keyring, channel, row, now)
        if raw is not None:
            out.append((row.event_id, raw))
    return out


def ids_of_chat(session: Session, channel: str, chat_tag: str) -> list[str]:
    """The event ids of one chat's held updates (nothing opened: a cheap look)."""
    return list(
        session.scalars(
            select(InboxUpdate.event_id).where(
                InboxUpdate.channel == channel, InboxUpdate.chat_tag == chat_tag
            )
        )
    )


def chats(session: Session, channel: str) -> list[str]:
    """The chats with held updates (webhook mode): what a restart must answer."""
    return list(
        session.scalars(
            select(InboxUpdate.chat_tag)
            .where(InboxUpdate.channel == channel, InboxUpdate.chat_tag.is_not(None))
            .distinct()
        )
    )


def untagged(
    session: Session, keyring: crypto.Keyring, channel: str, now: int
) -> list[tuple[str, bytes]]:
    """The held updates without a chat tag (stored by a polling run), oldest first."""
    rows = session.scalars(
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel, InboxUpdate.chat_tag.is_(None))
        .order_by(InboxUpdate.received_at, InboxUpdate.event_id)
    )
    out: list[tuple[str, bytes]] = []
    for row in list(rows):
        raw = _open(session, keyring, channel, row, now)
        if raw is not None:
            out.append((row.event_id, raw))
    return out


def set_order(session: Session, channel: str, event_id: str, chat_tag: str, seq: int) -> None:
    """Give a held update its chat tag and sequence (a webhook start adopting what a polling
    run left)."""
    session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.channel == channel, InboxUpdate.event_id == event_id)
        .values(chat_tag=chat_tag, seq=seq)
    )


def pending(
    session: Session, keyring: crypto.Keyring, channel: str, now: int
) -> list[tuple[str, bytes]]:
    """What is left after a stop or crash, oldest first (polling's start: what a polling or
    a webhook run left; a chat's webhook updates in their order). Rows that can no longer be opened
    (their epoch key is gone, or they expired) are deleted: the platform redelivers nothing
    older than a day anyway, and a stale answer would only confuse the reporter. A row whose
    key should still be in the keyring and is not is kept (until it expires), logged and
    counted in the audit log: never a silent delete."""
    out: list[tuple[str, bytes]] = []
    rows = session.scalars(
        select(InboxUpdate)
        .where(InboxUpdate.channel == channel)
        .order_by(InboxUpdate.received_at, InboxUpdate.seq, InboxUpdate.event_id)
    )
    for row in list(rows):
        raw = _open(session, keyring, channel, row, now)
        if raw is not None:
            out.append((row.event_id, raw))
    return out


def done(session: Session, keyring: crypto.Keyring, channel: str, event_ids: Iterable[str]) -> None:
    """The updates are answered: delete them, and their item keys once that is committed."""
    ids = list(event_ids)
    for start in range(0, len(ids), 500):
        session.execute(
            delete(InboxUpdate).where(
                InboxUpdate.channel == channel, InboxUpdate.event_id.in_(ids[start : start + 500])
            )
        )
    forget_after_commit(session, keyring, [_sealing_id(channel, i) for i in ids])


def purge_expired(session: Session, keyring: crypto.Keyring, now: int) -> int:
    rows = session.execute(
        select(InboxUpdate.channel, InboxUpdate.event_id).where(InboxUpdate.expires_at <= now)
    ).all()
    session.execute(delete(InboxUpdate).where(InboxUpdate.expires_at <= now))
    forget_after_commit(session, keyring, [_sealing_id(r.channel, r.event_id) for r in rows])
    return len(rows)
