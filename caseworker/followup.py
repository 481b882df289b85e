"""Writing back to a reporter: only through their channel and only with consent_followup.

`write_to_reporter` is the one way a caseworker's message reaches the outbox: `sanad reply`
(`queue_reply`) and the dashboard's "write back" action (caseworker.dashboard) both call it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from caseworker.cases import AccessDenied, show_case
from intake import followup as _followup
from storage import Case, Database, accounts, cases, casework

__all__ = ["MAX_REPLY", "TO_REPORTER", "queue_reply", "write_to_reporter"]

MAX_REPLY = 3000
TO_REPORTER = "to_reporter"  # the note kind that keeps a message written to the reporter


def write_to_reporter(
    session: Any,
    pepper: bytes | None,
    case: Case,
    text: str,
    author: str,
    now: datetime,
    admin_public: bytes | None,
) -> str | None:
    """Queue `text` for the reporter's channel (the outbox; None when the case came through
    a channel that cannot be written back to, or no pepper was given) and keep it with the
    case as a `to_reporter` note sealed to the organisation (once the outbox body goes, the
    case still has it). The caller has checked the reader and the consent."""
    message_id = None
    if pepper is not None:
        message_id = _followup.queue_message(
            session, _followup.route_key(pepper), case, text, author, now
        )
    if admin_public is not None:
        casework.add_note(
            session, case, text, author, admin_public, now, kind=TO_REPORTER, message_id=message_id
        )
    return message_id


def queue_reply(
    db: Database,
    pepper: bytes,
    case_ref: str,
    username: str,
    passphrase: str,
    text: str,
    now: datetime | None = None,
    admin_public: bytes | None = None,
) -> str:
    """Queue a message for the running bot to deliver; refused without follow-up consent."""
    text = text.strip()
    if not text or len(text) > MAX_REPLY:
        raise AccessDenied(f"a reply is 1 to {MAX_REPLY} characters")
    shown = show_case(db, case_ref, username, passphrase)  # proves access (and is audited)
    now = now or datetime.now(UTC)
    sealed = shown["consent_sealed"]  # from the sealed records, not the plaintext flags
    try:
        with db.transaction() as session:
            case = cases.by_ref(session, case_ref)
            assert case is not None
            tampered = cases.consent_mismatch(case, sealed)
            if tampered:
                raise _Refusal(
                    case.case_ref,
                    "consent_tampered",
                    f"the consent flags of {case.case_ref} do not match its sealed "
                    f"records ({', '.join(tampered)}): tampering; nothing was sent",
                )
            if sealed.get("consent_followup") != "yes":
                raise _Refusal(
                    case.case_ref,
                    "no consent_followup",
                    f"the reporter of {case.case_ref} did not consent to be "
                    "contacted (consent_followup); nothing was sent",
                )
            message_id = write_to_reporter(session, pepper, case, text, username, now, admin_public)
            if message_id is None:  # rolled back: no note of a message that went nowhere
                raise _Refusal(
                    case.case_ref,
                    "no route",
                    f"{case.case_ref} came through a channel that cannot be "
                    "written back to; nothing was sent",
                )
            accounts.audit(session, username, "case.reply", case.case_ref, "queued", now)
            return message_id
    except _Refusal as refusal:
        # the refusal is audited in a transaction of its own: the one above is rolled back
        with db.transaction() as session:
            accounts.audit(
                session,
                username,
                "case.reply",
                refusal.case_ref,
                "refused",
                now,
                reason=refusal.reason,
            )
        raise AccessDenied(str(refusal)) from None


class _Refusal(Exception):
    def __init__(self, case_ref: str, reason: str, message: str) -> None:
        super().__init__(message)
        self.case_ref, self.reason = case_ref, reason
