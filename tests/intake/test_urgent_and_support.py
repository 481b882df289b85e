"""Someone in danger now: guidance at once, a priority-1 case right after consent that is
completed in place; rights information; the support directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from caseworker.cases import list_queue
from intake.service import IntakeService
from intake.support import ConfigError, Directory, Guidance, needs_in
from tests.support import Chat, open_report

DANGER_EN = "they are at my door right now"
DANGER_AR = "هم عند الباب الآن"


@pytest.mark.parametrize(
    ("lang", "words", "line"),
    [("en", DANGER_EN, "+000 000 0000"), ("ar", DANGER_AR, "+000 000 0000")],
)
def test_urgent_persona_gets_guidance_first_and_a_case_right_after_consent(
    service: IntakeService, lang: str, words: str, line: str
) -> None:
    chat = Chat(service, user=f"urgent-{lang}", lang=lang)
    replies = chat.answer("consent_store", words)
    guidance = replies[0]
    assert guidance.kind == "info" and guidance.lang == lang and line in guidance.text
    assert chat.question.field == "consent_store"  # consent is still asked: nothing kept yet
    assert list_queue(service.db) == []
    chat.answer("consent_store", "yes")
    queue = list_queue(service.db)
    assert len(queue) == 1 and queue[0].priority == 1 and queue[0].incomplete
    assert "incomplete" in queue[0].reasons
    # why the words were urgent is kept with the triage, for the caseworker
    assert {"urgent_words", "present_danger"} <= set(queue[0].reasons)
    assert chat.question.field == "urgent_path"
    chat.answer("urgent_path", "1")  # only the urgent questions
    chat.run(
        [
            ("urgent_who", "My brother Samir" if lang == "en" else "أخي سمير"),
            ("incident_location", "Central prison" if lang == "en" else "السجن المركزي"),
            ("incident_date", "an hour ago" if lang == "en" else "قبل ساعة"),
            ("contact_safety", "After 9 pm" if lang == "en" else "بعد التاسعة مساءً"),
        ]
    )
    # The case in the queue follows each answer.
    shown = open_report(service, queue[0].case_ref)
    assert shown["fields"]["urgent_who"] in ("My brother Samir", "أخي سمير")
    assert chat.question.field == "confirm_submit"
    replies = chat.say("yes")
    receipt = next(r for r in replies if r.kind == "receipt")
    assert receipt.extra["case_ref"] == queue[0].case_ref  # completed in place
    after = list_queue(service.db)
    assert len(after) == 1 and not after[0].incomplete and after[0].priority == 1
    history = [h["kind"] for h in open_report(service, queue[0].case_ref)["history"]]
    assert history == ["received", "completed"]


def test_urgent_case_stays_when_the_person_stops(service: IntakeService) -> None:
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
            ("current_danger", "yes"),
        ]
    )
    replies = chat.say("/exit")
    assert "danger" in replies[0].text
    queue = list_queue(service.db)
    assert len(queue) == 1 and queue[0].incomplete and queue[0].priority == 1
    assert open_report(service, queue[0].case_ref)["fields"]["current_danger"] == "yes"


def test_without_consent_guidance_is_shown_and_nothing_is_kept(service: IntakeService) -> None:
    chat = Chat(service, lang="ar")
    replies = chat.answer("consent_store", DANGER_AR)
    assert "+000 000 0000" in replies[0].text
    chat.answer("consent_store", "لا")
    assert list_queue(service.db) == []


def test_guidance_follows_the_country_the_reporter_named(service: IntakeService) -> None:
    guidance = service.guidance
    assert "112" in guidance.text("en", "Lebanon") and "140" in guidance.text("en", "lebanon")
    assert "١١٢" in guidance.text("ar", "لبنان")
    assert "911" in guidance.text("en", "Jordan")
    assert "emergency number" in guidance.text("en", "Narnia")
    assert "112" in guidance.text("en", None)  # before a country is named: the institution's


def test_rights_in_both_languages(service: IntakeService) -> None:
    for lang in ("en", "ar"):
        chat = Chat(service, user=f"r-{lang}", lang=lang)
        replies = chat.say("/rights")
        infos = [r for r in replies if r.kind == "info"]
        assert len(infos) == 5 and all(r.lang == lang for r in infos)
        assert all(len(r.text) < 700 for r in infos)
        assert chat.question.field == "consent_store"  # and the conversation goes on


def test_directory_matches_need_and_country() -> None:
    directory = Directory.load()
    assert [s.id for s in directory.match({"legal"}, "JO")] == ["example-legal-aid"]
    found = [s.id for s in directory.match({"medical"}, "LB")]
    assert found == ["example-rehab-centre"]  # rehabilitation for survivors, locally
    assert [s.id for s in directory.match({"psychosocial"}, None)] == ["example-psychosocial-line"]
    assert directory.match({"shelter"}, "LB") == []


def test_support_requests_are_understood_in_both_languages() -> None:
    assert needs_in("I need a doctor") == {"medical"}
    assert needs_in("بدي محامي") == {"legal"}
    assert needs_in("محتاج طبيب نفسي") >= {"psychosocial"}
    assert needs_in("they beat me until a doctor came") == set()


def test_asking_for_a_lawyer_mid_conversation_offers_services(service: IntakeService) -> None:
    chat = Chat(service, lang="ar")
    chat.answer("consent_store", "نعم")
    replies = chat.say("بدي محامي")
    assert "مساعدة قانونية" in replies[0].text
    assert chat.question.field == "consent_followup"  # the question comes back


def test_broken_config_names_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "directory.yaml").write_text(
        "services:\n  - id: x\n    kinds: [medical]\n    countries: [Lebanon]\n"
        "    name: {en: a, ar: b}\n    hours: {en: a, ar: b}\n"
        "    contacts: [{type: phone, value: '1'}]\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        Directory.load(tmp_path)
    assert any("directory.yaml:4" in p or "directory.yaml:2" in p for p in info.value.problems)
    (config / "guidance.yaml").write_text("institution: {}\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        Guidance.load(tmp_path)
    assert "guidance.yaml:1" in info.value.problems[0]


@pytest.mark.parametrize(
    ("lang", "words", "said"),
    [
        (
            "en",
            "I can't take it anymore, I want to kill myself",
            "you do not have to face it alone",
        ),
        ("ar", "ما عاد فيني، بدي انتحر", "لست وحدك"),
    ],
)
def test_self_harm_gets_its_own_guidance_with_crisis_lines(
    service: IntakeService, lang: str, words: str, said: str
) -> None:
    chat = Chat(service, user=f"selfharm-{lang}", lang=lang)
    replies = chat.answer("consent_store", words)
    first = replies[0]
    assert first.kind == "info" and first.lang == lang and said in first.text
    # the directory's psychosocial line, in the reporter's language
    line = "Psychosocial support line" if lang == "en" else "خط دعم نفسي واجتماعي"
    assert line in first.text
    chat.answer("consent_store", "yes")
    queue = list_queue(service.db)
    assert queue and queue[0].priority == 1 and "self_harm" in queue[0].reasons
