"""The intake side cannot open a submitted report (December 2026 review, findings 1, 5, 6, 13).

Each test performs the review's attack with what the bot host holds (the database, its WAL,
the pepper and the tmpfs epoch keys) and shows it yields nothing the reporter said.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from caseworker.followup import queue_reply
from intake import followup as _followup
from intake.service import Incoming, IntakeService
from storage import crypto
from storage.models import Draft, InboxUpdate, OutboxMessage, ProcessedEvent
from tests.support import PASSPHRASE, Chat, dispatch, open_report

MARK = "TGMARKEN-narrative-secretword"
SCRIPT = [
    ("consent_store", "yes"),
    ("consent_followup", "yes"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "no"),
    ("report_type", "complaint"),
    ("victim_relation", "self"),
]


class EventChat(Chat):
    """A reporter on a channel that gives every update an id (as Telegram and Signal do)."""

    def __init__(self, service: IntakeService, user: str) -> None:
        super().__init__(service, user=user, lang="en", open_now=False)
        self.src = Incoming("telegram", user, None, route="chat-" + user)
        self.n = 0
        self.replies = service.open(self.src, "en").replies

    def say(self, line: str) -> list:  # type: ignore[type-arg]
        self.n += 1
        src = replace(self.src, event_id=f"{self.src.user_id}-{self.n}")
        self.last_src = src
        self.outcome = dispatch(self.service, src, line)
        self.replies = self.outcome.replies
        return self.replies


def _submit(service: IntakeService, user: str) -> tuple[EventChat, str, str]:
    chat = EventChat(service, user)
    for field, line in SCRIPT:
        if chat.question.field == field:
            chat.say(line)
    while chat.question.field != "confirm_submit":
        if chat.question.field == "narrative":
            chat.say(MARK + " they beat me")
        else:
            chat.say("/skip")
    chat.say("yes")
    receipt = next(r for r in chat.replies if r.kind == "receipt")
    return chat, receipt.extra["case_ref"], receipt.extra["receipt"]


def _opened_replies(service: IntakeService, handles: list[bytes]) -> list[bytes]:
    """The review's script: open every processed_events.sealed_replies with the host's
    epoch keys and every handle in the database."""
    from intake.service import _event_key

    opened = []
    with service.db.transaction() as session:
        rows = list(session.scalars(select(ProcessedEvent)))
        for row in rows:
            for handle in handles:
                try:
                    opened.append(
                        crypto.open_draft(
                            service.keyring,
                            _event_key(row.channel, row.event_id),
                            handle,
                            row.expires_at or 0,
                            row.sealed_replies or b"",
                        )
                    )
                except crypto.CryptoError:
                    continue
    return opened


def test_kept_replies_hold_no_answer_and_no_receipt(service: IntakeService) -> None:
    """Finding 1: the replies kept for a replay after a crash held the review summary and the
    receipt code, readable with the bot host's epoch key. Now nothing kept holds either."""
    chat, case_ref, receipt = _submit(service, "7712345678")
    handle = crypto.user_handle(service._pepper, "telegram", "7712345678")
    opened = _opened_replies(service, [handle])
    assert len(opened) >= chat.n  # the attack still opens the records ...
    for plain in opened:  # ... and finds nothing the reporter said, nor the code
        assert MARK.encode() not in plain and b"beat" not in plain
        assert receipt.encode() not in plain and receipt[:9].encode() not in plain
        assert set(json.loads(plain)) <= {"v", "erased", "finished", "case_ref", "lang", "receipt"}
    # The submission redelivered (a crash before the receipt went out): the report exists
    # once, and the code is not shown again; the reporter is told why and what to do.
    again = service.text(chat.last_src, "yes")
    assert again.replayed and again.finished and again.case_ref == case_ref
    text = " ".join(r.text for r in again.replies)
    assert receipt not in text and all(r.kind != "receipt" for r in again.replies)
    assert "shown only once" in text and "caseworker can issue you a new one" in text
    assert open_report(service, case_ref)["fields"]["narrative"].startswith(MARK)


