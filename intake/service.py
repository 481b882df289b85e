"""The intake service: joins the pure engine, the NLU, the sealed store and the queue.

Every channel calls the same four methods. For each incoming message, one transaction holds
the processed-event id and the sealed draft (or the whole submission), committed before the
reply is returned for sending: a crash loses at most the message being processed, never a
confirmed answer, and a report is stored once or not at all.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from flows import (
    Begin,
    DiscardDraft,
    Engine,
    Event,
    Finished,
    FlowSet,
    Reply,
    Resume,
    State,
    SubmitReport,
    Submitted,
    UserCommand,
    UserFile,
    UserText,
)
from intake.settings import Settings
from intake.triage import TriageRules
from nlu import Interpreter
from storage import accounts, cases, crypto, drafts
from storage.db import Database

log = logging.getLogger("sanad.intake")

COMMANDS = frozenset({"skip", "back", "exit", "lang", "help", "start", "delete"})


@dataclass(frozen=True)
class Incoming:
    """One platform update, already stripped of everything platform-specific."""

    channel: str
    user_id: str
    event_id: str | None = None


class IntakeService:
    def __init__(self, settings: Settings, db: Database, flows: FlowSet,
                 interpreter: Interpreter, pepper: bytes, admin_public: bytes,
                 keyring: crypto.DraftKeyring, triage: TriageRules | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.db = db
        self.flows = flows
        self.engine = Engine(flows)
        self.nlu = interpreter
        self._pepper = pepper
        self._admin_public = admin_public
        self.keyring = keyring
        self.triage = triage or TriageRules.load()
        self.clock = clock

    def __repr__(self) -> str:  # never show the pepper
        return f"IntakeService(home={self.settings.home})"

    # ---- entry points used by channels ----------------------------------------------------

    def open(self, src: Incoming, lang: str | None = None) -> list[Reply]:
        """A session starts (console start, /start): resume an unfinished draft or begin."""
        def event(state: State | None, now: datetime) -> Event:
            return Resume(now) if state is not None else Begin(now, lang=lang)
        return self._run(src, event)

    def text(self, src: Incoming, text: str) -> list[Reply]:
        if crypto.looks_like_receipt(text):
            return self._run(src, lambda state, now: UserCommand("receipt", now)
                             if state is not None else Begin(now))

        def event(state: State | None, now: datetime) -> Event:
            hint_state = state or State()
            interp = self.nlu.interpret(text, expecting=self.engine.expecting(hint_state))
            if state is None:
                return Begin(now, hint=interp.lang)
            return UserText(text, interp, now)
        return self._run(src, event)

    def command(self, src: Incoming, name: str, arg: str | None = None) -> list[Reply]:
        if name not in COMMANDS:
            name = "help"

        def event(state: State | None, now: datetime) -> Event:
            if state is None and name not in ("exit", "delete"):
                lang = arg if name == "lang" and arg in ("ar", "en") else None
                return Begin(now, hint=lang)
            return UserCommand(name, now, arg)
        return self._run(src, event)

    def file(self, src: Incoming, name: str, content_type: str,
             chunks: Iterable[bytes]) -> list[Reply]:
        """Seal an incoming file straight from the platform stream, then tell the engine."""
        handle = self._handle(src)
        with self.db.transaction() as session:
            draft = drafts.load(session, self.keyring, handle, int(self.clock()))
        if draft is None:
            return self.text(src, "")
        attachment_id = str(uuid.uuid4())
        rel = Path(draft.case_id) / f"{attachment_id}.sealed"
        path = self.settings.attachments_dir / rel
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".partial")
        try:
            with open(tmp, "wb") as out:
                size, digest = crypto.seal_attachment(
                    draft.data_key, draft.case_id, attachment_id, chunks, out,
                    max_size=self.settings.max_attachment_bytes)
            tmp.replace(path)
        except crypto.AttachmentTooLarge:
            tmp.unlink(missing_ok=True)
            state = State.from_json(draft.state)
            return [Reply(self.flows.text(state.lang, "sys.attachment.rejected"), "info",
                          state.lang)]
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        safe_name = Path(name).name[:120] or "file"

        def event(state: State | None, now: datetime) -> Event:
            return UserFile(attachment_id, safe_name, size, digest, content_type, now)
        replies = self._run(src, event, meta_path=(attachment_id, str(rel)))
        return replies

    # ---- the one loop ---------------------------------------------------------------------

    def _handle(self, src: Incoming) -> bytes:
        return crypto.user_handle(self._pepper, src.channel, src.user_id)

    def _run(self, src: Incoming, make_event: Callable[[State | None, datetime], Event],
             meta_path: tuple[str, str] | None = None) -> list[Reply]:
        handle = self._handle(src)
        now_ts = self.clock()
        now = datetime.fromtimestamp(now_ts, UTC)
        replies: list[Reply] = []
        remove_dirs: list[str] = []
        with self.db.transaction() as session:
            if src.event_id and drafts.seen_before(session, src.channel, src.event_id, now):
                log.info("duplicate event ignored channel=%s", src.channel)
                return []
            draft = drafts.load(session, self.keyring, handle, int(now_ts))
            state = State.from_json(draft.state) if draft and draft.state else None
            event = make_event(state, now)
            if state is None:
                if draft is None:
                    draft = drafts.new()
                state = State()
            state, actions = self.engine.step(state, event)
            if meta_path is not None:  # remember where the sealed file lives
                att_id, rel = meta_path
                state = replace(state, files=tuple(
                    {**f, "path": rel} if f["id"] == att_id else f for f in state.files))
            finished = False
            while actions:
                action = actions.pop(0)
                if isinstance(action, Reply):
                    replies.append(action)
                elif isinstance(action, SubmitReport):
                    ref, receipt = self._submit(session, src, draft, action, now)
                    state, more = self.engine.step(state, Submitted(ref, receipt, now))
                    actions = more + actions
                elif isinstance(action, DiscardDraft):
                    remove_dirs += drafts.discard(session, handle)
                    remove_dirs.append(draft.case_id)
                elif isinstance(action, Finished):
                    drafts.discard(session, handle)
                    finished = True
            if not finished:
                draft = replace(draft, state=state.to_json())
                expires = int(now_ts) + self.settings.epoch_seconds
                drafts.save(session, self.keyring, handle, draft, expires, now)
        for case_id in set(remove_dirs):
            self._remove_files(case_id)
        log.info("message handled channel=%s replies=%d", src.channel, len(replies))
        return replies

    def _submit(self, session: object, src: Incoming, draft: drafts.OpenDraft,
                action: SubmitReport, now: datetime) -> tuple[str, str]:
        from sqlalchemy.orm import Session
        assert isinstance(session, Session)
        recipients = accounts.current_recipients(session, self._admin_public)
        # Urgency from the reporter's words (NLU), apart from answers such as current_danger
        # that the triage rules already read.
        words_urgent = bool(set(action.urgent) - set(self.flows.fields))
        triage = self.triage.assess(action.fields, words_urgent, now)
        receipt = crypto.new_receipt(self.settings.receipt_kdf)
        report_type = action.fields.get("report_type")
        case = cases.store_report(session, cases.ReportToStore(
            case_id=draft.case_id, data_key=draft.data_key, fields=action.fields,
            files=[f for f in action.files if "path" in f], consent=action.consent,
            report_type=report_type if isinstance(report_type, str) else None,
            priority=triage.priority, reasons=triage.reasons, channel=src.channel,
            lang=action.lang, flow_version=self.flows.version), recipients, receipt, now)
        log.info("report stored priority=%d channel=%s", case.priority, src.channel)
        return case.case_ref, receipt.code

    def _remove_files(self, case_id: str) -> None:
        folder = self.settings.attachments_dir / case_id
        with self.db.transaction() as session:
            from storage.models import Case
            if session.get(Case, case_id) is not None:
                return  # submitted: the files belong to the case now
        shutil.rmtree(folder, ignore_errors=True)
