"""Detention and Istanbul Protocol questions (issue 18 item 4), through the console with the
shipped model: asked only for a place of detention (and the examiner only after an
examination), each one skippable, in both languages, and sealed with the report."""

from __future__ import annotations

from intake.service import IntakeService
from tests.support import Chat, open_report

OPENING = [
    ("consent_store", "yes"),
    ("consent_followup", "no"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "no"),
    ("consent_publish", "no"),
    ("report_type", "complaint"),
    ("reporter_role", "victim"),
    ("reporter_is_child", "no"),
    ("current_danger", "no"),
]
DETENTION = [
    "arrest_date",
    "arrest_time",
    "place_official",
    "place_name",
    "safeguards_denied",
    "interrogated",
]


def _until_place(chat: Chat) -> None:
    chat.run(OPENING)
    while chat.question.field != "place_type":
        chat.say("/skip")


def _asked_to_the_end(chat: Chat, answers: dict[str, str]) -> list[str]:
    asked = []
    while chat.question.field != "confirm_submit":
        field = str(chat.question.field)
        asked.append(field)
        chat.say(answers.get(field, "/skip"))
    return asked


def test_a_prison_complaint_asks_the_detention_questions_and_seals_them(
    service: IntakeService,
) -> None:
    chat = Chat(service, user="held", lang="en")
    _until_place(chat)
    chat.say("prison")
    asked = _asked_to_the_end(
        chat,
        {
            "arrest_date": "2026-03-14",
            "place_official": "2",
            "place_name": "Block C",
            "safeguards_denied": "no lawyer, family not told",
            "interrogated": "yes",
            "interrogation_methods": "blindfolded for two days",
            "medical_exam": "yes",
            "medical_exam_by": "forensic doctor",
            "witnesses": "my cellmate",
            "psychological_symptoms": "nightmares",
        },
    )
    assert asked[: len(DETENTION) + 1] == [*DETENTION, "interrogation_methods"]
    assert asked[len(DETENTION) + 1] == "incident_location"  # back to the common questions
    assert {
        "perpetrator_description",
        "witnesses",
        "psychological_symptoms",
        "medical_exam_by",
    } <= set(asked)
    chat.say("yes")
    ref = next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"]
    fields = open_report(service, ref)["fields"]
    assert fields["place_official"] == "unofficial"
    assert fields["safeguards_denied"] == ["no_lawyer", "family_not_told"]
    assert fields["interrogated"] == "yes" and fields["medical_exam_by"] == "forensic_doctor"
    assert fields["interrogation_methods"] == "blindfolded for two days"


def test_a_complaint_at_home_skips_them_and_no_examination_means_no_examiner(
    service: IntakeService,
) -> None:
    chat = Chat(service, user="at-home", lang="ar")
    _until_place(chat)
    chat.say("البيت")
    asked = _asked_to_the_end(chat, {"medical_exam": "لا"})
    assert not set(DETENTION) & set(asked) and "medical_exam_by" not in asked
    assert "perpetrator_description" in asked  # asked of every complaint, skippable


def test_every_detention_question_can_be_skipped_and_is_asked_in_arabic(
    service: IntakeService,
) -> None:
    chat = Chat(service, user="skipper", lang="ar")
    _until_place(chat)
    chat.say("٢")  # the second option: prison
    texts, labels = [], []
    for field in DETENTION:
        assert chat.question.field == field
        texts.append(chat.question.text)
        labels += [label for _, label in chat.question.options or ()]
        chat.say("/skip")
    assert chat.question.field == "incident_location"
    assert "متى اعتُقلت" in texts[0] and "لا محامي" in labels and "مكان رسمي" in labels
