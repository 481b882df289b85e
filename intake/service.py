"""The intake service: joins the pure engine, the NLU, the sealed store and the queue.

Every channel calls the same methods (docs/architecture.md, "Channel API"). For each incoming
message one transaction holds the processed-event id and the sealed draft (or the whole
submission), committed before the reply is returned for sending: a crash loses at most the
message being processed, never a confirmed answer, and a report is stored once or not at all.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from flows import (
    Begin,
    ChangeConsent,
    CheckinAnswer,
    DiscardDraft,
    Engine,
    Event,
    Finished,
    FlowSet,
    OpenAddendum,
    OpenCheckin,
    Reply,
    Resume,
    State,
    SubmitAddendum,
    SubmitReport,
    Submitted,
    UserCommand,
    UserFile,
    UserText,
    WithdrawCase,
)
from intake import _checkins
from intake import followup as _followup
from intake._receipt_pool import ReceiptPool
from intake.routing import Routing, recipients_for_case, recipients_for_report
from intake.settings import Settings
from intake.support import Directory, Guidance, country_code, needs_in
from intake.triage import TriageRules, word_reasons
from nlu import Interpreter
from storage import (
    Case,
    CaseEvent,
    ChatLocks,
    Database,
    ObjectStore,
    ProcessedEvent,
    accounts,
    cases,
    crypto,
    drafts,
    inbox,
    search,
    teams,
)
from storage import statistics as stat_rows

__all__ = [
    "COMMANDS",
    "RECEIPT_ATTEMPTS",
    "RECEIPT_WINDOW",
    "CaseHook",
    "Incoming",
    "IntakeService",
    "OutboxItem",
    "Outcome",
]

log = logging.getLogger("sanad.intake")

COMMANDS = frozenset(
    {"skip", "back", "exit", "lang", "help", "start", "delete", "status", "rights", "support"}
)
CaseHook = Callable[[Session, Case, datetime], None]
RECEIPT_ATTEMPTS = 5  # per user handle and window: receipts are guessed, never brute-forced
RECEIPT_WINDOW = 15 * 60


@dataclass(frozen=True)
class Incoming:
    """One platform update, already stripped of everything platform-specific."""

    channel: str
    user_id: str
    event_id: str | None = None
    route: str | None = None  # how to write back later; kept sealed, only with consent


@dataclass(frozen=True)
class Outcome:
    replies: list[Reply] = field(default_factory=list)
    erased: bool = False  # the draft was wiped: channels delete the conversation's messages
    finished: bool = False
    case_ref: str | None = None
    # The answer to an update already processed (redelivered): channels that know the first
    # answer never went out (e.g. polling after a crash) send it again; others stay silent.
    replayed: bool = False
    # The reporter asked for spoken questions (/voice): channels add a voice note to each
    # question (bot.voice). Kept in the sealed draft, so it ends with the conversation.
    voice: bool = False


@dataclass(frozen=True)
class OutboxItem:
    id: str
    route: str
    replies: list[Reply]
    case_ref: str | None = None  # for channels that must name it apart (WhatsApp templates)


class IntakeService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        flows: FlowSet,
        interpreter: Interpreter,
        pepper: bytes,
        admin_public: bytes,
        keyring: crypto.Keyring,
        triage: TriageRules | None = None,
        clock: Callable[[], float] = time.time,
        guidance: Guidance | None = None,
        directory: Directory | None = None,
        objects: ObjectStore | None = None,
    ) -> None:
        self.settings = settings
        # Where sealed attachments go (SANAD_OBJECT_STORE_URL; the home's folder by default).
        self.objects = objects or settings.objects()
        self.db = db
        self.flows = flows
        self.guidance = guidance or Guidance.load(settings.home)
        self.directory = directory or Directory.load(settings.home)
        self.engine = Engine(flows, self.guidance.text, self._self_harm_text)
        # Called in the same transaction when a priority-1 case appears (on-call alerts).
        self.priority_one_hooks: list[CaseHook] = []
        self.nlu = interpreter
        self._pepper = pepper
        self._admin_public = admin_public
        self._route_key = _followup.route_key(pepper)
        # The manifest version only grows (finding 18): the pin lives beside the keys.
        self._pin = accounts.ManifestPin(settings.home / "keys" / "manifest-version")
        self.keyring = keyring
        self.receipts = ReceiptPool(settings.receipt_kdf)
        self._drawn = threading.local()  # a receipt hashed for the step being run again
        self.triage = triage or TriageRules.load()
        # Need-to-know routing (SANAD_HOME/config/routing.yaml; None: every recipient)
        self.routing = Routing.load(settings.home)
        self.clock = clock
        # Whether this process can make voice notes (bot.voice; channels set it): /voice
        # says so honestly where espeak-ng or ffmpeg is missing.
        self.voice_available = True
        # Safety check-ins: the schedule in the home's oncall.yaml, looked at now and then
        self.checkin_source: Any = None  # alerts.ConfigSource, made on first use
        self.checkin_every = 30.0  # seconds between two looks for check-ins come due
        self._checkins_at: float | None = None

    def __repr__(self) -> str:  # never show the pepper or keys
        return f"IntakeService(home={self.settings.home})"

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    # ---- entry points used by channels ----------------------------------------------------

    def open(
        self, src: Incoming, lang: str | None = None, taken: dict[str, str] | None = None
    ) -> Outcome:
        """A session starts (console start, /start): resume an unfinished draft or begin.

        `taken`: a report a caseworker takes on the dashboard (web/take_report.py), as
        {"source": in_person | phone | letter | detention_visit, "recorded_by": name}; it is
        sealed with the report and marks each consent as read aloud and recorded by them."""
        return self._run(
            src,
            lambda state, now: Resume(now) if state is not None else Begin(now, lang=lang),
            extra={"taken": dict(taken)} if taken else None,
        )

    def current(self, src: Incoming) -> Outcome:
        """The question this conversation waits on, asked again (a dashboard page reloaded);
        a conversation that does not exist (any more) begins."""
        return self._run(
            src, lambda state, now: UserCommand("reask", now) if state is not None else Begin(now)
        )

    def text(self, src: Incoming, text: str) -> Outcome:
        """A message of free text. Decide, then act: the receipt and support-need recognisers
        (nlu) read the words first; only when one fires is the draft peeked at, once, for
        both (`_peek`); every change is then made by one `_run` transaction, which loads the
        draft again under its lock (the peek is never what is saved)."""
        receipt = crypto.looks_like_receipt(text)
        needs = set() if receipt else needs_in(text)
        if receipt or needs:
            peek = self._peek(src)
            if peek.replayed is not None:  # a redelivered update: its answer, nothing redone
                return peek.replayed
            if receipt:
                return self._receipt(src, text, peek)
            offered = self._support_request(src, needs, peek)
            if offered is not None:
                return offered

        def event(state: State | None, now: datetime) -> Event:
            at = state or State()
            interp = self.nlu.interpret(
                text, expecting=self.engine.expecting(at), field=self.engine.answering(at)
            )
            if state is None:
                return Begin(now, hint=interp.lang)
            return UserText(text, interp, now)

        return self._run(src, event)

    def command(self, src: Incoming, name: str, arg: str | None = None) -> Outcome:
        if name == "status":
            if arg:
                return self._receipt(src, arg)
            return self._say(src, "sys.status.how")
        if name == "voice":
            return self._voice(src, arg)
        if name not in COMMANDS:
            name = "help"
        if name == "support":
            return self._support_request(src, None) or self._say(src, "sys.support.none")

        def event(state: State | None, now: datetime) -> Event:
            if state is None and name not in ("exit", "delete"):
                lang = arg if name == "lang" and arg in ("ar", "en") else None
                return Begin(now, hint=lang)
            return UserCommand(name, now, arg)

        return self._run(src, event)

    def _voice(self, src: Incoming, arg: str | None) -> Outcome:
        """/voice (or /voice on|off): questions also as voice notes, then the question again."""
        on = (arg or "on").strip().lower() not in ("off", "0", "no", "stop")
        if on and not self.voice_available:
            return self._say(src, "sys.voice.unavailable")

        def event(state: State | None, now: datetime) -> Event:
            return UserCommand("reask", now) if state is not None else Begin(now)

        outcome = self._run(src, event, extra={"voice": on})
        lang = outcome.replies[-1].lang if outcome.replies else "ar"
        said = Reply(self.flows.text(lang, "sys.voice.on" if on else "sys.voice.off"), "info", lang)
        return replace(outcome, replies=[said, *outcome.replies])

    def file(self, src: Incoming, name: str, content_type: str, chunks: Iterable[bytes]) -> Outcome:
        """Seal an incoming file straight from the platform stream, then tell the engine."""
        handle = self._handle(src)
        with self.db.transaction() as session:
            draft = self._load(session, handle, self.clock())
        if draft is None or not draft.state:
            for _ in chunks:  # drain the stream; nothing is kept without a conversation
                pass
            return self.open(src)
        attachment_id = str(uuid.uuid4())
        rel = f"{draft.case_id}/{attachment_id}.sealed"
        try:  # sealed here, so only ciphertext reaches the disk or the object store
            with self.objects.writer(rel) as out:
                size, digest = crypto.seal_attachment(
                    draft.data_key,
                    draft.case_id,
                    attachment_id,
                    chunks,
                    out,
                    max_size=self.settings.max_attachment_bytes,
                )
        except crypto.AttachmentTooLarge:
            return self._say(src, "sys.attachment.rejected")
        except OSError as exc:  # a full disk, an unreachable bucket: nothing half-stored stays
            log.error("could not store an attachment: %s", exc.strerror or type(exc).__name__)
            return self._say(src, "sys.attachment.failed")
        safe_name = Path(name).name[:120] or "file"
        return self._run(
            src,
            lambda state, now: UserFile(attachment_id, safe_name, size, digest, content_type, now),
            file_path=(attachment_id, rel),
        )

    # ---- message tracking (for deleting a conversation from the reporter's phone) --------

    def track(self, src: Incoming, message_ref: str, direction: str) -> None:
        self.track_many(src, [(message_ref, direction)])

    def track_many(self, src: Incoming, refs: Iterable[tuple[str, str]]) -> None:
        """Remember several message ids (direction "in" or "out") in one transaction."""
        refs = list(refs)
        if not refs:
            return
        handle, now = self._handle(src), self._now()
        with self.db.transaction() as session:
            _followup.track_many(session, handle, src.channel, refs, now)

    # ---- the channel inbox (storage.inbox) --------------------------------------------------

    def inbox_put(self, channel: str, updates: Iterable[tuple[str, bytes]]) -> int:
        """Hold raw platform updates, sealed, until `inbox_done`: once this returns, the
        channel may confirm them to the platform."""
        now = self.clock()
        with self.db.transaction() as session:
            return inbox.put(
                session,
                self.keyring,
                channel,
                updates,
                int(now) + self.settings.epoch_seconds,
                self._now(),
            )

    def inbox_tag(self, channel: str, chat: str) -> str:
        """The keyed tag an inbox row carries for its chat (webhook order): stable per chat,
        unlike the chat id useless without the pepper, and not the user handle drafts use."""
        return crypto.user_handle(self._pepper, f"inbox:{channel}", chat).hex()[:32]

    def inbox_put_ordered(
        self, channel: str, updates: Iterable[tuple[str, bytes, str, int, str]]
    ) -> int:
        """`inbox_put` for (event id, raw update, chat tag, sequence, service event id) rows:
        webhook mode, where one worker at a time answers a chat's updates in order
        (`inbox_of_chat`). An update the service already handled (its event id is recorded)
        is not held again: a late redelivery after it was answered is not answered twice."""
        items = list(updates)
        now = self.clock()
        with self.db.transaction() as session:
            items = [item for item in items if drafts.event_row(session, channel, item[4]) is None]
            return inbox.put(
                session,
                self.keyring,
                channel,
                [(event_id, raw) for event_id, raw, *_ in items],
                int(now) + self.settings.epoch_seconds,
                self._now(),
                order={event_id: (tag, seq) for event_id, _, tag, seq, _ in items},
            )

    def inbox_of_chat(self, channel: str, chat_tag: str) -> list[tuple[str, bytes]]:
        with self.db.transaction() as session:
            return inbox.of_chat(session, self.keyring, channel, chat_tag, int(self.clock()))

    def inbox_adopt(self, channel: str, order_of: Callable[[bytes], tuple[str, int]]) -> int:
        """Give every held update a polling run left (no chat tag) its chat's tag and its
        sequence, `order_of(raw) -> (chat, sequence)`, so a webhook start handles it in order
        with that chat's other updates. How many were adopted."""
        with self.db.transaction() as session:
            rows = inbox.untagged(session, self.keyring, channel, int(self.clock()))
            for event_id, raw in rows:
                chat, seq = order_of(raw)
                inbox.set_order(session, channel, event_id, self.inbox_tag(channel, chat), seq)
            return len(rows)

    def inbox_held(self, channel: str, chat_tag: str) -> list[str]:
        """The event ids of a chat's held updates, none opened (webhook mode's look before
        it settles)."""
        with self.db.transaction() as session:
            return inbox.ids_of_chat(session, channel, chat_tag)

    def inbox_chats(self, channel: str) -> list[str]:
        with self.db.transaction() as session:
            return inbox.chats(session, channel)

    def chat_locks(self, size: int = 8) -> ChatLocks:
        """Per-chat locks shared by every worker on this database (storage.chatlock)."""
        return ChatLocks(self.db.url, self.db.is_sqlite, size=size)

    def inbox_pending(self, channel: str) -> list[tuple[str, bytes]]:
        """Updates held but not answered when the channel last stopped (or crashed)."""
        with self.db.transaction() as session:
            return inbox.pending(session, self.keyring, channel, int(self.clock()))

    def inbox_done(self, channel: str, event_ids: Iterable[str]) -> None:
        with self.db.transaction() as session:
            inbox.done(session, self.keyring, channel, event_ids)

    def messages_of(self, src: Incoming) -> list[tuple[str, str]]:
        with self.db.transaction() as session:
            return _followup.messages_of(session, self._handle(src))

    def forget_messages(self, src: Incoming) -> None:
        with self.db.transaction() as session:
            _followup.forget_messages(session, self._handle(src))

    # ---- caseworker replies waiting for delivery -----------------------------------------

    def pending_outbox(self, channel: str, limit: int = 50) -> list[OutboxItem]:
        self.schedule_checkins()
        with self.db.transaction() as session:
            items = _followup.pending(session, self._route_key, channel, self._now(), limit)
            checkins = _checkins.of_outbox(session, [i.id for i in items])
        return [self._outbox_item(i, checkins.get(i.id)) for i in items]

    def outbox_due(self, channel: str, limit: int = 50) -> list[str]:
        """Ids of the messages due for delivery on this channel (the in-process path); the
        safety check-ins come due are queued first."""
        self.schedule_checkins()
        with self.db.transaction() as session:
            return _followup.due(session, channel, self._now(), limit)

    def take_outbox(
        self, channel: str, message_id: str
    ) -> tuple[OutboxItem | None, timedelta | None]:
        """Lease one message for delivery (`_followup.take`): the item, or None with how long
        to wait before looking again (None: nothing to send)."""
        with self.db.transaction() as session:
            taken, wait = _followup.take(session, self._route_key, message_id, self._now())
            checkins = _checkins.of_outbox(session, [taken.id]) if taken is not None else {}
        if taken is None:
            return None, wait
        return self._outbox_item(taken, checkins.get(taken.id)), None

    def outbox_release(self, item_id: str) -> None:
        """Give up a message taken but not sent (no try counted): due again at once."""
        with self.db.transaction() as session:
            _followup.release(session, item_id)

    def _outbox_item(
        self, i: _followup.PendingMessage, checkin_id: str | None = None
    ) -> OutboxItem:
        """The replies that deliver one message: a safety check-in's question (the engine's
        CHECKIN step), or the caseworker's text with the add-information question."""
        if checkin_id is not None:
            return OutboxItem(i.id, i.route, self._checkin_question(i, checkin_id), i.case_ref)
        return OutboxItem(
            i.id,
            i.route,
            [
                Reply(
                    self.flows.text(i.lang, "sys.followup", case_ref=i.case_ref, text=i.text),
                    "info",
                    i.lang,
                ),
                Reply(
                    self.flows.text(i.lang, "sys.addendum.ask"),
                    "text",
                    i.lang,
                    "addendum",
                    (("done", self.flows.text(i.lang, "opt.done")),),
                ),
            ],
            i.case_ref,
        )

    # ---- safety check-ins (issue 18; intake/_checkins.py) ---------------------------------

    def schedule_checkins(self, force: bool = False) -> int:
        """Queue the check-ins come due (at most every `checkin_every` seconds); never
        raises: a problem is logged and the caseworkers' messages still go."""
        now_ts = self.clock()
        if (
            not force
            and self._checkins_at is not None
            and now_ts - self._checkins_at < self.checkin_every
        ):
            return 0
        self._checkins_at = now_ts
        try:
            if self.checkin_source is None:
                import alerts

                self.checkin_source = alerts.ConfigSource(self.settings.home)
            config = self.checkin_source.current()
            with self.db.transaction() as session:
                return _checkins.schedule_due(
                    session, self._route_key, config, datetime.fromtimestamp(now_ts, UTC)
                )
        except Exception as exc:
            log.error("check-ins not scheduled (%s); run `sanad config check`", type(exc).__name__)
            return 0

    def _checkin_question(self, item: Any, checkin_id: str) -> list[Reply]:
        _, actions = self.engine.step(
            State(), OpenCheckin(item.case_ref, item.lang, checkin_id, self._now())
        )
        return [a for a in actions if isinstance(a, Reply)]

    def outbox_sent(self, item_id: str) -> None:
        """Mark delivered and let the reporter answer: their reply is appended to the case."""
        with self.db.transaction() as session:
            sent = _followup.mark_sent(session, item_id, self._now())
            checkin = _checkins.delivered(session, item_id, self._now()) if sent else None
            checkin_id = checkin.id if checkin is not None else None
        if sent is None:
            return
        src = Incoming(sent.channel, "", None)
        if checkin_id is not None:  # the answer is read as a check-in's (engine CHECKIN)
            self._run(
                src,
                lambda state, now: OpenCheckin(sent.case_ref, sent.lang, checkin_id, now),
                handle=sent.handle,
                only_if_idle=True,
                new_case_id=sent.case_id,
            )
            return
        for last in (False, True):
            try:
                self._run(
                    src,
                    lambda state, now: OpenAddendum(sent.case_ref, sent.lang, None, now),
                    handle=sent.handle,
                    only_if_idle=True,
                    new_case_id=sent.case_id,
                )
                return
            except IntegrityError:
                # Another worker delivered a message of the same case at the same moment and
                # opened the addendum first: with it there, this one finds it and stays idle.
                if last:
                    raise

    def outbox_failed(self, item_id: str) -> timedelta | None:
        """A failed try: the wait before the next (None: failed for good, after
        `_followup.MAX_ATTEMPTS` tries; `sanad status` counts it)."""
        with self.db.transaction() as session:
            return _followup.mark_failed(session, item_id, self._now())

    # ---- the one loop ---------------------------------------------------------------------

    def _handle(self, src: Incoming) -> bytes:
        return crypto.user_handle(self._pepper, src.channel, src.user_id)

    def _load(self, session: Session, handle: bytes, now: float) -> drafts.OpenDraft | None:
        """The live draft, or None; one whose key is missing counts as none here (kept)."""
        try:
            return drafts.load(session, self.keyring, handle, int(now))
        except drafts.DraftUnreadable:
            return None

    def _peek(self, src: Incoming, replay: bool = True) -> _Peek:
        """One read of what a message is decided on: the answer already given to this update
        (redelivered after a crash: `replayed`), else the live draft and its state. Nothing is
        written, so deciding never holds a change the step's own transaction does not make."""
        handle, now_ts = self._handle(src), self.clock()
        with self.db.transaction() as session:
            if replay and src.event_id:
                seen = drafts.event_row(session, src.channel, src.event_id)
                if seen is not None:
                    replayed = self._replay(session, seen, handle, now_ts)
                    if replayed is not None:
                        return _Peek(handle, None, None, replayed)
            draft = self._load(session, handle, now_ts)
        return _Peek(handle, draft, State.from_json(draft.state) if draft and draft.state else None)

    def _unreadable(self, session: Session, lang: str | None, now: datetime) -> Outcome:
        """A live draft cannot be opened: say so, keep it, count it (the audit log)."""
        log.error(
            "a live draft cannot be opened: its key is missing from the keyring "
            "(SANAD_KEYRING_URL not shared between hosts, or a tmpfs keyring lost in a "
            "reboot); the draft is kept"
        )
        accounts.audit(session, "intake", "draft_key_missing", None, "error", now)
        lang = lang if lang in self.flows.catalog else "ar"
        return Outcome([Reply(self.flows.text(lang, "sys.draft.unreadable"), "info", lang)])

    def _say(self, src: Incoming, key: str) -> Outcome:
        """A reply that changes nothing (in the conversation's language, if there is one)."""
        with self.db.transaction() as session:
            draft = self._load(session, self._handle(src), self.clock())
        lang = State.from_json(draft.state).lang if draft and draft.state else "ar"
        return Outcome([Reply(self.flows.text(lang, key), "info", lang)])

    def _run(
        self,
        src: Incoming,
        make_event: Callable[[State | None, datetime], Event],
        file_path: tuple[str, str] | None = None,
        handle: bytes | None = None,
        only_if_idle: bool = False,
        new_case_id: str | None = None,
        extra: dict[str, object] | None = None,
        fresh: bool = False,
    ) -> Outcome:
        handle = handle or self._handle(src)
        try:
            for _ in range(3):
                try:
                    return self._run_once(
                        src, make_event, file_path, handle, only_if_idle, new_case_id, extra, fresh
                    )
                except _ReceiptNeeded:
                    # Rolled back; hash a receipt now, outside the transaction (and SQLite's
                    # write lock), then run the same step again: the engine is pure.
                    self._drawn.receipt = self.receipts.take()
            raise RuntimeError("no receipt could be drawn for the submission")
        except IntegrityError:
            if not src.event_id:
                raise
            # Another worker took the same update at the same moment and answers it: this one
            # stays silent (a redelivery later, after a crash, gets the answer again).
            with self.db.transaction() as session:
                if drafts.event_row(session, src.channel, src.event_id) is None:
                    raise
            log.info("update handled by another worker channel=%s", src.channel)
            return Outcome()
        finally:
            unused = getattr(self._drawn, "receipt", None)
            if unused is not None:
                self._drawn.receipt = None
                self.receipts.give_back(unused)

    def _draw_receipt(self) -> crypto.Receipt:
        """For a submission inside a transaction: a receipt hashed beforehand, never one
        hashed here (Argon2id under the write lock would hold up every other reporter)."""
        drawn = getattr(self._drawn, "receipt", None)
        if drawn is not None:
            self._drawn.receipt = None
            return drawn
        ready = self.receipts.take_ready()
        if ready is None:
            raise _ReceiptNeeded
        return ready

    def _replay(
        self, session: Session, row: ProcessedEvent, handle: bytes, now_ts: float
    ) -> Outcome | None:
        """The answer to an update seen before (redelivered after a crash), re-created from
        what holds no answers (findings 1 and 13 of the December 2026 review): the current
        question from the live draft, or a fixed text once the conversation ended. The
        receipt is shown once and never replayed. None: the record is not this reporter's
        (an update id reused by another bot or after Telegram restarted its counter), so
        the update is a new one."""
        if row.sealed_replies is None or row.expires_at is None or row.expires_at <= int(now_ts):
            return None
        try:
            plain = crypto.open_draft(
                self.keyring,
                _event_key(row.channel, row.event_id),
                handle,
                row.expires_at,
                row.sealed_replies,
            )
        except crypto.CryptoError:
            return None
        log.info("duplicate event replayed channel=%s", row.channel)
        data = json.loads(plain)
        lang = str(data.get("lang") or "ar")
        if lang not in self.flows.catalog:
            lang = "ar"
        case_ref = data.get("case_ref")
        finished, erased = bool(data.get("finished")), bool(data.get("erased"))
        replies: list[Reply] = []
        if data.get("receipt") or (finished and case_ref):
            replies.append(
                Reply(
                    self.flows.text(lang, "sys.replay.receipt_once", case_ref=str(case_ref or "")),
                    "info",
                    lang,
                )
            )
        elif finished or erased:
            replies.append(Reply(self.flows.text(lang, "sys.replay.ended"), "info", lang))
        else:
            draft = self._load(session, handle, now_ts)
            if draft is not None and draft.state:
                state = State.from_json(draft.state)
                _, actions = self.engine.step(
                    state, UserCommand("reask", datetime.fromtimestamp(now_ts, UTC))
                )
                replies = [a for a in actions if isinstance(a, Reply)]
        return Outcome(replies, erased=erased, finished=finished, case_ref=case_ref, replayed=True)

    def _run_once(
        self,
        src: Incoming,
        make_event: Callable[[State | None, datetime], Event],
        file_path: tuple[str, str] | None,
        handle: bytes,
        only_if_idle: bool,
        new_case_id: str | None,
        extra: dict[str, object] | None,
        fresh: bool = False,
    ) -> Outcome:
        now_ts = self.clock()
        now = datetime.fromtimestamp(now_ts, UTC)
        replies: list[Reply] = []
        remove_dirs: list[str] = []
        remove_files: list[str] = []
        erased = finished = withdrawn = False
        case_ref = None
        with self.db.transaction() as session:
            event_row = None
            if src.event_id:
                seen = drafts.event_row(session, src.channel, src.event_id)
                if seen is not None:
                    replayed = self._replay(session, seen, handle, now_ts)
                    if replayed is not None:
                        return replayed
                    seen.processed_at, event_row = now, seen  # someone else's: a new event
                else:
                    event_row = drafts.record_event(session, src.channel, src.event_id, now)
            if fresh:  # the step starts a new conversation (a receipt opened a case)
                drafts.discard(session, self.keyring, handle)
            try:
                draft = drafts.load(session, self.keyring, handle, int(now_ts))
            except drafts.DraftUnreadable:
                peek = make_event(None, now)
                if not (isinstance(peek, UserCommand) and peek.name in ("exit", "delete")):
                    return self._unreadable(
                        session, getattr(peek, "lang", None) or getattr(peek, "hint", None), now
                    )
                drafts.discard(session, self.keyring, handle)  # the reporter erases it
                draft = None
            if only_if_idle and draft is not None and draft.state:
                return Outcome()
            state = State.from_json(draft.state) if draft and draft.state else None
            event = make_event(state, now)
            if draft is None or not draft.state:
                draft = drafts.new(new_case_id)
            if extra:
                draft = replace(draft, extra={**draft.extra, **extra})
            state, actions = self.engine.step(state or State(), event)
            if file_path is not None:  # remember where the sealed file lives
                att_id, rel = file_path
                state = replace(
                    state,
                    files=tuple(
                        {**f, "path": rel} if f["id"] == att_id else f for f in state.files
                    ),
                )
            while actions:
                action = actions.pop(0)
                if isinstance(action, Reply):
                    replies.append(action)
                elif isinstance(action, SubmitReport):
                    case_ref, receipt = self._submit(session, src, handle, draft, action, now)
                    state, more = self.engine.step(state, Submitted(case_ref, receipt, now))
                    actions = self._offer_support_after(session, draft, action, more) + actions
                elif isinstance(action, SubmitAddendum):
                    if file_path is not None and action.file is not None:
                        action = replace(action, file={**action.file, "path": file_path[1]})
                    draft = self._append(session, draft, action, now)
                elif isinstance(action, ChangeConsent):
                    draft = self._change_consent(session, src, handle, draft, action, now)
                elif isinstance(action, CheckinAnswer):
                    case = cases.by_ref(session, action.case_ref)
                    if case is not None and case.id == draft.case_id:
                        _checkins.answer(session, action.checkin_id, case, action.answer, now)
                elif isinstance(action, WithdrawCase):
                    case = cases.by_ref(session, action.case_ref)
                    if case is not None and case.id == draft.case_id:
                        remove_files += cases.withdraw(session, case, now)
                        stat_rows.forget_case_statistics(session, case.id, self._pepper)
                        withdrawn = True
                        log.info("case withdrawn by the reporter")
                elif isinstance(action, DiscardDraft):
                    remove_dirs += drafts.discard(session, self.keyring, handle)
                    remove_dirs.append(draft.case_id)
                    # What is kept from here on (an ended state) is a new draft, under a
                    # new item key: the old one is erased with the commit.
                    draft = replace(draft, id=str(uuid.uuid4()))
                    withdrawn = True  # a discarded draft leaves the WAL as a withdrawal does
                    erased = erased or state.mode == "ended"
                elif isinstance(action, Finished):
                    drafts.discard(session, self.keyring, handle)
                    finished = True
            if not finished and self._holds_urgent_case(state):
                draft = self._keep_urgent_case(session, src, draft, state, now)
            if not finished:
                draft = replace(draft, state=state.to_json())
                expires = int(now_ts) + self.settings.epoch_seconds
                drafts.save(session, self.keyring, handle, draft, expires, now)
            outcome = Outcome(
                replies,
                erased=erased and case_ref is None,
                finished=finished,
                case_ref=case_ref,
                voice=bool(draft.extra.get("voice")),
            )
            if event_row is not None:  # in the same transaction as the answer it records
                # What a replay needs, and nothing the reporter said: no reply text, no
                # summary, no receipt (findings 1 and 13).
                event_row.expires_at = int(now_ts) + self.settings.epoch_seconds
                event_row.sealed_replies = crypto.seal_draft(
                    self.keyring,
                    _event_key(src.channel, str(src.event_id)),
                    handle,
                    event_row.expires_at,
                    json.dumps(
                        {
                            "v": 2,
                            "erased": outcome.erased,
                            "finished": finished,
                            "case_ref": case_ref,
                            "lang": state.lang,
                            "receipt": any(r.kind == "receipt" for r in replies),
                        }
                    ).encode(),
                )
        if withdrawn:
            # The WAL still holds the pages of the erased draft or withdrawn report as they
            # were: checkpoint and truncate it now (finding 5; PostgreSQL: see retention).
            self.db.truncate_wal()
        try:
            for case_id in set(remove_dirs):
                self._remove_files(case_id)
            for rel in remove_files:
                self.objects.delete(rel)
        except OSError as exc:  # committed already: the purge's sweep deletes what is left
            log.error(
                "could not delete attachments now, the purge will: %s",
                exc.strerror or type(exc).__name__,
            )
        log.info("message handled channel=%s replies=%d", src.channel, len(replies))
        return outcome

    def _routed(self, session: Session, fields: dict[str, Any], priority: int) -> teams.Routed:
        """The teams the routing rules choose for a report, and their members' keys."""
        country = fields.get("country")
        return recipients_for_report(
            session,
            self._admin_public,
            self._pin,
            self.routing,
            fields,
            priority,
            country_code(self.guidance, country) if isinstance(country, str) else None,
        )

    def _submit(
        self,
        session: Session,
        src: Incoming,
        handle: bytes,
        draft: drafts.OpenDraft,
        action: SubmitReport,
        now: datetime,
    ) -> tuple[str, str]:
        # Urgency from the reporter's words (NLU), apart from answers such as current_danger
        # that the triage rules read themselves.
        words_urgent = bool(set(action.urgent) - set(self.flows.fields))
        triage = self.triage.assess(action.fields, words_urgent, now)
        reasons = _with_word_reasons(triage.reasons, action.urgent)
        report_type = action.fields.get("report_type")
        narrative, identity = self._split_identity(action.fields)
        taken = draft.extra.get("taken")
        consent = action.consent
        if isinstance(taken, dict) and taken.get("source"):  # taken by a caseworker
            narrative = {
                **narrative,
                "source": str(taken["source"]),
                "recorded_by": str(taken.get("recorded_by", "")),
            }
            consent = {
                k: {**v, "read_aloud": True, "recorded_by": taken.get("recorded_by")}
                for k, v in consent.items()
            }
        report = cases.ReportToStore(
            case_id=draft.case_id,
            data_key=draft.data_key,
            fields=narrative,
            files=[f for f in action.files if "path" in f],
            consent=consent,
            report_type=report_type if isinstance(report_type, str) else None,
            priority=triage.priority,
            reasons=reasons,
            channel=src.channel,
            lang=action.lang,
            flow_version=self.flows.version,
            identity=identity,
            identity_key=_identity_key(draft),
        )
        custodians = self._identity_recipients(session)
        early = session.get(Case, draft.case_id) if draft.extra.get("early_receipt") else None
        if early is not None:  # the urgent case already in the queue is completed in place
            cases.update_report(session, early, report, now, custodians)
            early.caseworker_pref = _pref(action.fields)
            # the full answers may route it to more teams than its first urgent words did
            routed = self._routed(session, action.fields, triage.priority)
            teams.add_wraps(session, early.id, draft.data_key, routed.recipients)
            teams.record_case_teams(session, early.id, routed.teams, now)
            stat_rows.record_case(session, self._pepper, early, action.fields)
            search.index_case(session, self._pepper, early.id, action.fields)
            log.info("urgent case completed channel=%s", src.channel)
            return early.case_ref, str(draft.extra["early_receipt"])
        routed = self._routed(session, action.fields, triage.priority)
        receipt = self._draw_receipt()
        case = cases.store_report(session, report, routed.recipients, receipt, now, custodians)
        case.caseworker_pref = _pref(action.fields)
        teams.record_case_teams(session, case.id, routed.teams, now)
        _record_taken(session, case.id, taken, now)
        stat_rows.record_case(session, self._pepper, case, action.fields)
        search.index_case(session, self._pepper, case.id, action.fields)
        if case.priority == 1:
            self._priority_one(session, case, now)
        if action.fields.get("consent_followup") == "yes" and src.route:
            _followup.keep_route(
                session, self._route_key, case.id, handle, src.channel, src.route, now
            )
        log.info("report stored priority=%d channel=%s", case.priority, src.channel)
        return case.case_ref, receipt.code

    def _split_identity(
        self, fields: dict[str, object]
    ) -> tuple[dict[str, object], dict[str, object]]:
        """The report's answers, and the names and contact details (fields.yaml `section:
        identity`) that are sealed apart under the identity key."""
        protected = self.flows.identity_fields
        return (
            {k: v for k, v in fields.items() if k not in protected},
            {k: v for k, v in fields.items() if k in protected},
        )

    def _identity_recipients(self, session: Session) -> tuple[crypto.Recipient, ...]:
        """The custodians of the signed manifest and the recovery key (never a reader)."""
        found = accounts.identity_recipients(session, self._admin_public, self._pin)
        if not any(r.label.startswith(accounts.CUSTODIAN_PREFIX) for r in found):
            log.warning(
                "no custodian in the recipient manifest: identity sections are "
                "sealed to the recovery key only (sanad users add NAME --role "
                "custodian)"
            )
        return found

    def _append(
        self, session: Session, draft: drafts.OpenDraft, action: SubmitAddendum, now: datetime
    ) -> drafts.OpenDraft:
        case = cases.by_ref(session, action.case_ref)
        if case is None or case.id != draft.case_id:
            return draft
        recipients = recipients_for_case(session, self._admin_public, self._pin, case)
        seq = cases.append_addendum(
            session,
            case,
            draft.data_key,
            recipients,
            draft.extra.get("addendum_seq"),
            action.index,
            action.text,
            action.file,
            now,
        )
        log.info("addendum stored")
        return replace(draft, extra={**draft.extra, "addendum_seq": seq})

    def _change_consent(
        self,
        session: Session,
        src: Incoming,
        handle: bytes,
        draft: drafts.OpenDraft,
        action: ChangeConsent,
        now: datetime,
    ) -> drafts.OpenDraft:
        """Seal a new consent version to the case's recipients (the intake cannot read it
        back), and act on it here: a withdrawn follow-up consent deletes the way back to the
        reporter, a granted one keeps this chat's."""
        case = cases.by_ref(session, action.case_ref)
        if case is None or case.id != draft.case_id:
            return draft
        recipients = recipients_for_case(session, self._admin_public, None, case)
        record = {
            "field": action.field,
            "value": action.value,
            "at": action.at,
            "lang": action.lang,
            "text": action.text,
            "version": action.version,
        }
        seq = cases.change_consent(
            session,
            case,
            draft.data_key,
            recipients,
            draft.extra.get("addendum_seq"),
            action.index,
            record,
            now,
        )
        if action.field == "consent_followup":
            if action.value == "yes" and src.route:
                _followup.forget_route(session, case.id)  # this chat's route replaces any
                _followup.keep_route(
                    session, self._route_key, case.id, handle, src.channel, src.route, now
                )
            elif action.value != "yes":
                _followup.forget_route(session, case.id)
        if action.field == "consent_stats" and action.value != "yes":
            # no longer counted: its categories leave the statistics table at once (a later
            # "yes" cannot add them back: the intake side cannot read the report's answers)
            stat_rows.forget_case_statistics(session, case.id, self._pepper)
        # Also in the hash-chained audit log: a deleted change then breaks the chain or falls
        # short of a checkpoint exported after it (the sealed record alone cannot show that
        # it was the newest).
        accounts.audit(
            session,
            "reporter",
            "consent_changed",
            case.case_ref,
            "ok",
            now,
            consent=action.field,
            value=action.value,
            seq=seq,
        )
        log.info("consent changed by the reporter")
        return replace(draft, extra={**draft.extra, "addendum_seq": seq})

    def _receipt(self, src: Incoming, code: str, peek: _Peek | None = None) -> Outcome:
        """Check a receipt: status in the reporter's language, then "add information" mode.

        The slow hash runs only when the handle exists, and attempts are rate-limited per
        user handle. The code itself is never stored. Three transactions, on purpose: the
        attempt is counted and committed before the code is checked (a wrong code still
        counts), Argon2id runs after it, outside any transaction (under SQLite's write lock
        it would hold up every other reporter), and the step that opens the case replaces
        the old draft in its own transaction.
        """
        peek = peek or self._peek(src, replay=False)
        handle, state = peek.handle, peek.state
        lang = state.lang if state else "ar"
        if state is not None and len(state.trail) > 1 and state.addendum_for is None:
            # A report is in progress: the code is neither kept nor checked here.
            return self._run(src, lambda st, at: UserCommand("receipt", at))
        with self.db.transaction() as session:
            if not _followup.allow(
                session,
                f"receipt:{handle.hex()[:40]}",
                int(self.clock()),
                RECEIPT_ATTEMPTS,
                RECEIPT_WINDOW,
            ):
                return Outcome([Reply(self.flows.text(lang, "sys.status.limited"), "info", lang)])
            parsed = crypto.parse_receipt(code)
            case = (
                session.scalar(select(Case).where(Case.receipt_handle == parsed[0]))
                if parsed
                else None
            )
            found = (
                (case.id, case.case_ref, case.status, case.receipt_verifier, case.lang)
                if case
                else None
            )
            consent = (
                {
                    k: dict(v)
                    for k, v in (case.consent or {}).items()
                    if k.startswith("consent_") and isinstance(v, dict)
                }
                if case
                else {}
            )
        if found is None or parsed is None or not crypto.verify_receipt(parsed[1], found[3]):
            return Outcome([Reply(self.flows.text(lang, "sys.status.unknown"), "info", lang)])
        case_id, case_ref, status, _, case_lang = found
        lang = lang if state else case_lang
        if status == "withdrawn":  # nothing can be added to a withdrawn report
            return Outcome(
                [
                    Reply(
                        self.flows.text(
                            lang,
                            "sys.status",
                            case_ref=case_ref,
                            status=self.flows.text(lang, "status.withdrawn"),
                        ),
                        "info",
                        lang,
                    )
                ]
            )
        status_text = self.flows.text(lang, f"status.{status}")
        # the conversation on this phone is replaced by the case's, in the same transaction
        return self._run(
            src,
            lambda st, at: OpenAddendum(
                case_ref,
                lang,
                "sys.status",
                at,
                {"case_ref": case_ref, "status": status_text},
                consent,
            ),
            new_case_id=case_id,
            fresh=True,
        )

    # ---- urgent cases are not lost if the person stops ------------------------------------

    @staticmethod
    def _holds_urgent_case(state: State) -> bool:
        return (
            bool(state.urgent)
            and state.mode == "active"
            and state.addendum_for is None
            and state.answers.get("consent_store") == "yes"
        )

    def _keep_urgent_case(
        self, session: Session, src: Incoming, draft: drafts.OpenDraft, state: State, now: datetime
    ) -> drafts.OpenDraft:
        """Create (once) or update the incomplete priority-1 case of an urgent conversation."""
        fields, files = self.engine.report(state)
        words_urgent = bool(set(state.urgent) - set(self.flows.fields))
        triage = self.triage.assess(fields, words_urgent, now)
        report_type = fields.get("report_type")
        narrative, identity = self._split_identity(fields)
        draft = replace(draft, extra={**draft.extra, "identity_key": _identity_key(draft).hex()})
        report = cases.ReportToStore(
            case_id=draft.case_id,
            data_key=draft.data_key,
            fields=narrative,
            files=[f for f in files if "path" in f],
            consent=dict(state.consent),
            report_type=report_type if isinstance(report_type, str) else None,
            priority=1,
            reasons=tuple(
                dict.fromkeys((*_with_word_reasons(triage.reasons, state.urgent), "incomplete"))
            ),
            channel=src.channel,
            lang=state.lang,
            flow_version=self.flows.version,
            incomplete=True,
            identity=identity,
            identity_key=_identity_key(draft),
        )
        custodians = self._identity_recipients(session)
        case = session.get(Case, draft.case_id)
        if case is not None:
            cases.update_report(session, case, report, now, custodians)
            search.index_case(session, self._pepper, case.id, fields)
            return draft
        routed = self._routed(session, fields, 1)
        receipt = self._draw_receipt()
        case = cases.store_report(session, report, routed.recipients, receipt, now, custodians)
        teams.record_case_teams(session, case.id, routed.teams, now)
        search.index_case(session, self._pepper, case.id, fields)
        taken = draft.extra.get("taken")  # an urgent report a caseworker is taking
        _record_taken(session, case.id, taken, now)
        if src.route and fields.get("consent_followup") == "yes":
            _followup.keep_route(
                session, self._route_key, case.id, self._handle(src), src.channel, src.route, now
            )
        self._priority_one(session, case, now)
        log.info("urgent case opened channel=%s", src.channel)
        # The receipt is shown at the end, as for every report; until then it is only in the
        # sealed draft.
        return replace(draft, extra={**draft.extra, "early_receipt": receipt.code})

    def _priority_one(self, session: Session, case: Case, now: datetime) -> None:
        for hook in self.priority_one_hooks:
            hook(session, case, now)

    # ---- support directory ------------------------------------------------------------------

    def _self_harm_text(self, lang: str, country: str | None) -> str:
        """Words for someone who may harm themselves, with the directory's crisis lines."""
        found = self.directory.match({"psychosocial"}, country_code(self.guidance, country))
        return "\n".join(
            [self.flows.text(lang, "sys.urgent.self_harm"), *(s.render(lang) for s in found)]
        )

    def _support_replies(
        self, lang: str, needs: set[str], country: str | None
    ) -> tuple[list[Reply], list[str]]:
        found = self.directory.match(needs, country_code(self.guidance, country))
        if not found:
            return [Reply(self.flows.text(lang, "sys.support.none"), "info", lang)], []
        body = "\n".join(
            [self.flows.text(lang, "sys.support.intro"), *(s.render(lang) for s in found)]
        )
        return [Reply(body, "info", lang)], [s.id for s in found]

    def _support_request(
        self, src: Incoming, needs: set[str] | None, peek: _Peek | None = None
    ) -> Outcome | None:
        """Words like "I need a doctor" (outside a free-text answer) or /support."""
        peek = peek or self._peek(src, replay=False)
        draft, state = peek.draft, peek.state
        if (
            needs is not None
            and state is not None
            and self.engine.expecting(state) in ("text", "date")
        ):
            return None  # inside a narrative these words are an answer, not a request
        lang = state.lang if state else "ar"
        answered = state.answers.get("support_needs") if state else None
        if needs is None:
            needs = set(answered) - {"none"} if isinstance(answered, list) else set()
            needs = needs or {"medical", "psychosocial", "legal", "shelter"}
        country = state.answers.get("country") if state else None
        replies, ids = self._support_replies(
            lang, needs, country if isinstance(country, str) else None
        )
        if state is None or draft is None:
            return Outcome(replies)
        offered = list(dict.fromkeys([*draft.extra.get("support_offered", []), *ids]))
        outcome = self._run(
            src, lambda st, at: UserCommand("reask", at), extra={"support_offered": offered}
        )
        return replace(outcome, replies=replies + outcome.replies)

    def _offer_support_after(
        self, session: Session, draft: drafts.OpenDraft, action: SubmitReport, more: list
    ) -> list:  # type: ignore[type-arg]
        needs = action.fields.get("support_needs")
        wanted = set(needs) - {"none"} if isinstance(needs, list) else set()
        if _sexual_violence(action.fields):  # the protocol: specialised support, always
            wanted.add("sexual_violence")
        offered = list(draft.extra.get("support_offered", []))
        replies: list[Reply] = []
        if wanted:
            country = action.fields.get("country")
            replies, ids = self._support_replies(
                action.lang, wanted, country if isinstance(country, str) else None
            )
            offered = list(dict.fromkeys([*offered, *ids]))
        if offered:
            cases.record_event(
                session,
                draft.case_id,
                "support_offered",
                datetime.fromtimestamp(self.clock(), UTC),
                services=offered,
            )
        # After the receipt, before the closing words.
        head = [a for a in more if isinstance(a, Reply) and a.kind == "receipt"]
        rest = [a for a in more if a not in head]
        return head + replies + rest

    def _remove_files(self, case_id: str) -> None:
        with self.db.transaction() as session:
            if session.get(Case, case_id) is not None:
                return  # submitted: the files belong to the case now
        self.objects.delete_prefix(case_id)


