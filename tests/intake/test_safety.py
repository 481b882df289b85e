"""Consent refused, quick exit, leave and resume, skipping, going back, urgent answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from intake.retention import purge_drafts
from intake.service import IntakeService
from storage.models import Case, Draft
from tests.support import Chat, Clock


def _count(service: IntakeService, model: type) -> int:
    with service.db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_refusing_storage_consent_ends_kindly_and_keeps_nothing(service: IntakeService) -> None:
    chat = Chat(service, lang="en")
    replies = chat.answer("consent_store", "no")
    assert replies and all(r.kind == "info" for r in replies)
    assert _count(service, Draft) == 0 and _count(service, Case) == 0
    # The next message starts afresh: no trace of the refused conversation.
    chat.say("hello")
    assert chat.question.field == "language"


def test_consent_to_storage_cannot_be_skipped(service: IntakeService) -> None:
    chat = Chat(service, lang="ar")
    replies = chat.say("/skip")
    assert chat.question.field == "consent_store"
    assert replies[0].kind == "info" and replies[0].lang == "ar"


def test_unsure_about_consent_gets_an_explanation_and_the_question_again(
    service: IntakeService,
) -> None:
    chat = Chat(service, lang="en")
    replies = chat.answer("consent_store", "I don't know")
    assert replies[0].kind == "info" and chat.question.field == "consent_store"


def test_quick_exit_erases_the_draft_and_its_files(service: IntakeService, tmp_path: Path) -> None:
    chat = Chat(service, lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "/skip"),
            ("consent_share_identity", "/skip"),
            ("consent_refer", "/skip"),
            ("consent_stats", "/skip"),
            ("consent_publish", "no"),
            ("report_type", "complaint"),
            ("reporter_role", "/skip"),
            ("current_danger", "/skip"),
            ("ongoing", "/skip"),
            ("incident_date", "/skip"),
            ("place_type", "/skip"),
            ("incident_location", "/skip"),
            ("country", "/skip"),
            ("perpetrator_type", "/skip"),
            ("perpetrator_description", "/skip"),
            ("violation_types", "/skip"),
            ("narrative", "/skip"),
            ("witnesses", "/skip"),
            ("injuries", "/skip"),
            ("psychological_symptoms", "/skip"),
            ("medical_exam", "/skip"),
        ]
    )
    doc = tmp_path / "doc.pdf"
    doc.write_bytes(b"%PDF-1.4 statement" * 100)
    chat.answer("evidence", f"/attach {doc}")
    assert _count(service, Draft) == 1
    assert list(service.settings.attachments_dir.rglob("*.sealed"))
    chat.say("/exit")
    assert _count(service, Draft) == 0
    assert not list(service.settings.attachments_dir.rglob("*.sealed"))


def test_quick_exit_in_words(service: IntakeService) -> None:
    chat = Chat(service, lang="ar")
    chat.answer("consent_store", "نعم")
    chat.say("خروج")
    assert _count(service, Draft) == 0


def test_leave_and_resume_continues_at_the_next_unanswered_question(service: IntakeService) -> None:
    chat = Chat(service, user="amal", lang="en")
    chat.run(
        [("consent_store", "yes"), ("consent_followup", "yes"), ("consent_share_identity", "no")]
    )
    assert chat.question.field == "consent_refer"
    later = Chat(service, user="amal")  # a new session, same user
    assert later.question.field == "resume"
    later.answer("resume", "yes")
    assert later.question.field == "consent_refer"
    other = Chat(service, user="somebody-else")
    assert other.question.field == "language"


def test_resume_declined_discards_and_starts_again(service: IntakeService) -> None:
    chat = Chat(service, user="amal", lang="en")
    chat.answer("consent_store", "yes")
    later = Chat(service, user="amal")
    later.answer("resume", "no")
    assert later.question.field == "language"


def test_back_returns_to_the_previous_question_and_the_new_answer_counts(
    service: IntakeService,
) -> None:
    chat = Chat(service, lang="en")
    chat.run([("consent_store", "yes"), ("consent_followup", "yes")])
    chat.say("/back")
    assert chat.question.field == "consent_followup"
    chat.say("back")
    assert chat.question.field == "consent_store"
    chat.say("/back")
    assert chat.question.field == "language"
    chat.say("/back")
    assert chat.question.field == "language"  # nothing before it: said kindly, asked again
    assert chat.replies[0].kind == "info"
    chat.say("en")
    chat.say("no")  # the new answer counts: refusing storage ends the conversation
    assert chat.replies[-1].kind == "info" and not [r for r in chat.replies if r.kind != "info"]


def test_invalid_answers_are_asked_again_kindly(service: IntakeService) -> None:
    chat = Chat(service, lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "yes"),
            ("consent_share_identity", "no"),
            ("consent_refer", "no"),
            ("consent_stats", "no"),
            ("consent_publish", "no"),
        ]
    )
    replies = chat.answer("report_type", "banana")
    assert replies[0].kind == "info" and "/skip" in replies[0].text
    assert chat.question.field == "report_type"
    replies = chat.answer("report_type", "9")
    assert chat.question.field == "report_type"


def test_danger_now_is_recognised_early_and_marks_the_case_urgent(service: IntakeService) -> None:
    chat = Chat(service, lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "yes"),
            ("consent_share_identity", "no"),
            ("consent_refer", "no"),
            ("consent_stats", "no"),
            ("consent_publish", "no"),
            ("report_type", "complaint"),
            ("reporter_role", "family"),
        ]
    )
    replies = chat.answer("current_danger", "yes")
    assert replies[0].kind == "info"  # the urgent guidance comes first
    assert chat.question.field == "urgent_path"
    chat.say("urgent_full")
    assert chat.question.field == "ongoing"


def test_expired_drafts_are_purged_for_real(service: IntakeService, clock: Clock) -> None:
    """Crypto property 8 (crypto-design.md)."""
    chat = Chat(service, lang="en")
    chat.answer("consent_store", "yes")
    assert _count(service, Draft) == 1
    clock.advance(service.settings.epoch_seconds * 2 + 10)
    removed, _ = purge_drafts(service)
    assert removed == 1 and _count(service, Draft) == 0
    # Coming back after that starts a new conversation.
    assert Chat(service, user="reporter-1").question.field == "language"


def test_same_platform_event_is_processed_once(service: IntakeService) -> None:
    from dataclasses import replace

    chat = Chat(service, lang="en")
    src = replace(chat.src, event_id="update-42")
    first = service.text(src, "yes")
    again = service.text(src, "yes")  # redelivered after a crash: the same answer, once stored
    assert first.replies and again.replies == first.replies
    assert chat.question.field == "consent_store"
    assert (
        service.text(replace(src, event_id="update-43"), "yes").replies[-1].field
        == "consent_share_identity"
    )


def test_a_receipt_is_shown_once_even_after_a_crash_before_sending(
    service: IntakeService, clock: Clock
) -> None:
    """Killed after the submission committed but before the receipt went out: the platform
    redelivers the update; the report exists once and the code is not kept to be shown again
    (review finding 1): the reporter is told a caseworker can issue a new one."""
    from dataclasses import replace

    from caseworker.cases import list_queue
    from intake.retention import purge_drafts

    chat = Chat(service, lang="en")
    chat.answer("consent_store", "yes")
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    src = replace(chat.src, event_id="update-99")
    first = service.text(src, "yes")
    again = service.text(src, "yes")
    assert [r.kind for r in first.replies].count("receipt") == 1
    assert all(r.kind != "receipt" for r in again.replies) and again.finished
    assert first.case_ref and again.case_ref == first.case_ref
    assert first.case_ref in again.replies[0].text
    assert len(list_queue(service.db)) == 1
    clock.advance(service.settings.epoch_seconds * 2 + 10)
    purge_drafts(service)  # the record of the event expires: the id is a new message then
    assert not service.text(src, "yes").replayed
    assert len(list_queue(service.db)) == 1


@pytest.mark.parametrize(
    ("lang", "words", "said"),
    [
        ("en", "someone is here, delete everything", "say it is urgent"),
        ("ar", "حدا جاي امسح كل شي", "قل إن الأمر عاجل"),
        ("ar", "rah jaw l police, m7i kolchi", "قل إن الأمر عاجل"),
    ],
)
def test_quick_exit_phrased_as_danger_erases_first(
    service: IntakeService, lang: str, words: str, said: str
) -> None:
    """Erase first, alarm second: no emergency guidance left on the screen before erasing;
    the erasure says how to reach the urgent questions when it is safe."""
    chat = Chat(service, user=f"exit-danger-{lang}-{len(words)}", lang=lang)
    chat.run([("consent_store", "yes"), ("consent_followup", "yes")])
    assert _count(service, Draft) == 1
    replies = chat.say(words)
    assert len(replies) == 1 and said in replies[0].text
    assert _count(service, Case) == 0  # nothing kept: the danger was only in these words
    # only a mark stays, for their next message (tests/intake/test_danger_exit_return.py)
    assert _kept_state(service, chat)["answers"] == {}


def _kept_state(service: IntakeService, chat: Chat) -> dict:
    from storage import drafts

    with service.db.transaction() as session:
        draft = drafts.load(
            session, service.keyring, service._handle(chat.src), int(service.clock())
        )
    assert draft is not None and draft.state is not None
    return dict(draft.state)