def test_a_replay_mid_conversation_asks_the_current_question_again(service: IntakeService) -> None:
    """Finding 1: a replay is re-created from the live draft (the current question), not
    from stored reply texts."""
    chat = EventChat(service, "5550001")
    chat.say("yes")
    asked = chat.question
    again = service.text(chat.last_src, "yes")
    assert again.replayed and again.replies[-1].text == asked.text
    assert again.replies[-1].field == asked.field  # and the answer was not taken twice
    assert (
        service.text(replace(chat.last_src, event_id="next"), "yes").replies[-1].field
        != asked.field
    )


def test_a_reused_update_id_from_another_reporter_is_a_new_message(service: IntakeService) -> None:
    """Finding 13: an update id seen before for someone else (a new bot on this home, or
    Telegram restarting its counter) was swallowed as a duplicate; now it is processed."""
    first = EventChat(service, "1001")
    first.say("yes")
    other = Incoming("telegram", "2002", first.last_src.event_id, route="chat-2002")
    outcome = service.open(other, "en")
    assert not outcome.replayed and outcome.replies
    assert outcome.replies[-1].field != "resume"


def _wal_bytes(service: IntakeService) -> bytes:
    db_file = Path(service.db.url.removeprefix("sqlite:///"))
    wal = db_file.with_name(db_file.name + "-wal")
    return (wal.read_bytes() if wal.exists() else b"") + db_file.read_bytes()


def test_quick_exit_leaves_no_copy_of_the_draft_in_the_wal(service: IntakeService) -> None:
    """Finding 5: after /exit the sealed draft stayed in the SQLite WAL, decryptable with the
    epoch key. Now the WAL is checkpointed and truncated: neither it nor the database file
    holds any piece of any version of the sealed draft."""
    chat = Chat(service, user="exit-user", lang="en")
    sealed: list[bytes] = []
    for line in ["yes", "yes", "no", "no", "no", "complaint", "EXITRESIDUE location Sednaya"]:
        chat.say(line)
        with service.db.transaction() as session:
            sealed += [bytes(b) for b in session.scalars(select(Draft.sealed))]
    assert sealed and any(s[16:48] in _wal_bytes(service) for s in sealed[-1:])
    chat.say("/exit")
    data = _wal_bytes(service)
    for blob in sealed:
        assert blob[16:48] not in data and blob[-32:] not in data


def test_withdrawal_checkpoints_the_wal(service: IntakeService) -> None:
    """Finding 5 (withdrawal): the withdrawn report's sealed answers leave the WAL too."""
    from storage.models import CaseField

    _, _, receipt = _submit(service, "wd-user")
    with service.db.transaction() as session:
        fields = [bytes(f.sealed) for f in session.scalars(select(CaseField))]
    back = Chat(service, user="wd-user-2", open_now=False)
    back.say(receipt)
    back.say("withdraw")
    back.say("yes")
    from caseworker.cases import list_queue

    assert [c.status for c in list_queue(service.db)] == ["withdrawn"]
    data = _wal_bytes(service)
    assert fields and all(f[-32:] not in data for f in fields)


def test_a_delivered_message_keeps_no_body_the_intake_can_open(service: IntakeService) -> None:
    """Finding 6: delivered caseworker messages stayed sealed under a key derived from the
    pepper. Now the body goes at delivery; the case keeps its copy sealed to the readers."""
    _, case_ref, _ = _submit(service, "out-user")
    queue_reply(
        service.db,
        service._pepper,
        case_ref,
        "demo",
        PASSPHRASE,
        "OUTBOXMARK: meet our lawyer Thursday",
        now=service._now(),
        admin_public=service._admin_public,
    )
    item = service.pending_outbox("telegram")[0]
    service.outbox_sent(item.id)
    key = _followup.route_key(service._pepper)
    with service.db.transaction() as session:
        rows = list(session.scalars(select(OutboxMessage)))
        assert [r.status for r in rows] == ["sent"] and rows[0].sealed == b""
        for row in rows:
            try:
                _followup.open_message(session, key, row)
                raise AssertionError("a delivered body opened with the pepper")
            except crypto.CryptoError:
                pass
    assert b"OUTBOXMARK" not in _wal_bytes(service)
    from storage import accounts, cases, casework  # the caseworker still has the text

    with service.db.transaction() as session:
        user = accounts.get_user(session, "demo")
        case = cases.by_ref(session, case_ref)
        assert user is not None and case is not None
        notes = casework.notes(session, case, accounts.unlock(user, PASSPHRASE), user.key_id)
    assert [n["text"] for n in notes] == ["OUTBOXMARK: meet our lawyer Thursday"]


