"""The caseworker dashboard's use cases, independent of HTTP: each call is one transaction,
checks the role and the case's readers, and writes the audit log (never content).

A `Principal` carries the private key unlocked at login; the web layer keeps it only in the
server-side session's memory.
"""

from __future__ import annotations

import io
import logging
import multiprocessing
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from sqlalchemy import func, or_, select, update

import alerts
from caseworker import identity as cw_identity
from caseworker import statistics as stats_publish
from caseworker.cases import QueueReader, QueueRow, queue_rows, read_case
from caseworker.followup import MAX_REPLY, TO_REPORTER, write_to_reporter
from core import RefusedError, as_utc
from storage import (
    Attachment,
    Case,
    CaseEvent,
    Database,
    LocalObjects,
    ObjectStore,
    User,
    accounts,
    audit_chain,
    cases,
    casework,
    crypto,
    search,
)
from storage import identity as identity_store
from storage import statistics as stat_rows

__all__ = [
    "AUDIT_ROLES",
    "CASE_ROLES",
    "CHANGES_CAP",
    "CONTENT_DIMENSIONS",
    "COUNT_CAP",
    "DEADLINE_SOON",
    "DELIVERY_STATES",
    "INLINE_TYPES",
    "IN_PROCESS_PROFILES",
    "ROLE_RANK",
    "SMALL_CELL",
    "STATS_ROLES",
    "CaseView",
    "Dashboard",
    "DashboardError",
    "Forbidden",
    "LoginFailed",
    "Principal",
    "QueuePage",
    "Refused",
    "Tampered",
    "deadline_state",
    "new_totp_secret",
    "suppress",
    "totp_uri",
]

log = logging.getLogger(__name__)

CASE_ROLES = frozenset({"caseworker", "supervisor"})
AUDIT_ROLES = frozenset({"auditor", "admin", "supervisor"})
STATS_ROLES = frozenset({"auditor", "admin", "supervisor", "caseworker"})
# Who may take whom off a case: nobody removes a colleague of a higher role.
ROLE_RANK = {"caseworker": 1, "supervisor": 2}
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/wav",
        "audio/webm",
    }
)


class DashboardError(RefusedError):
    """Base of the dashboard's refusals; `code` keys a catalogue text for the person."""

    code = "error"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        if code:
            self.code = code


class LoginFailed(DashboardError):
    code = "login_failed"


class Forbidden(DashboardError):
    """The role may not do this, or the account is not a reader of the case."""

    code = "forbidden"


class Tampered(DashboardError):
    """The account is a reader of the case, but its sealed content was altered."""

    code = "tampered"


class Refused(DashboardError):
    """A rule of the workflow refused the change (transition, reason, consent)."""

    code = "refused"


