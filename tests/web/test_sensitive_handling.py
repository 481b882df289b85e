"""Gender- and child-sensitive handling on the case page (issue 18 item 5): a report of sexual
violence is raised and carries a content warning that says which caseworker was asked for; a
report about a child shows the country's mandatory-reporting rule (data) or says none is
recorded; the console asks whether a guardian knows only when a child is concerned."""

from __future__ import annotations

from intake.service import IntakeService
from intake.triage import TriageRules
from tests.support import Chat
from tests.web.conftest import Site


def test_sexual_violence_warns_readers_and_a_child_shows_the_countrys_rule(
    site: Site, demo
) -> None:  # type: ignore[no-untyped-def]
    sv = site.make_case(
        fields={
            "report_type": "complaint",
            "narrative": "x",
            "violation_types": ["beating", "sexual_violence"],
        }
    )
    page = demo.get(f"/cases/{sv}").text
    assert 'id="content-warning"' in page and "describes sexual violence" in page
    assert "يصف هذا البلاغ عنفًا جنسيًا" in demo.get(f"/cases/{sv}?lang=ar").text

    child = site.make_case(
        fields={
            "report_type": "complaint",
            "narrative": "x",
            "victim_age_group": "child",
            "country": "Tunisia",
        }
    )
    page = demo.get(f"/cases/{child}?lang=en").text
    assert 'id="child-rule" data-country="TN"' in page and "child protection delegate" in page
    other = site.make_case(
        fields={
            "report_type": "complaint",
            "narrative": "x",
            "victim_age_group": "child",
            "country": "Atlantis",
        }
    )
    assert "No mandatory-reporting rule is recorded" in demo.get(f"/cases/{other}").text
    plain = site.make_case()
    text = demo.get(f"/cases/{plain}").text
    assert 'id="content-warning"' not in text and 'id="child-rule"' not in text
    # the child-protection and specialised-support bodies are in the referral register
    assert "Child protection services" in page and "survivors of sexual violence" in page


def test_sexual_violence_raises_the_priority() -> None:
    from datetime import UTC, datetime

    triage = TriageRules.load().assess(
        {"violation_types": ["sexual_violence"]}, False, datetime.now(UTC)
    )
    assert triage.priority == 2 and "sexual_violence" in triage.reasons


def test_the_guardian_question_is_asked_only_for_a_child(service: IntakeService) -> None:
    def walk(age: str) -> list[str]:
        chat = Chat(service, user=f"r-{age}", lang="en")
        chat.run(
            [
                ("consent_store", "yes"),
                ("consent_followup", "no"),
                ("consent_share_identity", "no"),
                ("consent_refer", "no"),
                ("consent_stats", "no"),
                ("consent_publish", "no"),
                ("report_type", "complaint"),
                ("reporter_role", "family"),
                ("current_danger", "no"),
            ]
        )
        asked = []
        while chat.question.field != "confirm_submit":
            field = str(chat.question.field)
            asked.append(field)
            chat.say(age if field == "victim_age_group" else "/skip")
        return asked

    child = walk("child")
    assert child[child.index("victim_age_group") + 1] == "guardian_aware"
    assert child[child.index("guardian_aware") + 1] == "victim_groups"
    assert "guardian_aware" not in walk("adult")


def _sexual_violence_report(
    service: IntakeService, user: str, lang: str, pref: str | None
) -> tuple[str, str]:
    chat = Chat(service, user=user, lang=lang)
    chat.run(
        [
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
    )
    while chat.question.field != "confirm_submit":
        field = chat.question.field
        chat.say(
            "sexual_violence"
            if field == "violation_types"
            else pref
            if field == "caseworker_gender_pref" and pref
            else "/skip"
        )
    said = "\n".join(r.text for r in chat.say("yes"))
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"]), said


def test_the_sexual_violence_protocol_asks_for_a_woman_and_offers_specialised_support(
    service: IntakeService,
) -> None:
    from storage import cases

    ref, said = _sexual_violence_report(service, "sv-en", "en", None)
    assert "survivors of sexual violence" in said  # from the directory, in their language
    _, said_ar = _sexual_violence_report(service, "sv-ar", "ar", None)
    assert "للناجين والناجيات من العنف الجنسي" in said_ar
    chose, _ = _sexual_violence_report(service, "sv-any", "en", "any")
    with service.db.transaction() as session:
        skipped, own = cases.by_ref(session, ref), cases.by_ref(session, chose)
        assert skipped is not None and skipped.caseworker_pref == "woman"
        assert skipped.priority <= 2
        assert own is not None and own.caseworker_pref is None  # their own choice stands
