"""Issue 18 item 5: a child reporting about themselves gets simpler wording. The shipped flows
ask a victim whether they are under 18 (skippable); after "yes", every question that has a
simpler wording (text_child) uses it, in Arabic as in English; an adult, or someone reporting
for another person, gets the usual questions and is not asked their age there."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from intake.service import IntakeService
from tests.support import Chat

CONSENTS = [
    ("consent_store", "yes"),
    ("consent_followup", "no"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "no"),
    ("consent_publish", "no"),
    ("report_type", "complaint"),
]
# What the reporter is asked after the age question, up to "what was done to you?".
LATER = [
    "current_danger",
    "ongoing",
    "incident_date",
    "place_type",
    "incident_location",
    "country",
    "perpetrator_type",
    "perpetrator_description",
    "violation_types",
]


def _walk(service: IntakeService, lang: str, role: str, child: str | None) -> dict[str, str]:
    """The text of each question in LATER as this reporter sees it."""
    chat = Chat(service, user=f"r-{lang}-{role}-{child}", lang=lang)
    chat.run([*CONSENTS, ("reporter_role", role)])
    if child is not None:
        chat.answer("reporter_is_child", child)
    seen: dict[str, str] = {}
    for field in LATER:
        assert chat.question.field == field
        seen[field] = chat.question.text
        chat.say("no" if field in ("current_danger", "ongoing") else "/skip")
    return seen


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_child_gets_the_simpler_wording_and_an_adult_the_usual_one(
    make_service: Callable[..., IntakeService], lang: str
) -> None:
    service = make_service()
    child = _walk(service, lang, "victim", "yes")
    adult = _walk(service, lang, "victim", "no")
    text = service.flows.text
    for field, key in (
        ("current_danger", "opening.current_danger"),
        ("violation_types", "complaint.violation_types"),
        ("incident_location", "complaint.incident_location"),
    ):
        assert text(lang, f"{key}.child") in child[field]
        assert text(lang, key) in adult[field] and text(lang, f"{key}.child") not in adult[field]
    simpler = [f for f in LATER if child[f] != adult[f]]
    assert len(simpler) >= 7, simpler  # most questions, not one or two
    words = {"en": "What did they do to you?", "ar": "ماذا فعلوا بك؟"}[lang]
    assert words in child["violation_types"]


def test_only_a_victim_is_asked_and_the_question_can_be_skipped(
    make_service: Callable[..., IntakeService],
) -> None:
    service = make_service()
    family = Chat(service, user="family", lang="en")
    family.run([*CONSENTS, ("reporter_role", "family")])
    assert family.question.field == "current_danger"  # no age question for a relative
    skipped = Chat(service, user="skipper", lang="en")
    skipped.run([*CONSENTS, ("reporter_role", "victim")])
    assert "under 18" in skipped.question.text
    skipped.say("/skip")
    assert skipped.question.field == "current_danger"
    assert skipped.question.text.startswith(service.flows.text("en", "opening.current_danger"))