@dataclass
class Principal:
    user_id: str
    name: str
    role: str
    key_id: bytes
    private_key: Any = field(repr=False)

    def __repr__(self) -> str:
        return f"Principal({self.name!r}, {self.role!r}, <key hidden>)"


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _current_consent(case: Case, sealed: dict[str, str]) -> dict[str, Any]:
    """Each consent as the sealed records have it now, with the plaintext version details
    (time, language, text version) where they agree; a disagreeing flag is not trusted."""
    plain = dict(case.consent or {})
    out: dict[str, Any] = {k: v for k, v in plain.items() if not k.startswith("consent_")}
    for key, value in sealed.items():
        entry = plain.get(key)
        if isinstance(entry, dict) and entry.get("value") == value:
            out[key] = entry
        else:
            out[key] = {"value": value}
    return out


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(secret: str, name: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=name, issuer_name="Sanad")


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue: its rows, how many cases match in all, and where it is."""

    rows: list[QueueRow]
    total: int
    page: int
    pages: int
    page_size: int
    more: bool = False  # more than `total` match (counting stops at COUNT_CAP)


# Counting stops here: "more than 10,000 cases" costs a bounded index scan at any size of
# register, where an exact count of a million rows would cost every queue page ~100 ms.
COUNT_CAP = 10_000
CHANGES_CAP = 99  # the live queue says "more than 99" beyond this


@dataclass(frozen=True)
class CaseView:
    case_ref: str
    status: str
    priority: int
    reasons: list[str]
    report_type: str | None
    received_at: datetime
    lang: str
    channel: str
    assigned_to: str | None
    fields: dict[str, Any]
    attachments: list[dict[str, Any]]
    consent: dict[str, Any]
    history: list[dict[str, Any]]
    notes: list[dict[str, Any]]
    actions: list[dict[str, Any]]
    readers: list[str]
    transitions: tuple[str, ...]
    deadline: datetime | None = None  # the earliest interim-measures deadline, if any
    # the conversation with the reporter: caseworkers' messages and the reporter's replies
    thread: list[dict[str, Any]] = field(default_factory=list)
    # what does not match what was sealed with the report (storage.cases.OpenedCase)
    integrity: list[str] = field(default_factory=list)
    # consents whose plaintext flag differs from the sealed records: shown as tampering
    consent_tampered: tuple[str, ...] = ()
    # the protected identity section: its field ids, whether this reader holds its key (the
    # values are then in `identity`), and this reader's requests to open it
    identity_fields: tuple[str, ...] = ()
    identity_open: bool = False
    identity: dict[str, Any] = field(default_factory=dict)
    identity_requests: list[dict[str, Any]] = field(default_factory=list)
    assess_by: datetime | None = None  # first assessment due (pending allegations only)
    caseworker_pref: str | None = None  # the reporter asked for a woman | man caseworker

    @property
    def identity_protected(self) -> tuple[str, ...]:
        return () if self.identity_open else self.identity_fields


# Delivery of a message to the reporter, as the outbox knows it: pending | sent | failed; a
# message the dashboard could not queue (no channel to write back through) is not_sent.
DELIVERY_STATES = ("pending", "sent", "failed", "not_sent", "unknown")

# A deadline this close is shown as "soon" (the alerts' default measure_reminder_days).
DEADLINE_SOON = timedelta(days=2)


def deadline_state(deadline: datetime, now: datetime) -> str:
    """overdue | soon | later: how a deadline is shown on the queue and the case."""
    deadline = _utc(deadline) or now
    if deadline <= now:
        return "overdue"
    return "soon" if deadline - now <= DEADLINE_SOON else "later"


class Dashboard:
    def __init__(
        self,
        db: Database,
        admin_public: bytes,
        objects: ObjectStore | Path,
        clock: Any = time.time,
        pepper: bytes | None = None,
        manifest_pin: Path | None = None,
        user_kdf: crypto.KdfParams = crypto.PRODUCTION_USER_KDF,
        home: Path | None = None,
    ) -> None:
        self.db = db
        # The home's oncall.yaml, for first-assessment deadlines (alerts/_assessment.py)
        self.oncall = alerts.ConfigSource(home) if home is not None else None
        # The intake service, for reports taken by caseworkers (web/take_report.py)
        self.intake: Any = None
        self.user_kdf = user_kdf  # for a passphrase changed on the dashboard
        self.manifest_pin = accounts.ManifestPin(manifest_pin) if manifest_pin else None
        self.pepper = pepper  # for the follow-up route key: writing back through the outbox
        self.admin_public = admin_public
        # Where the sealed files are (Settings.objects(); a folder means the local store).
        self.objects = LocalObjects(objects) if isinstance(objects, Path) else objects
        self._clock = clock

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC)

    def _assess_by(self, session: Any, rows: list[Case]) -> dict[str, datetime]:
        """When each pending allegation's first assessment is due, as the alerts count it."""
        pending = [c for c in rows if c.status == cases.INITIAL_STATUS]
        if self.oncall is None or not pending:
            return {}
        try:
            config = self.oncall.current()
        except Exception:  # no usable oncall.yaml: `sanad config check` says why
            return {}
        teams = alerts.teams_of(session, [c.id for c in pending])
        out = {}
        for c in pending:
            due = alerts.assess_by(config, c.priority, c.received_at, teams.get(c.id, ()))
            if due is not None:
                out[c.id] = due
        return out

    # ------------------------------------------------------------ login

    def login(self, name: str, passphrase: str, code: str) -> Principal:
        """Passphrase unlocks the private key, which opens the TOTP secret, which checks the
        code. Every attempt is audited; the message never says which part was wrong."""
        now = self.now()
        reason = "unknown user"
        with self.db.transaction() as session:
            user = accounts.get_user(session, name)
            principal = None
            if user is None:
                self._dummy_unlock(session, passphrase)
            else:
                reason = "wrong passphrase"
                try:
                    private = accounts.unlock(user, passphrase)
                    reason = "wrong code"
                    secret = casework.open_totp_secret(session, user, private)
                except crypto.CryptoError:
                    secret, private = None, None
                if (
                    secret
                    and private is not None
                    and self._check_code(session, user.id, secret, code)
                ):
                    principal = Principal(
                        user.id, user.name, user.role, bytes(user.key_id), private
                    )
            actor = user.name if user is not None else "-"
            if principal is not None:
                accounts.audit(session, actor, "login", None, "granted", now)
                return principal
            accounts.audit(session, actor, "login", None, "refused", now, reason=reason)
        raise LoginFailed("wrong user name, passphrase or code")

    @staticmethod
    def _dummy_unlock(session: Any, passphrase: str) -> None:
        """An unknown name costs the same Argon2id as a known one, so timing does not tell
        which names exist (finding 17): a real account's blob, tried under an id no account
        has (the AAD binds the id, so this can never unlock anything)."""
        blob = session.scalar(
            select(User.private_key_blob).order_by(User.created_at.desc()).limit(1)
        )
        if blob is None:
            return
        try:
            crypto.unlock_private_key(bytes(blob), passphrase, "no-such-user")
        except crypto.CryptoError:
            pass

    def _check_code(self, session: Any, user_id: str, secret: str, code: str) -> bool:
        """The code is right for this or a neighbouring step and that step is newer than the
        last one used: recorded in the database with a conditional update, so a code works
        once across restarts and workers (finding 16)."""
        code = "".join(ch for ch in code if ch.isdigit())
        totp = pyotp.TOTP(secret)
        now = self._clock()
        for drift in (0, -1, 1):
            at = now + drift * totp.interval
            step = int(at // totp.interval)
            if not totp.verify(code, for_time=int(at)):
                continue
            won = session.execute(
                update(User)
                .where(
                    User.id == user_id,
                    or_(User.totp_last_step.is_(None), User.totp_last_step < step),
                )
                .values(totp_last_step=step)
            )
            return bool(won.rowcount)
        return False

    def logout(self, who: Principal, reason: str = "logout") -> None:
        with self.db.transaction() as session:
            accounts.audit(session, who.name, "logout", None, "granted", self.now(), reason=reason)

    def active(self, who: Principal) -> bool:
        """The account still exists and is not disabled: asked on every dashboard request,
        so `sanad users disable` in another process ends its sessions at once."""
        with self.db.transaction() as session:
            return accounts.is_active(session, who.user_id)

    # ------------------------------------------------------------ helpers

    def _require(self, who: Principal, roles: Iterable[str], action: str) -> None:
        if who.role not in roles:
            with self.db.transaction() as session:
                accounts.audit(
                    session, who.name, action, None, "refused", self.now(), reason="role"
                )
            raise Forbidden(f"the role {who.role} may not do this")

    def _case_for(self, session: Any, who: Principal, ref: str, action: str) -> Case:
        """The case, if this account is a reader; otherwise refused (and audited) alike for
        unknown and inaccessible references, so guessing a URL learns nothing."""
        case = cases.by_ref(session, ref) if who.role in CASE_ROLES else None
        if case is None or not casework.has_access(session, case, who.key_id):
            raise Forbidden("no such case, or no access to it")
        return case

    def _refused(self, who: Principal, action: str, ref: str, reason: str) -> None:
        with self.db.transaction() as session:
            accounts.audit(
                session,
                who.name,
                action,
                ref.strip().upper()[:16],
                "refused",
                self.now(),
                reason=reason,
            )

    def _run(self, who: Principal, ref: str, action: str, body: Any, outcome: Any = None) -> Any:
        """Run body(session, case) in one transaction with the access check; audit the
        outcome (`outcome(result)` -> (outcome, detail) when the body can refuse)."""
        try:
            with self.db.transaction() as session:
                case = self._case_for(session, who, ref, action)
                result = body(session, case)
                if action in _CASEWORK or action.startswith("action."):
                    # the statistics row follows the case's status and steps (the report's)
                    stat_rows.refresh_casework(session, self.pepper, case)
                verdict, detail = outcome(result) if outcome else ("granted", {})
                accounts.audit(
                    session, who.name, action, case.case_ref, verdict, self.now(), **detail
                )
                if verdict == "granted":  # read or acted on: no longer "new" to them
                    self._seen(session, who, case)
                return result
        except Forbidden:
            self._refused(who, action, ref, "no access")
            raise
        except casework.CaseworkError as exc:
            self._refused(who, action, ref, exc.code)
            raise Refused(str(exc), exc.code) from exc

    def _seen(self, session: Any, who: Principal, case: Case) -> None:
        session.flush()  # the body's own change of updated_at is not news to its author
        casework.mark_seen(session, who.user_id, case.id, max(self.now(), as_utc(case.updated_at)))

    # ------------------------------------------------------------ queue

    def queue(
        self,
        who: Principal,
        status: str | None = None,
        report_type: str | None = None,
        priority: int | None = None,
        mine: bool = False,
        unassigned: bool = False,
        limit: int = 200,
    ) -> list[QueueRow]:
        return self.find(
            who,
            search.QueueQuery(
                status=status,
                report_type=report_type,
                priority=priority,
                mine=mine,
                unassigned=unassigned,
                page_size=limit,
            ),
            count=False,
        ).rows

    def find(self, who: Principal, q: search.QueueQuery, count: bool = True) -> QueuePage:
        """The queue filtered, searched (blind indexes: nothing is decrypted), sorted and
        paged, with the number of matching cases. The audit log records that a search ran,
        never its words."""
        self._require(who, CASE_ROLES, "queue")
        now = self.now()
        size = max(1, min(q.page_size, 500))
        with self.db.transaction() as session:
            total, more = -1, False
            if count:
                total = (
                    session.scalar(
                        select(func.count()).select_from(
                            search.where(select(Case.id), q, self.pepper, who.user_id, now)
                            .limit(COUNT_CAP + 1)
                            .subquery()
                        )
                    )
                    or 0
                )
                more = total > COUNT_CAP
                total = min(total, COUNT_CAP)
            pages = max(1, -(-total // size)) if total >= 0 else 1
            page = max(1, min(q.page, pages)) if total >= 0 else max(1, q.page)
            rows = queue_rows(
                session,
                q,
                self.pepper,
                now,
                QueueReader(who.user_id, who.key_id),
                (page - 1) * size,
                size,
                self._assess_by,
            )
            if q.q.strip() or q.country or q.region:
                accounts.audit(
                    session, who.name, "queue.search", None, "granted", now, results=str(total)
                )
            return QueuePage(rows, total, page, pages, size, more)

    def changes(self, who: Principal, q: search.QueueQuery, since: datetime) -> int:
        """How many cases of the queue `q` arrived or changed after `since` and were not
        opened by `who` since (the live queue's notice); counting stops at CHANGES_CAP.
        Nothing is decrypted and nothing audited: it reads what the queue page shows."""
        self._require(who, CASE_ROLES, "queue")
        with self.db.transaction() as session:
            changed = search.where(select(Case.id), q, self.pepper, who.user_id, self.now()).where(
                Case.updated_at > since, casework.not_seen_since_change(who.user_id)
            )
            return (
                session.scalar(
                    select(func.count()).select_from(changed.limit(CHANGES_CAP + 1).subquery())
                )
                or 0
            )

    def labels(self, who: Principal) -> list[str]:
        """Every label in use, for the queue's filter."""
        self._require(who, CASE_ROLES, "queue")
        with self.db.transaction() as session:
            return search.all_labels(session)

    def claim(self, who: Principal, ref: str) -> bool:
        self._require(who, CASE_ROLES, "case.claim")
        now = self.now()
        with self.db.transaction() as session:
            case = cases.by_ref(session, ref)
            if case is None or not casework.has_access(session, case, who.key_id):
                accounts.audit(
                    session,
                    who.name,
                    "case.claim",
                    ref.strip().upper()[:16],
                    "refused",
                    now,
                    reason="no access",
                )
                raise Forbidden("no such case, or no access to it")
            user = session.get(User, who.user_id)
            assert user is not None
            held = casework.held_for_gender(case, user, now)
            won = not held and casework.claim(session, case.id, user, now)
            if won:
                session.refresh(case)
                self._seen(session, who, case)
            accounts.audit(
                session,
                who.name,
                "case.claim",
                case.case_ref,
                "granted" if won else "refused",
                now,
                **(
                    {}
                    if won
                    else {"reason": "caseworker gender asked for" if held else "already claimed"}
                ),
            )
        if held:
            raise Refused(
                "the reporter asked for a caseworker of another gender; a supervisor can assign it",
                "held_for_gender",
            )
        return won

    def claim_next(self, who: Principal) -> str | None:
        """Claim the most urgent unassigned case this account can read; its reference."""
        self._require(who, CASE_ROLES, "case.claim")
        now = self.now()
        with self.db.transaction() as session:
            won = casework.claim_next_ref(session, who.user_id, who.name, who.key_id, now)
            if won is None:
                return None
            accounts.audit(session, who.name, "case.claim", won[1], "granted", now)
            return won[1]

    def release(self, who: Principal, ref: str, to: str | None = None) -> None:
        self._require(who, {"supervisor"}, "case.reassign")

        def body(session: Any, case: Case) -> None:
            target = None
            if to:
                target = accounts.get_user(session, to)
                if target is None or not casework.has_access(session, case, target.key_id):
                    raise casework.CaseworkError(
                        "bad_assignee", "that colleague has no access to the case"
                    )
            casework.release(session, case, who.name, self.now(), target)

        self._run(who, ref, "case.reassign" if to else "case.release", body)

    # ------------------------------------------------------------ the case

    def open_case(self, who: Principal, ref: str, action: str = "case.read") -> CaseView:
        """Decrypt a case for its reader (audited as `action`: case.read or case.export)."""

        def body(session: Any, case: Case) -> CaseView:
            reading = read_case(session, case, who.private_key, who.key_id)
            opened = reading.opened
            assigned = session.get(User, case.assigned_to) if case.assigned_to else None
            measures = [
                {
                    "kind": a.kind,
                    "outcome": a.outcome,
                    "actor": a.actor,
                    "at": _utc(a.at),
                    "deadline": _utc(a.deadline),
                    "reminded": a.reminded,
                    **a.detail,
                }
                for a in casework.actions(session, case)
            ]
            deadlines = [m["deadline"] for m in measures if m["deadline"] is not None]
            notes = casework.notes(session, case, who.private_key, who.key_id)
            thread = self._thread(session, case, notes, who, bool(opened.later_seqs))
            _delivery_of_write_backs(measures, thread)
            return CaseView(
                case.case_ref,
                case.status,
                case.priority,
                list(case.reasons),
                case.report_type,
                _utc(case.received_at) or self.now(),
                case.lang,
                case.channel,
                assigned.name if assigned else None,
                opened.fields,
                [
                    {
                        k: a.get(k)
                        for k in (
                            "id",
                            "name",
                            "size",
                            "sha256",
                            "content_type",
                            "field",
                            "referral",
                        )
                    }
                    for a in opened.attachments
                ],
                _current_consent(case, reading.sealed_consent),
                reading.history,
                [n for n in notes if n["kind"] != TO_REPORTER],
                measures,
                [u.name for u in casework.readers(session, case)],
                casework.TRANSITIONS.get(case.status, ()),
                min(deadlines, default=None),
                thread,
                list(opened.problems),
                reading.consent_tampered,
                opened.identity_fields,
                opened.identity_open,
                dict(opened.identity),
                [
                    r
                    for r in identity_store.requests_of_case(session, case)
                    if r["requester"] == who.name
                ],
                self._assess_by(session, [case]).get(case.id),
                case.caseworker_pref,
            )

        def outcome(view: CaseView) -> tuple[str, dict[str, Any]]:
            return "granted", ({"integrity": ",".join(view.integrity)} if view.integrity else {})

        try:
            return self._run(who, ref, action, body, outcome)  # type: ignore[no-any-return]
        except cases.Tampered as exc:
            self._refused(who, action, ref, "tampered")
            raise Tampered("the sealed content of this case was altered") from exc
        except crypto.CryptoError as exc:
            self._refused(who, action, ref, "does not decrypt")
            raise Forbidden("this case cannot be opened with your key") from exc

    def _thread(
        self,
        session: Any,
        case: Case,
        notes: list[dict[str, Any]],
        who: Principal,
        later: bool = True,
    ) -> list[dict[str, Any]]:
        """The conversation with the reporter, oldest first: each caseworker message with its
        delivery state (from the outbox), each reply the reporter sent back (decrypted here,
        with this account's key)."""
        from intake import followup as _followup
        from storage import OutboxMessage

        outbox = {
            m.id: m
            for m in session.scalars(select(OutboxMessage).where(OutboxMessage.case_id == case.id))
        }
        queued: dict[tuple[datetime | None, str | None], str] = {}
        sent_at: dict[str, datetime | None] = {}
        for event in session.scalars(
            select(CaseEvent)
            .where(CaseEvent.case_id == case.id, CaseEvent.kind.in_(("reply_queued", "reply_sent")))
            .order_by(CaseEvent.id)
        ):
            message = str(event.detail.get("message", ""))
            if event.kind == "reply_queued":
                queued.setdefault((_utc(event.at), event.actor), message)
            else:
                sent_at[message] = _utc(event.at)

        def delivery(message: str | None) -> tuple[str, datetime | None]:
            row = outbox.get(message or "")
            if row is not None:
                return row.status, _utc(row.sent_at)
            if message and message in sent_at:
                return "sent", sent_at[message]
            return ("unknown", None) if message else ("not_sent", None)

        items: list[dict[str, Any]] = []
        shown: set[str] = set()
        for note in notes:
            if note["kind"] != TO_REPORTER:
                continue
            mid = note.get("message") or queued.get((_utc(note["at"]), note["author"]))
            state, delivered = delivery(mid)
            shown.add(mid or "")
            items.append(
                {
                    "from": "caseworker",
                    "author": note["author"],
                    "at": _utc(note["at"]),
                    "text": note["text"],
                    "file": None,
                    "state": state,
                    "delivered_at": delivered,
                }
            )
        for mid, row in outbox.items():  # written from the command line: no note
            if mid in shown or self.pepper is None:
                continue
            try:
                text = _followup.open_message(session, _followup.route_key(self.pepper), row)
            except crypto.CryptoError:
                continue
            items.append(
                {
                    "from": "caseworker",
                    "author": row.created_by,
                    "at": _utc(row.created_at),
                    "text": text,
                    "file": None,
                    "state": row.status,
                    "delivered_at": _utc(row.sent_at),
                }
            )
        # `later`: open_case found a later session's key; without one there is no addendum
        # (open_case refuses any sealed row of a session it has no key for), so its four
        # queries are skipped (issue 16: the case page's time)
        for added in cases.addenda(session, case, who.private_key, who.key_id) if later else ():
            items.append(
                {
                    "from": "reporter",
                    "author": None,
                    "at": _utc(added["at"]) or _utc(case.received_at),
                    "text": added.get("text"),
                    "file": added.get("file"),
                    "state": "received",
                    "delivered_at": None,
                }
            )
        items.sort(key=lambda i: i["at"] or self.now())
        return items

    def attachment(
        self, who: Principal, ref: str, attachment_id: str, reveal: bool = False
    ) -> tuple[bytes, str, str]:
        """Decrypt one file: (content, content type, name). `reveal` marks the caseworker's
        choice to see it (audited as attachment.reveal; the view itself as attachment.read)."""

        def body(session: Any, case: Case) -> tuple[bytes, str, str]:
            att = session.get(Attachment, attachment_id)
            if att is None or att.case_id != case.id:
                raise casework.CaseworkError("no_file", "no such file in this case")
            opened = cases.open_case(session, case, who.private_key, who.key_id)
            meta = next(a for a in opened.attachments if a["id"] == attachment_id)
            from storage import WrappedKey

            wrapped = session.scalar(
                select(WrappedKey).where(
                    WrappedKey.case_id == case.id,
                    WrappedKey.seq == att.seq,
                    WrappedKey.key_id == who.key_id,
                )
            )
            data_key = crypto.unwrap_key(wrapped.wrapped, case.id, who.private_key)
            out = io.BytesIO()
            with self.objects.reader(att.path) as src:  # streamed, piece by piece
                crypto.open_attachment(data_key, case.id, att.id, src, out)
            return out.getvalue(), str(meta.get("content_type") or ""), str(meta["name"])

        action = "attachment.reveal" if reveal else "attachment.read"
        try:
            return self._run(who, ref, action, body)  # type: ignore[no-any-return]
        except crypto.CryptoError as exc:  # a reader, yet the case or the file was altered
            self._refused(who, action, ref, "tampered")
            raise Tampered("the sealed content of this case was altered") from exc

    def add_note(self, who: Principal, ref: str, body_text: str) -> None:
        text = body_text.strip()
        if not text:
            raise Refused("an empty note", "empty_note")
        self._run(
            who,
            ref,
            "case.note",
            lambda s, c: casework.add_note(
                s, c, text[:20000], who.name, self.admin_public, self.now()
            ),
        )

    def change_status(self, who: Principal, ref: str, to: str, reason: str) -> None:
        def body(s: Any, c: Case) -> None:
            casework.change_status(s, c, to, reason, who.name, self.now())

        self._run(who, ref, "case.status", body)

    def override_priority(self, who: Principal, ref: str, priority: int, reason: str) -> None:
        def body(session: Any, case: Case) -> None:
            casework.override_priority(session, case, priority, reason, who.name, self.now())
            cases.reseal_priority(
                session, case, cases.report_key(session, case, who.private_key, who.key_id)
            )

        self._run(who, ref, "case.priority", body)

    def act(
        self,
        who: Principal,
        ref: str,
        kind: str,
        target: str | None = None,
        message: str | None = None,
        days: int | None = None,
    ) -> casework.ActionResult:
        """A consent-gated action; a refusal is recorded on the case and in the audit log.
        `days`: the State's time to respond to interim measures (default 7)."""
        now = self.now()
        if days is not None and not 1 <= days <= casework.INTERIM_MAX_DAYS:
            raise Refused("the deadline is 1 to 90 days", "bad_days")

        def body(session: Any, case: Case) -> casework.ActionResult:
            try:  # the gate reads the sealed consent records, never the plaintext flags alone
                opened = cases.open_case(session, case, who.private_key, who.key_id)
            except crypto.CryptoError as exc:
                raise Forbidden("this case cannot be opened with your key") from exc
            result = casework.record_action(
                session,
                case,
                kind,
                who.name,
                now,
                target,
                days,
                sealed=cases.sealed_consent(opened),
            )
            if result.done and kind == "write_back" and not (message or "").strip():
                # one conversation box: writing back is a message, never an empty "done"
                # (raised inside the transaction, so the action is not recorded either)
                raise casework.CaseworkError("empty_message", "an empty message")
            if result.done and kind == "write_back" and message and message.strip():
                write_to_reporter(
                    session,
                    self.pepper,
                    case,
                    message.strip()[:MAX_REPLY],
                    who.name,
                    now,
                    self.admin_public,
                )
            return result

        def outcome(result: casework.ActionResult) -> tuple[str, dict[str, Any]]:
            if result.done:
                return "granted", {}
            return "refused", {"reason": "no consent", "consent": result.consent_key}

        return self._run(
            who,
            ref,
            f"action.{kind}",
            body,  # type: ignore[no-any-return]
            outcome,
        )

    def state_response(self, who: Principal, ref: str, kind: str, answer: str) -> None:
        """Record what the State answered to the case's latest State-facing step (a code,
        never text); the periodic report counts it."""

        def body(session: Any, case: Case) -> None:
            try:  # only a reader of the case records on it
                cases.report_key(session, case, who.private_key, who.key_id)
            except crypto.CryptoError as exc:
                raise Forbidden("this case cannot be opened with your key") from exc
            casework.record_state_response(session, case, kind, answer, who.name, self.now())

        self._run(who, ref, "case.state_response", body)

    def grant(self, who: Principal, ref: str, colleague: str) -> None:
        def body(session: Any, case: Case) -> None:
            user = accounts.get_user(session, colleague)
            if user is None:
                raise casework.CaseworkError("no_user", "no such colleague")
            casework.grant(
                session,
                case,
                who.private_key,
                who.key_id,
                user,
                who.name,
                self.now(),
                self.admin_public,
                self.manifest_pin,
            )

        self._run(who, ref, "case.grant", body)

    def revoke(self, who: Principal, ref: str, colleague: str) -> None:
        def body(session: Any, case: Case) -> None:
            user = accounts.get_user(session, colleague)
            if user is None:
                raise casework.CaseworkError("no_user", "no such colleague")
            if ROLE_RANK.get(user.role, 0) > ROLE_RANK.get(who.role, 0):
                # review finding 19: a caseworker does not take a supervisor off a case
                raise casework.CaseworkError(
                    "revoke_senior", "only a supervisor can remove a supervisor"
                )
            casework.revoke(session, case, user, who.name, self.now())

        self._run(who, ref, "case.revoke", body)

    # ------------------------------------------------------------ protected identity

    def identity_request(self, who: Principal, ref: str, purpose: str) -> dict[str, Any]:
        """Ask a custodian to open the case's names and contact details (audited)."""
        self._require(who, CASE_ROLES, "identity.request")
        try:
            return cw_identity.request(self.db, who, ref, purpose)
        except cw_identity.IdentityRefused as exc:
            raise Refused(str(exc), exc.code) from exc

    def identity_pending(self, who: Principal) -> list[dict[str, Any]]:
        self._require(who, {accounts.CUSTODIAN}, "identity.list")
        return cw_identity.pending(self.db, who)

    def identity_decide(
        self, who: Principal, request_id: str, approve: bool, reason: str = ""
    ) -> dict[str, Any]:
        """A custodian approves (re-wraps the identity key to the requester) or refuses."""
        self._require(
            who, {accounts.CUSTODIAN}, "identity.approve" if approve else "identity.refuse"
        )
        try:
            if approve:
                return cw_identity.approve(
                    self.db, who, request_id, self.admin_public, self.manifest_pin
                )
            return cw_identity.refuse(self.db, who, request_id, reason)
        except cw_identity.IdentityRefused as exc:
            raise Refused(str(exc), exc.code) from exc

    def colleagues(self, who: Principal) -> list[str]:
        with self.db.transaction() as session:
            return [
                u.name
                for u in session.scalars(
                    select(User)
                    .where(User.role.in_(accounts.READS_REPORTS), User.disabled_at.is_(None))
                    .order_by(User.name)
                )
                if u.name != who.name
            ]

    # ------------------------------------------------------------ audit

    def audit_entries(self, who: Principal, limit: int = 200) -> list[dict[str, Any]]:
        self._require(who, AUDIT_ROLES, "audit.read")
        with self.db.transaction() as session:
            rows = accounts.audit_log(session, limit)
            accounts.audit(session, who.name, "audit.read", None, "granted", self.now())
            return [
                {
                    "id": r.id,
                    "at": _utc(r.at),
                    "actor": r.actor,
                    "action": r.action,
                    "case_ref": r.case_ref,
                    "outcome": r.outcome,
                    "reason": (r.detail or {}).get("reason"),
                }
                for r in rows
            ]

    def verify_audit(self, who: Principal) -> audit_chain.Verification:
        self._require(who, AUDIT_ROLES, "audit.verify")
        with self.db.transaction() as session:
            return audit_chain.verify(session)

    # ------------------------------------------------------------ statistics

    stats_threshold = stats_publish.DEFAULT_THRESHOLD  # operator setting: smallest shown count
    # seconds a view waits for new figures before it is given the last ones (with when they
    # were counted): the page stays under 200 ms while a large register is recounted
    stats_wait = 0.15
    _snapshot: tuple[int, Any] | None = None  # (threshold, caseworker.release.Snapshot)
    _rebuild: threading.Thread | None = None
    _rebuild_started = 0.0  # time.monotonic() when it started
    _rebuild_error: BaseException | None = None
    _seen_generation = 0  # the statistics rows' generation at the last stats_snapshot call
    _release_lock = threading.Lock()

    def stats_snapshot(self) -> Any:
        """The canonical statistics release and the casework counts of the same rows
        (caseworker.release.Snapshot), rebuilt in a background thread when the statistics
        rows changed (their generation counter): a view waits at most `stats_wait` seconds
        for it and is otherwise given the last figures, with when they were counted (the
        linear-programming audit can take minutes on a large register). Only the first view,
        or one after the threshold changed, waits for the build: figures of another threshold
        are never shown. The rows are counted in one short transaction; no database snapshot
        or connection is held while the release is built."""
        with self.db.transaction() as session:
            gen = stat_rows.generation(session)
        self._seen_generation = gen
        cached = self._snapshot
        usable = cached if cached is not None and cached[0] == self.stats_threshold else None
        if usable is not None and usable[1].generation == gen:
            return usable[1]
        with self._release_lock:
            worker = self._rebuild
            if worker is None or not worker.is_alive():
                self._rebuild_error = None
                worker = threading.Thread(
                    target=self._build_snapshot, daemon=True, name="sanad-stats-release"
                )
                self._rebuild, self._rebuild_started = worker, time.monotonic()
                worker.start()
        # waited for once: the views (and the several calls of one view) after stats_wait
        # of a long rebuild get the last figures at once
        worker.join(
            None
            if usable is None
            else max(0.0, self._rebuild_started + self.stats_wait - time.monotonic())
        )
        cached = self._snapshot
        if cached is not None and cached[0] == self.stats_threshold:
            return cached[1]
        if self._rebuild_error is not None:
            raise self._rebuild_error
        raise RuntimeError("the statistics could not be counted")  # pragma: no cover

    def _build_snapshot(self) -> None:
        from caseworker.release import Snapshot, build

        try:
            k = self.stats_threshold
            with self.db.transaction() as session:  # the generation and its counts together
                gen = stat_rows.generation(session)
                counted = stat_rows.tallies(session)
                casework = stat_rows.casework_tallies(session)
            at = self.now()
            if len(counted[0]) <= IN_PROCESS_PROFILES:
                release = build(*counted, k=k)
            else:  # seconds to minutes of Python: off this process, whose pages hold the GIL
                release = _release_process().submit(build, *counted, k=k).result()
            self._snapshot = (k, Snapshot(release, casework, gen, at))
        except BaseException as exc:  # the waiting view reports it; the next view retries
            log.error("statistics: the release could not be built (%s)", type(exc).__name__)
            if isinstance(exc, BrokenProcessPool):
                _release_process(reset=True)
            self._rebuild_error = exc

    def stats_release(self) -> Any:
        """The canonical statistics release (caseworker.release) of stats_snapshot."""
        return self.stats_snapshot().release

    def stats_counted(self, who: Principal) -> dict[str, Any]:
        """When the figures shown were counted, and whether newer ones are being counted."""
        self._require(who, STATS_ROLES, "stats.read")
        snap = self.stats_snapshot()
        return {"at": snap.counted_at, "updating": snap.generation != self._seen_generation}

    def statistics(
        self, who: Principal, first: str | None = None, last: str | None = None
    ) -> list[dict[str, Any]]:
        """Counts from the statistics rows of consented reports (storage.statistics) for the
        months first..last (YYYY-MM; default all), answered from the canonical release of
        caseworker.release: no case is opened, so every reader with a statistics role gets
        the same figures, and no range can be differenced against another. Nothing but
        counts leaves this function."""
        self._require(who, STATS_ROLES, "stats.read")
        release = self.stats_release()
        with self.db.transaction() as session:
            accounts.audit(
                session,
                who.name,
                "stats.read",
                None,
                "granted",
                self.now(),
                **({"period": f"{first or ''}/{last or ''}"} if first or last else {}),
            )
        published = release.range(first, last)
        label_prefix = {"report_type": "type.", "status": "status."}
        top = max(
            [r.raw for r in published if r.dimension != "total" and " × " not in r.dimension],
            default=0,
        )
        rows: list[dict[str, Any]] = []
        for row in published:
            dim, value = row.dimension, row.value
            rows.append(
                {
                    "dimension": dim,
                    "value": value,
                    "label_key": None
                    if dim in ("total", "month", "country") or " × " in dim
                    else label_prefix[dim] + value
                    if dim in label_prefix
                    else f"opt.{value}",
                    "count": row.count,
                    "bar": round(10 * row.raw / top)
                    if top and dim != "total" and " × " not in dim
                    else 0,
                }
            )
        return rows

    def stats_months(self, who: Principal) -> list[str]:
        """The months that have statistics (for the range picker)."""
        self._require(who, STATS_ROLES, "stats.read")
        return list(self.stats_release().months)


# A release of more single-choice profiles than this is built in a separate process (its
# linear programs are Python-heavy: in a thread they would slow every page of the server);
# a small one (a demo, a young register) in the thread, where starting a process would cost
# more than the build.
IN_PROCESS_PROFILES = 2000
_process: ProcessPoolExecutor | None = None
_process_lock = threading.Lock()


def _release_process(reset: bool = False) -> ProcessPoolExecutor:
    """The one worker process that builds large releases, started on first use ("spawn":
    the server's threads and connections are not copied into it)."""
    global _process
    with _process_lock:
        if reset and _process is not None:
            _process.shutdown(wait=False, cancel_futures=True)
            _process = None
        if _process is None:
            _process = ProcessPoolExecutor(
                max_workers=1, mp_context=multiprocessing.get_context("spawn")
            )
        return _process


def _delivery_of_write_backs(measures: list[dict[str, Any]], thread: list[dict[str, Any]]) -> None:
    """A "write back" action is shown with what became of its message (pending, delivered,
    not sent), never as a bare "done" while nothing was sent: its message is the caseworker's
    thread item written by the same person at the same moment."""
    by_moment = {(m["author"], m["at"]): m["state"] for m in thread if m["from"] == "caseworker"}
    for m in measures:
        if m["kind"] == "write_back" and m["outcome"] == "done":
            m["delivery"] = by_moment.get((m["actor"], m["at"]), "not_sent")


# the case actions after which its statistics row is refreshed (storage.statistics), with
# every `action.<kind>`
_CASEWORK = frozenset({"case.status", "case.state_response", "case.merge", "case.referral"})

CONTENT_DIMENSIONS = (
    "place_type",
    "perpetrator_type",
    "violation_types",
    "victim_gender",
    "victim_age_group",
    "victim_groups",
)


SMALL_CELL = 5


def _month(session: Any) -> Any:
    """`YYYY-MM` of the received time, computed by the database."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", Case.received_at), "YYYY-MM")
    return func.strftime("%Y-%m", Case.received_at)


def suppress(count: int) -> str:
    """Small-cell suppression: a published count below 5 could identify someone."""
    return "<5" if 0 < count < SMALL_CELL else str(count)