def _raw_pages(engine: object, table: str) -> bytes:
    """Every page of a table and of its TOAST table as PostgreSQL holds them, dead tuples
    included (pageinspect): what someone with the database's files reads."""
    from sqlalchemy import text

    data = b""
    with engine.connect() as conn:  # type: ignore[attr-defined]
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        toast = conn.scalar(
            text("SELECT reltoastrelid::regclass::text FROM pg_class WHERE relname = :t"),
            {"t": table},
        )
        for rel in [table] + ([toast] if toast and toast != "-" else []):
            pages = conn.scalar(text("SELECT pg_relation_size(:r) / 8192"), {"r": rel})
            for block in range(int(pages or 0)):
                data += bytes(
                    conn.scalar(text("SELECT get_raw_page(:r, :b)"), {"r": rel, "b": block})
                )
    return data


def test_quick_exit_on_postgresql_leaves_only_copies_no_one_can_open(
    make_service: Callable[..., IntakeService], postgres_url: str
) -> None:
    """Finding 5 in PostgreSQL's terms: a deleted row stays in the table's pages (a dead
    tuple) until VACUUM, and in pg_wal. Each draft and inbox row is sealed under an item key
    of its own as well as the epoch key; /exit erases the item key once the deletion is
    committed, so every copy the database still holds opens for no one, the bot host (with
    its epoch keys) included."""
    from sqlalchemy import create_engine, text

    service = make_service(postgres_url)
    engine = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:  # no autovacuum to tidy up behind the test's back
        for table in ("drafts", "channel_inbox"):
            conn.execute(
                text(
                    f"ALTER TABLE {table} SET (autovacuum_enabled = false, "
                    "toast.autovacuum_enabled = false)"
                )
            )
    chat = Chat(service, user="pg-exit-user", lang="en")
    versions: list[tuple[str, bytes, int]] = []
    for line in ["yes", "yes", "no", "no", "no", "no", "complaint", "self"]:
        chat.say(line)
        with service.db.transaction() as session:
            versions += [
                (r.id, bytes(r.sealed), r.expires_at) for r in session.scalars(select(Draft))
            ]
    handle = service._handle(chat.src)
    draft_id, latest, expires = versions[-1]
    assert _opens(service, draft_id, handle, expires, latest)
    update = json.dumps({"message": {"text": "EXITRESIDUE inbox words"}}).encode()
    service.inbox_put("telegram", [("77", update)])
    with service.db.transaction() as session:
        row = session.scalars(select(InboxUpdate)).one()
        held, held_expires = bytes(row.sealed), row.expires_at
    inbox_item = ("inbox:telegram:77", b"sanad/v1/inbox", held_expires, held, "inbox:telegram:77")
    assert crypto.open_draft(service.keyring, *inbox_item) == update

    chat.say("/exit")
    service.inbox_done("telegram", ["77"])

    pages = _raw_pages(engine, "drafts") + _raw_pages(engine, "channel_inbox")
    assert latest[16:48] in pages and held[16:48] in pages  # the residue is really there
    for draft_id, blob, expires in versions:  # ...and no version of it opens
        assert not _opens(service, draft_id, handle, expires, blob)
    with pytest.raises(crypto.CryptoError, match="erased"):
        crypto.open_draft(service.keyring, *inbox_item)
    assert service.keyring.epochs()  # though the host still holds its epoch keys
    engine.dispose()


def _opens(service: IntakeService, draft_id: str, handle: bytes, expires: int, blob: bytes) -> bool:
    try:
        plain = crypto.open_draft(
            service.keyring, draft_id, handle, expires, blob, f"draft:{draft_id}"
        )
    except crypto.CryptoError:
        return False
    return b'"consent_followup": "yes"' in plain
