"""Option numbers decide, whatever the language model makes of a digit (walkthrough B1).

Signal and the console show "1. Yes / 2. No", so a number is the normal way to answer there.
These conversations run on the shipped default backend, the built-in model as `sanad init`
prepares it, because that is where "2" used to come out as `affirm`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from flows import load_flowset
from intake.home import Home
from intake.service import IntakeService
from nlu import HybridInterpreter, builtin_interpreter
from storage import crypto
from tests.support import Chat, Clock, open_report


@pytest.fixture(scope="session")
def shipped_nlu(tmp_path_factory: pytest.TempPathFactory) -> HybridInterpreter:
    return builtin_interpreter(cache_dir=tmp_path_factory.mktemp("nlu-cache"))


@pytest.fixture
def shipped_service(make_service: Callable[..., IntakeService], shipped_nlu: HybridInterpreter,
                    clock: Clock) -> IntakeService:
    base = make_service()
    cfg = base.settings
    home = Home(cfg.home)
    keyring = crypto.DraftKeyring(cfg.epoch_dir, cfg.epoch_seconds, clock)
    return IntakeService(cfg, base.db, load_flowset(), shipped_nlu, home.pepper(),
                         home.admin_public(), keyring, clock=clock)


def _to_first_consent(chat: Chat, lang: str) -> None:
    chat.answer("language", "2" if lang == "en" else "1")


@pytest.mark.parametrize("lang,no,yes", [("en", "2", "1"), ("ar", "٢", "١"), ("en", "2.", "1."),
                                         ("ar", "٢.", "١.")])
def test_number_two_is_no_on_every_consent(shipped_service: IntakeService, lang: str,
                                           no: str, yes: str) -> None:
    chat = Chat(shipped_service, user=f"numbers-{lang}-{len(no)}")
    assert [o[0] for o in chat.question.options][:2] == ["ar", "en"]
    _to_first_consent(chat, lang)
    assert chat.question.lang == lang
    chat.answer("consent_store", yes)
    for field in ("consent_followup", "consent_share_identity", "consent_refer",
                  "consent_stats"):
        chat.answer(field, no)
    fields = [r.field for r in chat.replies]
    assert "report_type" in fields
    chat.answer("report_type", "1")
    chat.answer("reporter_role", "1")
    chat.answer("current_danger", no)
    assert chat.question.field != "urgent_path", "No to 'someone in danger now' raised the alarm"
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.answer("confirm_submit", no)
    assert chat.outcome.case_ref is None, "'2' (No) to 'Send this report now?' submitted it"
    assert chat.question.field == "after_review"
    chat.say("1")  # edit: one step back
    assert chat.question.field != "confirm_submit"
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.answer("confirm_submit", yes)
    case_ref = chat.outcome.case_ref
    assert case_ref
    report = open_report(shipped_service, case_ref)
    assert {k: report["fields"][k] for k in ("consent_store", "consent_followup",
                                             "consent_share_identity", "consent_refer",
                                             "consent_stats", "current_danger")} == {
        "consent_store": "yes", "consent_followup": "no", "consent_share_identity": "no",
        "consent_refer": "no", "consent_stats": "no", "current_danger": "no"}


@pytest.mark.parametrize("no", ["2", "٢"])
def test_number_two_to_keep_the_report_ends_without_storing(shipped_service: IntakeService,
                                                            no: str) -> None:
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
