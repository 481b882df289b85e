"""Option numbers decide, whatever the language model makes of a digit (walkthrough B1).

Signal and the console show "1. Yes / 2. No", so a number is the normal way to answer there.
These conversations run on the shipped default backend, the built-in model as `sanad init`
prepares it, because that is where "2" used to come out as `affirm`.
"""

from __future__ import annotations

import pytest

from intake.service import IntakeService
from nlu import HybridInterpreter
from tests.support import Chat, open_report


@pytest.fixture
def shipped_service(service: IntakeService) -> IntakeService:
    return service  # tests.support builds every service on the shipped default backend


def _skip_to(chat: Chat, field: str) -> None:
    while chat.question.field != field:
        chat.say("/skip")


def _to_first_consent(chat: Chat, lang: str) -> None:
    chat.answer("language", "2" if lang == "en" else "1")


@pytest.mark.parametrize(
    "lang,no,yes", [("en", "2", "1"), ("ar", "٢", "١"), ("en", "2.", "1."), ("ar", "٢.", "١.")]
)
def test_number_two_is_no_on_every_consent(
    shipped_service: IntakeService, lang: str, no: str, yes: str
) -> None:
    chat = Chat(shipped_service, user=f"numbers-{lang}-{len(no)}")
    assert [o[0] for o in chat.question.options][:2] == ["ar", "en"]
    _to_first_consent(chat, lang)
    assert chat.question.lang == lang
    chat.answer("consent_store", yes)
    for field in (
        "consent_followup",
        "consent_share_identity",
        "consent_refer",
        "consent_stats",
        "consent_publish",
    ):
        chat.answer(field, no)
    fields = [r.field for r in chat.replies]
    assert "report_type" in fields
    chat.answer("report_type", "1")
    chat.answer("reporter_role", "1")
    chat.answer("reporter_is_child", no)
    chat.answer("current_danger", no)
    assert chat.question.field != "urgent_path", "No to 'someone in danger now' raised the alarm"
    _skip_to(chat, "confirm_submit")
    chat.answer("confirm_submit", no)
    assert chat.outcome.case_ref is None, "'2' (No) to 'Send this report now?' submitted it"
    assert chat.question.field == "after_review"
    chat.say("1")  # edit: one step back
    assert chat.question.field != "confirm_submit"
    _skip_to(chat, "confirm_submit")
    chat.answer("confirm_submit", yes)
    case_ref = chat.outcome.case_ref
    assert case_ref
    report = open_report(shipped_service, case_ref)
    assert {
        k: report["fields"][k]
        for k in (
            "consent_store",
            "consent_followup",
            "consent_share_identity",
            "consent_refer",
            "consent_stats",
            "consent_publish",
            "current_danger",
        )
    } == {
        "consent_store": "yes",
        "consent_followup": "no",
        "consent_share_identity": "no",
        "consent_refer": "no",
        "consent_stats": "no",
        "consent_publish": "no",
        "current_danger": "no",
    }


@pytest.mark.parametrize("no", ["2", "٢"])
def test_number_two_to_keep_the_report_ends_without_storing(
    shipped_service: IntakeService, no: str
) -> None:
    chat = Chat(shipped_service, user=f"store-no-{no}")
    chat.answer("language", "2")
    chat.answer("consent_store", no)
    assert chat.outcome.finished
    assert "consent_followup" not in [r.field for r in chat.replies]


def test_out_of_range_number_is_asked_again(shipped_service: IntakeService) -> None:
    chat = Chat(shipped_service, user="range")
    chat.answer("language", "2")
    chat.answer("consent_store", "1")
    chat.answer("consent_followup", "7")
    assert chat.question.field == "consent_followup"
    chat.answer("consent_followup", "٥")
    assert chat.question.field == "consent_followup"


def test_bare_number_is_never_an_intent(shipped_nlu: HybridInterpreter) -> None:
    for text in ("2", "٢", "4", "5", "2.", "1, 3", "٣"):
        assert shipped_nlu.interpret(text, expecting="bool").intent == "nlu_fallback", text
        assert shipped_nlu.interpret(text).intent == "nlu_fallback", text


@pytest.mark.parametrize(
    "lang,answer",
    [
        ("en", "only if I agree first"),
        ("en", "yes but only if I agree first"),
        ("ar", "نعم بس بشرط"),
        ("ar", "اه بس لازم تسألني قبل"),
        ("ar", "ok bas b shart"),
        ("ar", "ah wakha ila bghit"),
        ("ar", "إي بس إذا حكيتو معي أول"),
    ],
)
def test_a_condition_on_a_consent_is_recorded_as_not_given(
    shipped_service: IntakeService, lang: str, answer: str
) -> None:
    """Walkthrough M1: "only if I agree first" to "May we refer your case?" was stored as Yes."""
    chat = Chat(shipped_service, user=f"hedge-{abs(hash(answer))}")
    chat.answer("language", "en" if lang == "en" else "ar")
    chat.answer("consent_store", "yes")
    chat.answer("consent_followup", "yes")
    chat.answer("consent_share_identity", "no")
    told = chat.answer("consent_refer", answer)
    expected = shipped_service.flows.text(lang, "sys.consent_conditional")
    assert expected in [r.text for r in told], "the reporter is not told what was recorded"
    assert chat.question.field == "consent_stats"
    chat.answer("consent_stats", "yes")
    chat.answer("consent_publish", "no")
    chat.answer("report_type", "complaint")
    _skip_to(chat, "confirm_submit")
    chat.answer("confirm_submit", "yes")
    report = open_report(shipped_service, chat.outcome.case_ref or "")
    assert report["fields"]["consent_refer"] == "no"
    assert report["consent"]["consent_refer"]["value"] == "no"