@dataclass(frozen=True)
class _Peek:
    """What `IntakeService._peek` read for the decision on one message."""

    handle: bytes
    draft: drafts.OpenDraft | None
    state: State | None
    replayed: Outcome | None = None


class _ReceiptNeeded(Exception):
    """A submission found no receipt ready: roll back, hash one outside, run again."""


def _identity_key(draft: drafts.OpenDraft) -> bytes:
    """The case's identity key: kept in the sealed draft while an urgent case is updated in
    place, so every update seals under the key its custodians already hold."""
    kept = draft.extra.get("identity_key")
    if isinstance(kept, str) and len(kept) == 64:
        return bytes.fromhex(kept)
    return crypto.new_data_key()


def _sexual_violence(fields: dict[str, Any]) -> bool:
    kinds = fields.get("violation_types")
    return isinstance(kinds, list) and "sexual_violence" in kinds


def _pref(fields: dict[str, Any]) -> str | None:
    """The caseworker the reporter asked for (woman | man), kept plain for "claim next".
    A report of sexual violence that left the question unanswered asks for a woman (the
    sexual-violence protocol, issue 18 item 5); "any" is the reporter's own choice."""
    value = fields.get("caseworker_gender_pref")
    if value is None and _sexual_violence(fields):
        return "woman"
    return value if value in ("woman", "man") else None


def _event_key(channel: str, event_id: str) -> str:
    return "event-" + hashlib.sha256(f"{channel}\x00{event_id}".encode()).hexdigest()[:32]


def _with_word_reasons(reasons: tuple[str, ...], urgent: Iterable[str]) -> tuple[str, ...]:
    """Triage reasons, with why the words were urgent ("self_harm"...) after urgent_words."""
    if "urgent_words" not in reasons:
        return reasons
    return tuple(dict.fromkeys((*reasons, *word_reasons(urgent))))


def _record_taken(session: Any, case_id: str, taken: object, now: datetime) -> None:
    """A report a caseworker took (in person, phone, letter, visit): its source and who
    recorded it, consent read aloud; a detention visit is what a visit check-in follows."""
    if not (isinstance(taken, dict) and taken.get("source")):
        return
    session.add(
        CaseEvent(
            case_id=case_id,
            at=now,
            kind="taken_by_caseworker",
            actor=str(taken.get("recorded_by") or "")[:64] or None,
            detail={"source": str(taken["source"]), "consent": "read_aloud"},
        )
    )
    if taken["source"] == "detention_visit":
        session.add(CaseEvent(case_id=case_id, at=now, kind="visit", actor=None, detail={}))
