"""Writing back to a reporter: only through their channel and only with consent_followup."""

from __future__ import annotations

from datetime import UTC, datetime

from caseworker.cases import AccessDenied, show_case
from intake import followup as _followup
from storage import accounts, cases
from storage.db import Database

MAX_REPLY = 3000


def queue_reply(db: Database, pepper: bytes, case_ref: str, username: str, passphrase: str,
                text: str, now: datetime | None = None,
                admin_public: bytes | None = None) -> str:
    """Queue a message for the running bot to deliver; refused without follow-up consent."""
    text = text.strip()
    if not text or len(text) > MAX_REPLY:
        raise AccessDenied(f"a reply is 1 to {MAX_REPLY} characters")
    shown = show_case(db, case_ref, username, passphrase)  # proves access (and is audited)
    now = now or datetime.now(UTC)
    sealed = shown["consent_sealed"]  # from the sealed records, not the plaintext flags
    with db.transaction() as session:
        case = cases.by_ref(session, case_ref)
        assert case is not None
        tampered = cases.consent_mismatch(case, sealed)
        if tampered:
            accounts.audit(session, username, "case.reply", case.case_ref, "refused", now,
                           reason="consent_tampered")
            raise AccessDenied(f"the consent flags of {case.case_ref} do not match its sealed "
                               f"records ({', '.join(tampered)}): tampering; nothing was sent")
        if sealed.get("consent_followup") != "yes":
            accounts.audit(session, username, "case.reply", case.case_ref, "refused", now,
                           reason="no consent_followup")
            raise AccessDenied(f"the reporter of {case.case_ref} did not consent to be "
                               "contacted (consent_followup); nothing was sent")
        message_id = _followup.queue_message(session, _followup.route_key(pepper), case, text,
                                             username, now)
        if message_id is None:
            accounts.audit(session, username, "case.reply", case.case_ref, "refused", now,
                           reason="no route")
            raise AccessDenied(f"{case.case_ref} came through a channel that cannot be "
                               "written back to; nothing was sent")
        if admin_public is not None:  # the case keeps the text once the outbox body goes
            from storage import casework

            casework.add_note(session, case, text, username, admin_public, now,
                              kind="to_reporter", message_id=message_id)
        accounts.audit(session, username, "case.reply", case.case_ref, "queued", now)
        return message_id