def test_a_condition_on_keeping_the_report_asks_again_plainly(
    shipped_service: IntakeService,
) -> None:
    chat = Chat(shipped_service, user="hedge-store")
    chat.answer("language", "en")
    chat.answer("consent_store", "yes, but only if you ask me first")
    assert chat.question.field == "consent_store"
    assert not chat.outcome.finished
    chat.answer("consent_store", "1")
    assert chat.question.field == "consent_followup"


@pytest.mark.parametrize(
    "lang,words", [("en", "alright then"), ("en", "fine by me"), ("ar", "هيك منيح")]
)
def test_a_models_yes_to_a_consent_is_confirmed_before_it_counts(
    shipped_service: IntakeService, lang: str, words: str
) -> None:
    chat = Chat(shipped_service, user=f"reading-{lang}-{len(words)}")
    chat.answer("language", lang)
    chat.answer("consent_store", "1")
    chat.answer("consent_followup", words)
    assert chat.question.field == "confirm_reading"
    assert words in chat.question.text
    chat.answer("confirm_reading", "2")  # "no, that is not what I meant": asked again
    assert chat.question.field == "consent_followup"
    chat.answer("consent_followup", words)
    chat.answer("confirm_reading", "1")
    assert chat.question.field == "consent_share_identity"


def test_a_models_yes_to_send_now_is_confirmed_first(shipped_service: IntakeService) -> None:
    chat = Chat(shipped_service, user="reading-send")
    chat.answer("language", "en")
    chat.answer("consent_store", "yes")
    _skip_to(chat, "confirm_submit")
    chat.answer("confirm_submit", "alright then")
    assert chat.outcome.case_ref is None
    assert chat.question.field == "confirm_reading"
    chat.answer("confirm_reading", "yes")
    assert chat.outcome.case_ref


def test_skip_at_the_urgent_offer_moves_on(shipped_service: IntakeService) -> None:
    """A person in danger who skips the "urgent questions only?" choice was stuck for ever."""
    chat = Chat(shipped_service, user="urgent-skip")
    chat.answer("language", "en")
    chat.answer("consent_store", "yes")
    for field in (
        "consent_followup",
        "consent_share_identity",
        "consent_refer",
        "consent_stats",
        "consent_publish",
    ):
        chat.answer(field, "no")
    chat.answer("report_type", "complaint")
    chat.answer("reporter_role", "1")
    chat.answer("reporter_is_child", "no")
    chat.answer("current_danger", "yes")
    assert chat.question.field == "urgent_path"
    refusal = shipped_service.flows.text("en", "sys.cannot_skip")
    replies = chat.say("/skip")
    assert refusal not in [r.text for r in replies]
    assert chat.question.field not in ("urgent_path", "current_danger")


@pytest.mark.parametrize("where", ["confirm_submit", "after_review"])
def test_skip_on_the_review_never_sends(shipped_service: IntakeService, where: str) -> None:
    chat = Chat(shipped_service, user=f"skip-{where}")
    chat.answer("language", "en")
    chat.answer("consent_store", "yes")
    _skip_to(chat, "confirm_submit")
    if where == "after_review":
        chat.answer("confirm_submit", "no")
    refusal = shipped_service.flows.text("en", "sys.cannot_skip")
    replies = chat.say("/skip")
    assert refusal not in [r.text for r in replies]
    assert chat.outcome.case_ref is None


def test_one_after_a_receipt_is_done_not_withdraw(service: IntakeService) -> None:
    """ "1. Done" used to open the withdraw confirmation (the number was read against a list
    of one option); a second "1" would have withdrawn the report."""
    chat = Chat(service, user="after-receipt")
    chat.answer("language", "en")
    chat.answer("consent_store", "yes")
    _skip_to(chat, "confirm_submit")
    chat.answer("confirm_submit", "yes")
    receipt = next(r for r in chat.replies if r.kind == "receipt").extra["receipt"]
    back = Chat(service, user="after-receipt-2", open_now=False)
    back.say(receipt)
    assert back.question.field == "addendum"
    assert next(o[0] for o in back.question.options) == "done"
    back.say("1")
    assert back.outcome.finished
    assert "withdraw_confirm" not in [r.field for r in back.replies]
