"""Changing one consent later with the receipt, and the gate of every consent-gated action
reading the sealed consent records (not the plaintext flags a database writer can flip)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from caseworker.cases import AccessDenied
from caseworker.followup import queue_reply
from intake.service import IntakeService
from storage import accounts, cases, casework
from storage.models import Case, CaseField, CaseRoute
from tests.support import PASSPHRASE, Chat, open_report

OPENING = [
    ("consent_store", "yes"),
    ("consent_followup", "yes"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "yes"),
    ("consent_publish", "no"),
    ("report_type", "complaint"),
    ("reporter_role", "victim"),
    ("reporter_is_child", "no"),
    ("current_danger", "no"),
]


def _report(service: IntakeService, user: str) -> tuple[str, str]:
    chat = Chat(service, user=user, lang="en", open_now=False)
    chat.src = replace(chat.src, route=f"chat-{user}")
    chat.replies = service.open(chat.src, "en").replies
    chat.run(OPENING)
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.say("yes")
    receipt = next(r for r in chat.replies if r.kind == "receipt")
    return receipt.extra["case_ref"], receipt.extra["receipt"]


def _act(service: IntakeService, case_ref: str, kind: str) -> bool:
    """A consent-gated action as the dashboard takes it: the case opened with the key."""
    with service.db.transaction() as session:
        user = accounts.get_user(session, "demo")
        case = cases.by_ref(session, case_ref)
        assert user is not None and case is not None
        opened = cases.open_case(session, case, accounts.unlock(user, PASSPHRASE), user.key_id)
        return casework.record_action(
            session, case, kind, "demo", datetime.now(UTC), sealed=cases.sealed_consent(opened)
        ).done


def _change(
    service: IntakeService, code: str, consent: str, answer: str, user: str = "same-person"
) -> Chat:
    chat = Chat(service, user=user, open_now=False)
    chat.say(code)
    options = dict(chat.question.options)
    assert chat.question.field == "addendum" and "consents" in options
    chat.say(str(list(options).index("consents") + 1))  # the option number
    assert chat.question.field == "consent_change"
    chat.say(str([i for i, _ in chat.question.options].index(consent) + 1))
    assert chat.question.field == consent and chat.question.kind == "bool"
    chat.say(answer)
    return chat


def test_a_reporter_sees_their_consents_and_grants_one_later(service: IntakeService) -> None:
    case_ref, code = _report(service, "amal")
    assert not _act(service, case_ref, "refer")  # refused: no consent to refer

    chat = Chat(service, user="amal-again", open_now=False)
    chat.say(code)
    chat.say("3")  # See or change my consents
    listing = chat.question.text
    assert "May be referred to other bodies: not given" in listing
    assert "Contact back through this chat: given" in listing
    assert "Keep the report" not in dict(chat.question.options).values()  # that is withdrawal
    chat.say(str([i for i, _ in chat.question.options].index("consent_refer") + 1))
    assert "Now: not given." in chat.question.text
    chat.say("yes")
    said = " ".join(r.text for r in chat.replies)
    assert "Recorded: May be referred to other bodies: given" in said
    assert "May be referred to other bodies: given" in chat.question.text  # the list again
    chat.say("done")
    chat.say("done")
    assert chat.outcome.finished

    shown = open_report(service, case_ref)
    assert shown["consent_sealed"]["consent_refer"] == "yes"
    assert shown["consent"]["consent_refer"]["lang"] == "en"
    assert shown["consent"]["consent_refer"]["text"] == "consent.refer"
    change = next(h for h in shown["history"] if h["kind"] == "consent_changed")
    assert (change["consent"], change["value"]) == ("consent_refer", "yes")
    assert shown["consent_tampered"] == []
    assert _act(service, case_ref, "refer")  # the gate reads the new version
    with service.db.transaction() as session:  # and the change is in the audit chain
        from storage import accounts, audit_chain

        entries = [e for e in accounts.audit_log(session) if e.action == "consent_changed"]
        assert [(e.actor, e.case_ref) for e in entries] == [("reporter", case_ref)]
        assert audit_chain.verify(session).ok


def test_withdrawing_follow_up_consent_stops_writing_back(service: IntakeService) -> None:
    case_ref, code = _report(service, "rami")
    queue_reply(service.db, service._pepper, case_ref, "demo", PASSPHRASE, "Are you safe?")
    _change(service, code, "consent_followup", "no")
    with service.db.transaction() as session:
        case = cases.by_ref(session, case_ref)
        assert case is not None and session.get(CaseRoute, case.id) is None
    with pytest.raises(AccessDenied, match="did not consent"):
        queue_reply(service.db, service._pepper, case_ref, "demo", PASSPHRASE, "Hello?")
    assert not _act(service, case_ref, "write_back")


def test_a_refused_reply_stays_in_the_audit_log(service: IntakeService) -> None:
    """A refusal was audited inside the transaction its own error rolled back, so the log
    never kept it (every access, granted or refused, is logged: domain principle 6)."""
    case_ref, code = _report(service, "rula")
    _change(service, code, "consent_followup", "no")
    with pytest.raises(AccessDenied, match="did not consent"):
        queue_reply(service.db, service._pepper, case_ref, "demo", PASSPHRASE, "Hello?")
    with service.db.transaction() as session:
        refused = [
            (e.case_ref, e.outcome, (e.detail or {}).get("reason"))
            for e in accounts.audit_log(session)
            if e.action == "case.reply"
        ]
    assert refused == [(case_ref, "refused", "no consent_followup")]


def test_publish_needs_its_own_consent_not_the_statistics_one(service: IntakeService) -> None:
    case_ref, code = _report(service, "hoda")  # statistics yes, publication no
    assert not _act(service, case_ref, "publish")
    _change(service, code, "consent_publish", "yes")
    assert _act(service, case_ref, "publish")


def test_a_flipped_plaintext_consent_is_refused_as_tampering(service: IntakeService) -> None:
    case_ref, _ = _report(service, "nour")  # identity: no
    with service.db.transaction() as session:  # a database writer flips the flag
        case = cases.by_ref(session, case_ref)
        assert case is not None
        case.consent = {**case.consent, "consent_share_identity": {"value": "yes"}}
    with pytest.raises(casework.CaseworkError) as refused:
        _act(service, case_ref, "raise_with_state")
    assert refused.value.code == "consent_tampered"
    assert open_report(service, case_ref)["consent_tampered"] == ["consent_share_identity"]


def test_a_flipped_follow_up_flag_does_not_open_the_way_back(service: IntakeService) -> None:
    case_ref, code = _report(service, "sami")
    _change(service, code, "consent_followup", "no")
    with service.db.transaction() as session:  # flip the withdrawal back in plaintext
        case = cases.by_ref(session, case_ref)
        assert case is not None
        case.consent = {**case.consent, "consent_followup": {"value": "yes"}}
    with pytest.raises(AccessDenied, match="tampering"):
        queue_reply(service.db, service._pepper, case_ref, "demo", PASSPHRASE, "Hello?")


def test_the_change_is_sealed_and_the_intake_keeps_no_way_to_read_it(
    service: IntakeService,
) -> None:
    case_ref, code = _report(service, "lina")
    _change(service, code, "consent_refer", "yes").say("/exit")
    with service.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == case_ref))
        assert case is not None
        rows = list(
            session.scalars(
                select(CaseField).where(
                    CaseField.case_id == case.id, CaseField.field_id.startswith("consent_change.")
                )
            )
        )
        assert len(rows) == 1 and rows[0].seq > 0
        assert b"consent_refer" not in rows[0].sealed and b"yes" not in rows[0].sealed
    # Only a recipient's key opens it: the record is read through the caseworker's key.
    assert open_report(service, case_ref)["consent_sealed"]["consent_refer"] == "yes"


def test_exit_after_sending_says_the_report_is_kept_and_how_to_withdraw(
    service: IntakeService,
) -> None:
    case_ref, _ = _report(service, "maya")
    chat = Chat(service, user="maya", open_now=False)
    said = " ".join(r.text for r in chat.say("/exit"))
    assert "erased" not in said
    assert "stays with our caseworkers" in said and "Withdraw my report" in said
    with service.db.transaction() as session:
        assert cases.by_ref(session, case_ref) is not None  # still in the queue


def test_sanad_show_lists_current_consents_and_the_change_in_history(
    service: IntakeService,
) -> None:
    from cli._caseworker import _readable

    case_ref, code = _report(service, "rana")
    _change(service, code, "consent_refer", "yes")
    shown = _readable(open_report(service, case_ref), "en")
    assert "  May be referred to other bodies: given" in shown
    assert (
        "The reporter changed a consent (with the receipt): May be referred to other bodies"
        " -> given"
    ) in shown
