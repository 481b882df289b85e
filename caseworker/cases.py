"""The reading side: the triage queue (no key needed) and opening a case (audited).

`queue_rows` and `read_case` are the one reading path: `sanad queue` / `sanad show` here and
the dashboard's queue and case page (caseworker.dashboard) call them, and differ only in
how they check who asks and how they say the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from core import RefusedError
from core import as_utc as _utc
from storage import Case, Database, User, WrappedKey, accounts, cases, casework, crypto, search

__all__ = [
    "TAKEN_SOURCES",
    "AccessDenied",
    "CaseReading",
    "CaseTampered",
    "QueueReader",
    "QueueRow",
    "identity_summary",
    "integrity_text",
    "list_queue",
    "queue_rows",
    "read_case",
    "reissue_receipt",
    "show_case",
    "tampering_message",
]


class AccessDenied(RefusedError):
    """Wrong passphrase, unknown case or user, or a user who is not a recipient."""


class CaseTampered(AccessDenied):
    """The user is a recipient, but the case's sealed content was altered (an integrity
    incident to report, not a missing permission)."""


def tampering_message(case_ref: str, problems: list[str] | None = None) -> str:
    """One line in English and Arabic, from the dashboard's catalogue."""
    from caseworker import i18n

    parts = []
    for lang in ("en", "ar"):
        t = i18n.Translator(lang)
        text = t("integrity.tampered", case_ref=case_ref)
        if problems:
            text += " " + "; ".join(integrity_text(t, p) for p in problems)
        parts.append(text)
    return " / ".join(parts)


def identity_summary(opened: cases.OpenedCase) -> dict[str, Any]:
    """What `sanad show` and the dashboard say about the protected identity section:
    `access` is `granted` (a custodian approved, or this is a custodian's copy), `protected`
    (ask a custodian: `sanad identity request`) or `none` (the case has no such section)."""
    access = (
        "none"
        if not opened.identity_fields and not opened.identity_open
        else "granted"
        if opened.identity_open
        else "protected"
    )
    return {
        "access": access,
        "fields": list(opened.identity_fields),
        "protected": list(opened.identity_protected),
    }


def integrity_text(t: Any, problem: str) -> str:
    kind, _, field = problem.partition(":")
    return str(t(f"integrity.{kind}", field=field))


# Reports taken by caseworkers come in on these "channels" (web/take_report.py offers them)
TAKEN_SOURCES = ("in_person", "phone", "letter", "detention_visit")


@dataclass(frozen=True)
class QueueRow:
    """One case of the triage queue, as `sanad queue` and the dashboard's queue both read it
    (`queue_rows`); the fields after `incomplete` are filled for a reader (`QueueReader`)."""

    case_ref: str
    status: str
    priority: int
    report_type: str | None
    received_at: datetime
    reasons: tuple[str, ...]
    channel: str
    incomplete: bool = False
    assigned_to: str | None = None
    deadline: datetime | None = None
    readable: bool = False
    labels: tuple[str, ...] = ()
    assess_by: datetime | None = None  # first assessment due (pending allegations only)
    caseworker_pref: str | None = None  # the reporter asked for a woman | man caseworker
    unseen: bool = False  # arrived or changed since this caseworker last opened it

    @property
    def source(self) -> str | None:
        """Taken by a caseworker: in_person | phone | letter | detention_visit."""
        return self.channel if self.channel in TAKEN_SOURCES else None

    def to_json(self) -> dict[str, Any]:
        """The machine form of `sanad queue --json` (docs/interfaces.md): codes, unchanged."""
        return {
            "case_ref": self.case_ref,
            "status": self.status,
            "priority": self.priority,
            "report_type": self.report_type,
            "received_at": self.received_at.isoformat(),
            "reasons": list(self.reasons),
            "channel": self.channel,
            "incomplete": self.incomplete,
        }


@dataclass(frozen=True)
class QueueReader:
    """Who reads the queue, for the per-reader columns (can open it, new to them)."""

    user_id: str
    key_id: bytes


def queue_rows(
    session: Any,
    q: search.QueueQuery,
    pepper: bytes | None,
    now: datetime,
    reader: QueueReader | None = None,
    offset: int = 0,
    limit: int | None = None,
    assess: Callable[[Any, list[Case]], dict[str, datetime]] | None = None,
) -> list[QueueRow]:
    """The queue `q` (filtered, searched through blind indexes, sorted; nothing decrypted):
    the one reading of the queue behind `sanad queue` and the dashboard's queue page. Without
    a reader only the case's own columns are read (`sanad queue`)."""
    query = search.ordered(
        search.where(select(Case), q, pepper, reader.user_id if reader else "", now), q
    )
    if offset:
        query = query.offset(offset)
    if limit is not None:
        query = query.limit(limit)
    rows = list(session.scalars(query))
    if reader is None:
        return [
            QueueRow(
                c.case_ref,
                c.status,
                c.priority,
                c.report_type,
                _utc(c.received_at),
                tuple(c.reasons),
                c.channel,
                c.incomplete,
            )
            for c in rows
        ]
    ids = [c.id for c in rows]
    names = dict(
        session.execute(
            select(User.id, User.name).where(
                User.id.in_({c.assigned_to for c in rows if c.assigned_to})
            )
        ).all()
    )
    deadlines = casework.open_deadlines(session, ids)
    labels = search.labels_of(session, ids)
    readable = set(
        session.scalars(
            select(WrappedKey.case_id).where(
                WrappedKey.case_id.in_(ids), WrappedKey.key_id == reader.key_id
            )
        )
    )
    due = assess(session, rows) if assess is not None else {}
    unseen = casework.unseen(session, reader.user_id, rows, now)
    return [
        QueueRow(
            c.case_ref,
            c.status,
            c.priority,
            c.report_type,
            _utc(c.received_at),
            tuple(c.reasons),
            c.channel,
            c.incomplete,
            names.get(c.assigned_to) if c.assigned_to else None,
            _utc(deadlines[c.id]) if c.id in deadlines else None,
            c.id in readable,
            tuple(labels.get(c.id, ())),
            due.get(c.id),
            c.caseworker_pref,
            c.id in readable and c.id in unseen,
        )
        for c in rows
    ]


