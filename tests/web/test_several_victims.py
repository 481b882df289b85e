"""Several victims in one report (issue 18 item 7): a family reports three people harmed; the
per-person questions repeat, every one skippable, up to a cap; going back inside a repetition
returns to that person's question; the summary, the sealed report and the caseworker's case
page show each person, with their names in the protected identity section."""

from __future__ import annotations

import time
from collections.abc import Callable

from intake.service import IntakeService
from tests.support import Chat, Clock, open_report
from tests.web.conftest import Site

OPENING = [
    ("consent_store", "yes"),
    ("consent_followup", "no"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "yes"),
    ("consent_publish", "no"),
    ("report_type", "complaint"),
    ("reporter_role", "family"),
    ("current_danger", "no"),
]


def _until(chat: Chat, field: str, answers: dict[str, str] | None = None) -> None:
    while chat.question.field != field:
        chat.say((answers or {}).get(str(chat.question.field), "/skip"))


def test_a_family_of_three_reaches_the_caseworker_as_three_people(
    site: Site, make_service: Callable[..., IntakeService], clock: Clock, demo
) -> None:  # type: ignore[no-untyped-def]
    clock.now = time.time()
    service = make_service()
    chat = Chat(service, user="mother", lang="en")
    chat.run(OPENING)
    _until(
        chat,
        "more_victims",
        {"victim_gender": "man", "victim_age_group": "adult", "violation_types": "beating"},
    )
    chat.say("yes")
    assert chat.question.field == "other_victim_name" and "Person 2:" in chat.question.text
    chat.run(
        [
            ("other_victim_name", "Sami Haddad"),
            ("other_victim_relationship", "his brother"),
            ("other_victim_gender", "man"),
            ("other_victim_age_group", "under 18"),
            ("other_victim_harm", "beaten during the arrest"),
            ("other_victim_held", "/skip"),
            ("another_victim", "yes"),
        ]
    )
    assert "Person 3:" in chat.question.text
    chat.run(
        [
            ("other_victim_name", "/skip"),
            ("other_victim_relationship", "a neighbour"),
            ("other_victim_gender", "woman"),
            ("other_victim_age_group", "adult"),
            ("other_victim_harm", "taken away, we do not know where"),
            ("other_victim_held", "the military airport"),
            ("another_victim", "no"),
        ]
    )
    _until(chat, "confirm_submit")
    summary = "\n".join(r.text for r in chat.replies)
    assert "Person 2:" in summary and "Person 3:" in summary
    assert "the military airport" in summary and "Under 18" in summary
    chat.say("yes")
    ref = str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])

    report = open_report(service, ref)
    assert report["fields"]["more_victims"] == "yes"
    assert report["fields"]["other_victims"] == [
        {
            "other_victim_relationship": "his brother",
            "other_victim_gender": "man",
            "other_victim_age_group": "child",
            "other_victim_harm": "beaten during the arrest",
        },
        {
            "other_victim_relationship": "a neighbour",
            "other_victim_gender": "woman",
            "other_victim_age_group": "adult",
            "other_victim_harm": "taken away, we do not know where",
            "other_victim_held": "the military airport",
        },
    ]
    # the names are sealed apart: the caseworker sees that there is one, not what it is
    assert "other_victims_identity" in report["identity"]["protected"]
    page = demo.get(f"/cases/{ref}?lang=en").text
    assert "People harmed or detained in this report" in page
    assert page.count("Other people harmed or detained — Person") == 2
    assert "his brother" in page and "the military airport" in page
    assert "Sami Haddad" not in page
    # a child among the others: the case shows the child-protection rule note
    assert 'id="child-rule"' in page
    arabic = demo.get(f"/cases/{ref}?lang=ar").text
    assert "الشخص 2" in arabic or "الشخص \u20662\u2069" in arabic


def test_going_back_inside_a_repetition_returns_to_that_person(service: IntakeService) -> None:
    chat = Chat(service, user="witness", lang="ar")
    chat.run(OPENING)
    _until(chat, "more_victims")
    chat.say("نعم")
    chat.run(
        [
            ("other_victim_name", "/skip"),
            ("other_victim_relationship", "جاري"),
            ("other_victim_gender", "رجل"),
        ]
    )
    chat.say("/back")  # back to person 2's gender, then their relationship
    assert chat.question.field == "other_victim_gender" and "الشخص" in chat.question.text
    chat.say("/back")
    assert chat.question.field == "other_victim_relationship"
    chat.say("ابن عمي")
    assert chat.question.field == "other_victim_gender"  # asked again: it was gone back over
    chat.say("رجل")
    _until(chat, "another_victim")
    chat.say("نعم")
    assert chat.question.field == "other_victim_name" and "3" in chat.question.text
    chat.say("/back")  # from person 3's first question to person 2's last one
    assert chat.question.field == "another_victim" and "2" in chat.question.text
    chat.say("لا")
    _until(chat, "confirm_submit")
    chat.say("نعم")
    ref = str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])
    others = open_report(service, ref)["fields"]["other_victims"]
    assert others == [{"other_victim_relationship": "ابن عمي", "other_victim_gender": "man"}]


def test_the_repetition_stops_at_its_cap(service: IntakeService) -> None:
    cap = service.flows.fields["other_victims"].max
    assert cap == 20
    chat = Chat(service, user="mass-arrest", lang="en")
    chat.run(OPENING)
    _until(chat, "more_victims")
    chat.say("yes")
    for n in range(2, cap + 2):  # person 1 is the one the report is about
        assert f"Person {n}:" in chat.question.text
        while chat.question.field not in ("another_victim", "confirm_submit"):
            chat.say("/skip")
        if chat.question.field == "confirm_submit":
            break
        chat.say("yes")
    # after the twentieth other person "anyone else?" is not asked: the block is full
    assert n == cap + 1 and chat.question.field == "confirm_submit"
    assert f"up to {cap} people" in "\n".join(r.text for r in chat.replies)
    chat.say("yes")
    ref = str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])
    assert len(open_report(service, ref)["fields"]["other_victims"]) == cap
