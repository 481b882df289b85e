"""A free-text answer is judged with the question it answers (issue 13 item 4): a place or a
perpetrator named alone never raises urgency; a narrative answer can. On the shipped model,
through the intake service, the way the console channel talks to it."""

from __future__ import annotations

import pytest

from caseworker.cases import list_queue
from intake.service import IntakeService
from tests.support import Chat

TO_PLACE = [
    ("consent_store", "yes"),
    ("consent_followup", "yes"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "no"),
    ("consent_publish", "no"),
    ("report_type", "complaint"),
    ("reporter_role", "family"),
    ("current_danger", "no"),
    ("ongoing", "no"),
    ("incident_date", "2019"),
    ("place_type", "police_station"),
    # a place of detention: the detention questions (issue 18), skipped or answered plainly
    ("arrest_date", "/skip"),
    ("arrest_time", "/skip"),
    ("place_official", "official"),
    ("place_name", "/skip"),
    ("safeguards_denied", "/skip"),
    ("interrogated", "no"),
]
NAMES = {
    "en": ("the police station near my house", "Syria", "state security officers"),
    "ar": ("قسم الشرطة جنب البيت", "سوريا", "عناصر من الأمن بالحي"),
    "arabizi": ("l police 3and dar", "lmaghrib", "la DST"),
}
DANGER = {
    "en": "they are outside my house right now",
    "ar": "عناصر الأمن تحت البناية هلق",
    "arabizi": "l police 3and dar daba",
}


@pytest.mark.parametrize("script", ["en", "ar", "arabizi"])
def test_place_and_perpetrator_answers_alone_never_alarm(
    service: IntakeService, script: str
) -> None:
    lang = "en" if script == "en" else "ar"
    place, country, who = NAMES[script]
    chat = Chat(service, user=f"ctx-{script}", lang=lang)
    chat.run(TO_PLACE)
    for field, line in (
        ("incident_location", place),
        ("country", country),
        ("perpetrator_type", who),
    ):
        replies = chat.answer(field, line)
        assert all("+000 000 0000" not in r.text for r in replies), (field, line)  # guidance
        if field == "perpetrator_type" and chat.question.field == field:
            chat.say("police")  # a name that is no option is asked again
    assert list_queue(service.db) == []  # no urgent case
    assert chat.question.field == "perpetrator_description"


@pytest.mark.parametrize("script", ["en", "ar", "arabizi"])
def test_a_narrative_answer_can_raise_urgency(service: IntakeService, script: str) -> None:
    lang = "en" if script == "en" else "ar"
    chat = Chat(service, user=f"ctx-n-{script}", lang=lang)
    chat.run(
        [
            *TO_PLACE,
            ("incident_location", "x"),
            ("country", "y"),
            ("perpetrator_type", "police"),
            ("perpetrator_description", "/skip"),
            ("violation_types", "1"),
        ]
    )
    replies = chat.answer("narrative", DANGER[script])
    assert replies[0].kind == "info" and "+000 000 0000" in replies[0].text  # guidance
    queue = list_queue(service.db)
    assert len(queue) == 1 and queue[0].priority == 1


def test_the_same_words_at_a_place_question_are_a_danger_with_a_now(service: IntakeService) -> None:
    chat = Chat(service, user="ctx-now", lang="ar")
    chat.run(TO_PLACE)
    replies = chat.answer("incident_location", DANGER["ar"])
    assert replies[0].kind == "info"  # "هلق": it is happening, not a place
    assert len(list_queue(service.db)) == 1
