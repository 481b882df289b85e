"""A report taken by a caseworker on the dashboard (issue 18 item 3): the bot's own flows as a
form, one question at a time, in the interview's language; the report is sealed exactly like
a bot report (same recipients, same receipt), carries its source and who recorded the consent
read aloud, and appears in the queue with its source."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from intake.service import IntakeService
from storage import cases
from storage.models import WrappedKey
from tests.support import Chat, open_report
from tests.web.conftest import Site, csrf_of

SAYS = {
    "narrative": "They beat us in the basement of the central prison",
    "incident_location": "central prison, block C",
    "country": "Jordan",
}
EN = {
    "consent_store": "yes",
    "consent_followup": "no",
    "consent_share_identity": "no",
    "consent_refer": "yes",
    "consent_stats": "yes",
    "consent_publish": "no",
    "report_type": "complaint",
    "reporter_role": "victim",
    "reporter_is_child": "no",
    "current_danger": "no",
    "confirm_submit": "yes",
}


def _field(html: str) -> str | None:
    match = re.search(r'id="take-answer" data-field="([^"]*)"', html)
    return match.group(1) if match else None


def _interview(client, source: str, lang: str) -> tuple[str, list[str]]:  # type: ignore[no-untyped-def]
    page = client.get("/intake")
    assert page.status_code == 200
    reply = client.post(
        "/intake",
        data={
            "csrf": csrf_of(page.text),
            "source": source,
            "interview_lang": lang,
            "read_aloud": "yes",
        },
    )
    asked: list[str] = []
    for _ in range(80):
        html = reply.text
        if 'id="take-receipt"' in html:
            return html, asked
        field = _field(html)
        assert field, html[-1500:]
        asked.append(field)
        url = re.search(r'<form method="post" action="(/intake/[^"]+)"', html)
        assert url
        data = {"csrf": csrf_of(html)}
        if field in EN:
            data["answer"] = EN[field]
        elif field in SAYS:
            data["answer"] = SAYS[field]
        else:
            data["command"] = "skip"
        reply = client.post(url.group(1), data=data)
        assert reply.status_code == 200
    raise AssertionError("the interview never ended")


def test_a_visit_report_is_sealed_like_a_bot_report_and_queued_with_its_source(
    site: Site, demo, make_service: Callable[..., IntakeService]
) -> None:  # type: ignore[no-untyped-def]
    service = make_service()  # the intake the dashboard runs (`sanad web` builds it too)
    site.dashboard.intake = service
    html, asked = _interview(demo, "detention_visit", "en")
    assert asked[:2] == ["consent_store", "consent_followup"]  # the bot's own questions
    ref = re.search(r'id="receipt-case">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="receipt-code">([^<]+)<', html).group(1)  # type: ignore[union-attr]

    queue = demo.get("/queue").text
    row = re.search(rf'<tr[^>]*data-case="{ref}".*?</tr>', queue, re.S)
    assert row and 'data-source="detention_visit"' in row.group(0)
    assert "on a detention visit" in row.group(0)

    shown = open_report(service, ref)
    assert shown["fields"]["source"] == "detention_visit"
    assert shown["fields"]["recorded_by"] == "demo"
    assert shown["fields"]["narrative"] == SAYS["narrative"]
    assert [h["kind"] for h in shown["history"]][:2] == ["received", "taken_by_caseworker"]

    bot_ref = _bot_report(service)
    with service.db.transaction() as session:
        visit, bot = cases.by_ref(session, ref), cases.by_ref(session, bot_ref)
        assert visit is not None and bot is not None
        assert visit.channel == "detention_visit" and visit.flow_version == bot.flow_version
        consent = visit.consent["consent_refer"]
        assert consent["value"] == "yes" and consent["read_aloud"] is True
        assert consent["recorded_by"] == "demo"
        keys = [
            set(
                session.scalars(
                    select(WrappedKey.key_id).where(WrappedKey.case_id == c.id, WrappedKey.seq == 0)
                )
            )
            for c in (visit, bot)
        ]
    assert keys[0] == keys[1]  # sealed to exactly the bot report's recipients

    # The printed receipt works in the bot like any other.
    back = Chat(service, user="visited-person", open_now=False)
    assert ref in back.say(code)[0].text

    page = demo.get(f"/cases/{ref}").text
    assert "How the report was given" in page and "on a detention visit" in page
    assert "Report taken by a caseworker" in page


def _bot_report(service: IntakeService) -> str:
    chat = Chat(service, user="bot-reporter", lang="en")
    for field, answer in EN.items():
        if field == "confirm_submit":
            break
        chat.answer(field, answer)
    while chat.question.field != "confirm_submit":
        chat.say(SAYS.get(str(chat.question.field), "/skip"))
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def test_the_interview_runs_in_arabic_and_consent_must_be_read_aloud(
    site: Site, demo, make_service: Callable[..., IntakeService]
) -> None:  # type: ignore[no-untyped-def]
    site.dashboard.intake = make_service()
    page = demo.get("/intake")
    refused = demo.post(
        "/intake", data={"csrf": csrf_of(page.text), "source": "phone", "interview_lang": "ar"}
    )
    assert refused.status_code == 400 and "read aloud" in refused.text
    started = demo.post(
        "/intake",
        data={
            "csrf": csrf_of(page.text),
            "source": "phone",
            "interview_lang": "ar",
            "read_aloud": "yes",
        },
    )
    assert _field(started.text) == "consent_store"
    assert 'lang="ar" dir="rtl"' in started.text and "نعم" in started.text
    # a reload asks the same question again; another source is refused
    url = re.search(r'action="(/intake/phone\.[^"]+)"', started.text)
    assert url and _field(demo.get(url.group(1)).text) == "consent_store"
    assert demo.get("/intake/nowhere.abc").status_code == 404
    assert "تسجيل بلاغ" in demo.get("/intake?lang=ar").text


def test_without_an_intake_the_page_says_so(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    assert demo.get("/intake").status_code == 503