def list_queue(db: Database) -> list[QueueRow]:
    """`sanad queue`: the whole queue, most urgent first, then oldest (the dashboard's
    default order); decrypts nothing."""
    with db.transaction() as session:
        return queue_rows(session, search.QueueQuery(), None, datetime.now(UTC))


@dataclass(frozen=True)
class CaseReading:
    """One case opened for one reader: what `sanad show` and the dashboard's case page both
    read (`read_case`)."""

    opened: cases.OpenedCase
    sealed_consent: dict[str, str]  # the consents as the sealed records have them now
    consent_tampered: tuple[str, ...]  # plaintext flags that differ from them
    history: list[dict[str, Any]]


def read_case(session: Any, case: Case, private: Any, key_id: bytes) -> CaseReading:
    """Decrypt `case` with a reader's key (raises storage's `Tampered` / `CryptoError`, which
    each edge says in its own words) and read what both views show of it."""
    opened = cases.open_case(session, case, private, key_id)
    sealed = cases.sealed_consent(opened)
    return CaseReading(
        opened, sealed, tuple(cases.consent_mismatch(case, sealed)), cases.history(session, case)
    )


def show_case(db: Database, case_ref: str, username: str, passphrase: str) -> dict[str, Any]:
    """Decrypt one case for a caseworker; every attempt, granted or refused, is audited."""
    now = datetime.now(UTC)
    outcome, reason = "refused", "unknown user"
    try:
        with db.transaction() as session:
            user = accounts.get_user(session, username)
            case = cases.by_ref(session, case_ref)
            if user is None:
                if accounts.any_user(session, username) is not None:
                    reason = "disabled"
                    raise AccessDenied(f"the account '{username}' is disabled")
                raise AccessDenied(f"unknown user '{username}'")
            if case is None:
                reason = "unknown case"
                raise AccessDenied(f"no case with reference '{case_ref}'")
            try:
                private = accounts.unlock(user, passphrase)
            except crypto.CryptoError as exc:
                reason = "wrong passphrase"
                raise AccessDenied(f"wrong passphrase for '{username}'") from exc
            try:
                reading = read_case(session, case, private, user.key_id)
            except cases.Tampered as exc:
                reason = "tampered"
                raise CaseTampered(tampering_message(case.case_ref)) from exc
            except crypto.CryptoError as exc:
                reason = "no access"
                raise AccessDenied(f"'{username}' has no access to case {case.case_ref}") from exc
            opened = reading.opened
            result = {
                "case_ref": case.case_ref,
                "status": case.status,
                "priority": case.priority,
                "reasons": list(case.reasons),
                "report_type": case.report_type,
                "received_at": _utc(case.received_at).isoformat(),
                "channel": case.channel,
                "lang": case.lang,
                "flow_version": case.flow_version,
                # identity fields (names, contact details) only once a custodian approved
                "fields": {**opened.fields, **opened.identity},
                "identity": identity_summary(opened),
                "attachments": [
                    {
                        "name": a["name"],
                        "size": a["size"],
                        "sha256": a["sha256"],
                        "content_type": a.get("content_type"),
                        "field": a.get("field"),
                    }
                    for a in opened.attachments
                ],
                "consent": case.consent,
                # the consents as the sealed records have them now (changes with the receipt
                # included), and those whose plaintext flag says otherwise (tampering)
                "consent_sealed": reading.sealed_consent,
                "consent_tampered": list(reading.consent_tampered),
                "history": reading.history,
                "integrity": list(opened.problems),  # empty unless the case was tampered with
            }
            accounts.audit(
                session,
                username,
                "case.read",
                case.case_ref,
                "granted",
                now,
                **({"integrity": ",".join(opened.problems)} if opened.problems else {}),
            )
            outcome = "granted"
            return result
    finally:
        if outcome != "granted":
            with db.transaction() as session:
                accounts.audit(
                    session,
                    username,
                    "case.read",
                    case_ref.strip().upper()[:16],
                    outcome,
                    now,
                    reason=reason,
                )


def reissue_receipt(
    db: Database, case_ref: str, username: str, passphrase: str, params: crypto.KdfParams
) -> str:
    """A new receipt for a reporter who lost theirs (it is shown once and never replayed).

    Only a caseworker who can open the case may do it; the old code stops working at once,
    the new one is returned once and never stored (only its handle and Argon2id verifier),
    and the re-issue is in the case's history and the audit log. Give it to the reporter
    through a safe way (`sanad reply`, in person), never by e-mail or SMS.
    """
    show_case(db, case_ref, username, passphrase)  # access checked, tampering reported, audited
    receipt = crypto.new_receipt(params)
    now = datetime.now(UTC)
    with db.transaction() as session:
        case = cases.by_ref(session, case_ref)
        if case is None:
            raise AccessDenied(f"no case with reference '{case_ref}'")
        case.receipt_handle, case.receipt_verifier = receipt.handle, receipt.verifier
        cases.record_event(session, case.id, "receipt_reissued", now, by=username)
        accounts.audit(session, username, "receipt.reissue", case.case_ref, "granted", now)
    return receipt.code
