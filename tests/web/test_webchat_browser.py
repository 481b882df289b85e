"""The web chat in Debian's Chromium with JavaScript disabled (Tor Browser's "Safest" level),
driven by Playwright: a whole report with a photo in English and one in Arabic, what the
caseworker decrypts is what was typed, nothing in clear in the database, its WAL, the logs or
the attachment folder; each report queued once; quick exit leaves to the
neutral page and nothing remains to resume. Screenshots go to test-artefacts/browser/."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.webchat import WebChat
from bot.webchat_settings import WebchatSettings
from intake.app import setup_logging
from intake.service import Incoming, IntakeService
from tests.intake.test_no_plaintext import _scan
from tests.support import open_report
from tests.web.live import serve
from tests.web.test_browser import ARTEFACTS, CHROMIUM, _png

pytestmark = [
    pytest.mark.browser,
    pytest.mark.privacy,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"Chromium not found at {CHROMIUM}: run scripts/setup as root "
        "(apt-get install chromium) or set SANAD_CHROMIUM",
    ),
]

ENGLISH: dict[str, list[Any]] = {
    "language": ["en"],
    "consent_store": ["yes"],
    "consent_followup": ["yes"],
    "consent_share_identity": ["no"],
    "consent_refer": ["yes"],
    "consent_stats": ["unknown"],
    "consent_publish": ["no"],
    "report_type": ["complaint"],
    "reporter_role": ["victim"],
    "reporter_is_child": ["no"],
    "current_danger": ["no"],
    "ongoing": ["yes"],
    "incident_date": ["15 March 2024"],
    "place_type": ["police_station"],
    # a place of detention: the detention questions (issue 18), skipped or answered plainly
    "arrest_date": ["/skip"],
    "arrest_time": ["/skip"],
    "place_official": ["official"],
    "place_name": ["/skip"],
    "safeguards_denied": [["no_lawyer"]],
    "interrogated": ["no"],
    "perpetrator_description": ["/skip"],
    "witnesses": ["/skip"],
    "psychological_symptoms": ["/skip"],
    "incident_location": ["Central station, Al-Hamra district"],
    "country": ["Lebanon"],
    "perpetrator_type": [["police", "intelligence"]],
    "violation_types": [["beating", "threats"]],
    "narrative": ["They kept me three days in the basement and beat me with cables."],
    "injuries": ["Bruises on my back and both wrists"],
    "medical_exam": ["no"],
    "evidence": ["FILE", "done"],
    "reported_elsewhere": [["none"]],
    "support_needs": [["medical", "legal"]],
    "victim_gender": ["man"],
    "victim_age_group": ["adult"],
    "victim_groups": [["deprived_of_liberty"]],
    "caseworker_gender_pref": ["any"],
    "reporter_name": ["Karim Haddad-Nassar"],
    "more_victims": ["no"],
    "contact_safety": ["Evenings only. Code word zaytoun"],
    "confirm_submit": ["yes"],
}
ARABIC: dict[str, list[Any]] = {
    "language": ["ar"],
    "consent_store": ["yes"],
    "consent_followup": ["no"],
    "consent_share_identity": ["no"],
    "consent_refer": ["yes"],
    "consent_stats": ["yes"],
    "consent_publish": ["no"],
    "report_type": ["reprisal"],
    "reporter_role": ["witness"],
    "current_danger": ["no"],
    "ongoing": ["yes"],
    "cooperation_body": [["un_treaty_body"]],
    "cooperation_when": ["٣ آذار ٢٠٢٤"],
    "reprisal_acts": [["surveillance"]],
    "reprisal_by": [["intelligence"]],
    "incident_date": ["/skip"],
    "place_type": ["/skip"],
    "perpetrator_description": ["/skip"],
    "witnesses": ["/skip"],
    "psychological_symptoms": ["/skip"],
    "incident_location": ["حلب، قرب الحاجز الشمالي"],
    "country": ["سوريا"],
    "narrative": ["بعد ما حكيت مع اللجنة صاروا يراقبوا بيتنا كل يوم."],
    "urgent_path": ["urgent_full"],
    "evidence": ["FILE", "done"],
    "reported_elsewhere": ["/skip"],
    "support_needs": [["legal"]],
    "victim_gender": ["prefer_not"],
    "victim_age_group": ["adult"],
    "victim_groups": [["hrd"]],
    "caseworker_gender_pref": ["woman"],
    "reporter_name": ["سلمى ناصيف"],
    "victim_name": ["يوسف الخطيب المعتقل"],
    "more_victims": ["no"],
    "confirm_submit": ["yes"],
}


@pytest.fixture
def chat(service: IntakeService) -> Iterator[str]:
    setup_logging(service.settings, verbose=True)
    try:
        with serve(WebChat(service, WebchatSettings(session_burst=400)).create_app()) as url:
            yield url
    finally:
        for handler in logging.getLogger("sanad").handlers[:]:
            handler.close()
            logging.getLogger("sanad").removeHandler(handler)


def _drive(page: Any, plan: dict[str, list[Any]], photo: Path) -> tuple[str, str]:
    """Answer every question the page asks from `plan` by clicking and typing, as a person
    would; returns (case_ref, receipt)."""
    plan = {k: list(v) for k, v in plan.items()}
    for _ in range(120):
        receipt = page.locator("[data-receipt]")
        if receipt.count():
            return (
                receipt.first.get_attribute("data-case-ref"),
                receipt.first.get_attribute("data-receipt"),
            )
        form = page.locator("form[data-field]").last
        field, kind = form.get_attribute("data-field"), form.get_attribute("data-kind")
        assert plan.get(field), f"the page asked {field!r} ({kind}), which the plan lacks"
        answer = plan[field].pop(0)
        if answer == "FILE":
            form.locator('input[type="file"][name="file"]').set_input_files(str(photo))
            form.locator("button.upload").click()
        elif answer == "/skip":
            skip = form.locator('button[value="/skip"]')
            assert skip.count(), f"the page offers no skip for {field!r} ({kind})"
            skip.click()
        elif kind == "multi":
            for option in answer:
                form.locator(f'input[type="checkbox"][value="{option}"]').check()
            form.locator("button:not([name])").click()
        elif kind in ("text", "date"):
            form.locator('textarea[name="answer"]').fill(answer)
            form.locator("button:not([name])").click()
        else:
            form.locator(f'button[name="answer"][value="{answer}"]').click()
        page.wait_for_load_state()
    raise AssertionError("the conversation never ended")


def test_whole_reports_with_a_file_in_both_languages_javascript_off(
    chat: str, service: IntakeService, tmp_path: Path, browser: Any
) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    photo = tmp_path / "outside" / "wrist-bruises.png"
    photo.parent.mkdir()
    photo.write_bytes(_png(60, 40) + b"UNIQUE-PNG-TRAILER-6b1e" * 200)
    receipts: list[tuple[str, str]] = []
    for lang, plan in (("en", ENGLISH), ("ar", ARABIC)):
        context = browser.new_context(java_script_enabled=False, locale="en-US")
        page = context.new_page()
        blocked: list[str] = []
        page.on(
            "request",
            lambda r, seen=blocked: seen.append(r.url) if not r.url.startswith(chat) else None,
        )
        page.goto(chat + "/")
        assert page.locator("script").count() == 0
        receipts.append(_drive(page, plan, photo))
        assert page.locator("html").get_attribute("lang") == lang
        assert page.locator("html").get_attribute("dir") == ("rtl" if lang == "ar" else "ltr")
        page.screenshot(path=str(ARTEFACTS / f"webchat-receipt-{lang}.png"), full_page=True)
        assert [c["name"] for c in context.cookies()] == ["sanad_chat"]
        assert blocked == []  # no third-party resource was ever requested
        context.close()
    (en_ref, en_receipt), (ar_ref, ar_receipt) = receipts
    en = open_report(service, en_ref)
    assert en["fields"]["narrative"] == ENGLISH["narrative"][0]
    assert en["fields"]["violation_types"] == ["beating", "threats"]
    assert en["fields"]["incident_location"] == "Central station, Al-Hamra district"
    ar = open_report(service, ar_ref)
    assert ar["fields"]["report_type"] == "reprisal"
    assert ar["fields"]["narrative"] == ARABIC["narrative"][0]
    assert ar["fields"]["incident_location"] == "حلب، قرب الحاجز الشمالي"
    digest = hashlib.sha256(photo.read_bytes()).hexdigest()
    for report in (en, ar):
        assert [(a["name"], a["sha256"]) for a in report["attachments"]] == [
            ("wrist-bruises.png", digest)
        ]
    from caseworker.cases import list_queue

    queued = [c.case_ref for c in list_queue(service.db)]
    assert sorted(queued) == sorted([en_ref, ar_ref])  # each report exactly once
    secrets = [
        ENGLISH["narrative"][0],
        ENGLISH["injuries"][0],
        "Central station, Al-Hamra",
        "Karim Haddad-Nassar",
        "Code word zaytoun",
        ARABIC["narrative"][0],
        "حلب، قرب الحاجز الشمالي",
        "سلمى ناصيف",
        "يوسف الخطيب المعتقل",
        "UNIQUE-PNG-TRAILER",
        "wrist-bruises.png",
        en_receipt,
        ar_receipt,
        en_receipt.replace("-", ""),
        ar_receipt.replace("-", ""),
    ]
    home = service.settings.home
    assert (home / "logs" / "sanad.log").stat().st_size > 0
    assert _scan(home, secrets) == []
    assert _scan(service.settings.epoch_dir or home, secrets) == []


def test_resubmission_and_quick_exit_in_the_browser(
    chat: str, service: IntakeService, browser: Any
) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(chat + "/")
    page.locator('form[data-field="language"] button[value="ar"]').click()
    nonce = page.locator('form[data-field="consent_store"] input[name="t"]').get_attribute("value")
    page.locator('form[data-field="consent_store"] button[value="yes"]').click()
    assert page.locator("form[data-field]").last.get_attribute("data-field") == "consent_followup"
    # The same form sent again with the browser's cookie (a double click, a
    # resubmission after a lost answer): answered once, the conversation does not
    # move on twice.
    again = context.request.post(chat + "/", form={"t": nonce or "", "answer": "yes"})
    assert again.ok
    page.goto(chat + "/")
    page.locator('form[data-field="consent_followup"] button[value="no"]').click()
    assert (
        page.locator("form[data-field]").last.get_attribute("data-field")
        == "consent_share_identity"
    )  # one step on, not two
    sid = context.cookies()[0]["value"].split(".")[0]
    page.locator('form[data-action="quick-exit"] button').click()
    page.wait_for_load_state()
    assert page.url.endswith("/about")
    assert "Lentil soup" in page.content()
    assert context.cookies() == []
    page.screenshot(path=str(ARTEFACTS / "webchat-quick-exit.png"))
    page.go_back()  # what the back button shows is a fresh start, not the answers
    assert page.locator('form[data-field="language"]').count() == 1
    context.close()
    again = service.open(Incoming("webchat", sid))
    assert all(r.field != "resume" for r in again.replies)
