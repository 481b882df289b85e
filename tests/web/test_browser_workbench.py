"""The caseworker workbench in Debian's Chromium (issue 16 "Done when"): in Arabic and
English, on a desktop and at 390 px, a supervisor searches by a facility name (no case is
opened to find it), sorts and pages with totals, links two cases, sends a canned reply,
assigns in bulk and uses the keyboard shortcuts; then the same tasks with JavaScript off.
The screenshots in docs/screenshots/ are made here, so they stay true."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage import search
from storage.audit_chain import AuditEntry
from storage.models import Case
from tests.support import PASSPHRASE
from tests.web.conftest import OTHER_PASSPHRASE, Site, totp_code
from tests.web.test_browser import CHROMIUM, server  # noqa: F401  (fixture)

SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
WORDS = {
    "ar": {
        "cases": "٥٧ حالة",
        "page": "الصفحة ٢ من ٢",
        "canned": "وصلنا بلاغك، وسنكتب إليك قريبًا.",
        "done": "غُيّرت ٢",
    },
    "en": {
        "cases": "57 cases",
        "page": "page 2 of 2",
        "canned": "We have your report and will write again soon.",
        "done": "2 cases changed",
    },
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=f"Chromium not found at {CHROMIUM}"),
]


def _index(site: Site, ref: str, place: str, country: str) -> None:
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        search.index_case(
            session, site.home.pepper(), case.id, {"incident_location": place, "country": country}
        )


def _reads(site: Site) -> int:
    with site.db.transaction() as session:
        return sum(1 for e in session.scalars(select(AuditEntry)) if e.action == "case.read")


def _setup(site: Site) -> tuple[str, str, list[str]]:
    site.add_user("sara", "supervisor")  # before the cases, so they are sealed to her too
    refs = [site.make_case(priority=2 + i % 3) for i in range(55)]
    saydnaya = site.make_case(priority=1, reasons=("urgent_words",))
    tadmur = site.make_case(priority=1)
    _index(site, saydnaya, "سِجْن صَيْدنايا العسكري", "سوريا")
    _index(site, tadmur, "Tadmur prison", "Syria")
    return saydnaya, tadmur, refs


def _login(page, server: str, lang: str, site: Site) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    page.goto(f"{server}/login?lang={lang}")
    page.fill("input[name=username]", "sara")
    page.fill("input[name=passphrase]", OTHER_PASSPHRASE)
    page.fill("input[name=totp]", totp_code(site.secrets["sara"]))
    page.click("form.login button[type=submit]")
    page.wait_for_url(f"{server}/queue")


def _no_overflow(page, size: str) -> None:  # type: ignore[no-untyped-def]
    if size == "phone":
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(
            "[...document.querySelectorAll('main *')].filter(e => "
            "e.getBoundingClientRect().right > 391 || "
            "e.getBoundingClientRect().left < -1).slice(0, 5)"
            ".map(e => e.tagName + '.' + e.className + '#' + e.id)"
        )
        assert width <= 390, f"the page is {width} px wide at 390 px: {wide}"


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["ar", "en"])
def test_workbench_in_the_browser(
    site: Site,
    server: str,  # noqa: F811
    lang: str,
    size: str,
    browser: Any,
) -> None:
    from playwright.sync_api import expect

    SHOTS.mkdir(parents=True, exist_ok=True)
    saydnaya, tadmur, refs = _setup(site)
    words = WORDS[lang]
    context = browser.new_context(viewport=SIZES[size], locale=lang)
    page = context.new_page()
    _login(page, server, lang, site)
    expect(page.locator("html")).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    # sorting and pages, with the total
    expect(page.locator("#total")).to_contain_text(words["cases"])
    expect(page.locator("table.queue tbody tr")).to_have_count(50)
    _no_overflow(page, size)
    page.screenshot(path=str(SHOTS / f"queue-{lang}-{size}.png"), full_page=size == "desktop")
    page.click("#page-next")
    expect(page.locator("#total")).to_contain_text(words["page"])
    expect(page.locator("table.queue tbody tr")).to_have_count(7)
    page.click("a.sort[data-sort='ref']:visible")
    expect(page.locator("#total")).to_have_attribute("data-page", "1")
    first = page.locator("table.queue tbody tr").first.get_attribute("data-case")
    assert first == min([*refs, saydnaya, tadmur])
    # search by a facility name: found without opening any case
    before = _reads(site)
    page.fill("#q", "صيدنايا")
    page.press("#q", "Enter")
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    expect(page.locator(f"tr[data-case='{saydnaya}']")).to_be_visible()
    assert _reads(site) == before
    page.screenshot(path=str(SHOTS / f"search-{lang}-{size}.png"), full_page=True)
    # keyboard shortcuts with the script: j chooses, o opens, r goes to the reply box
    page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("j")
    expect(page.locator("tr.chosen")).to_have_attribute("data-case", saydnaya)
    page.keyboard.press("o")
    page.wait_for_url(f"{server}/cases/{saydnaya}")
    page.keyboard.press("r")
    expect(page.locator("#reply-text")).to_be_focused()
    page.locator("#reply-text").blur()
    page.keyboard.press("c")  # claims this case
    expect(page.locator("#case-assigned")).to_contain_text("sara")
    # the summary comes first, then the report
    order = page.evaluate("[...document.querySelectorAll('main section[id]')].map(s => s.id)")
    assert order[0] == "summary" and order.index("report") > order.index("organise")
    # link the two cases: the link shows on both
    page.fill("input[name=other]", tadmur)
    page.select_option("#link-form select[name=kind]", "same_facility")
    page.click("#link-save")
    expect(page.locator(f"#links li[data-link='{tadmur}']")).to_be_visible()
    _no_overflow(page, size)
    page.evaluate("window.scrollTo(0, 0)")  # the summary, as a caseworker opens it
    page.screenshot(path=str(SHOTS / f"case-{lang}-{size}.png"), full_page=size == "desktop")
    page.goto(f"{server}/cases/{tadmur}")
    expect(page.locator(f"#links li[data-link='{saydnaya}']")).to_be_visible()
    # a canned reply: kept by the supervisor, used from the one conversation box
    page.goto(f"{server}/canned")
    page.select_option("#canned-add select[name=lang]", lang)
    page.fill("#canned-add input[name=title]", "ack")
    page.fill("#canned-add textarea[name=body]", words["canned"])
    page.click("#canned-add button[type=submit]")
    page.screenshot(path=str(SHOTS / f"canned-{lang}-{size}.png"), full_page=True)
    page.goto(f"{server}/cases/{saydnaya}")
    page.select_option("#canned-pick select[name=canned]", index=1)
    page.click("#canned-use")
    expect(page.locator("#reply-text")).to_have_value(words["canned"])
    page.click("#send-to-reporter")
    expect(page.locator("article.msg[data-from='caseworker']")).to_contain_text(words["canned"])
    # bulk assignment from the queue
    page.goto(f"{server}/queue?sort=ref")
    for ref in sorted(refs)[:2]:
        page.check(f"input[name=refs][value='{ref}']")
    page.select_option("#bulk select[name=op]", "assign")
    page.select_option("#bulk select[name=to]", "demo")
    page.click("#bulk-apply")
    expect(page.locator(".flash").first).to_contain_text(words["done"])
    page.goto(f"{server}/queue?assignee=demo")
    expect(page.locator("table.queue tbody tr")).to_have_count(2)
    context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_same_tasks_without_javascript(
    site: Site,
    server: str,  # noqa: F811
    lang: str,
    browser: Any,
) -> None:
    from playwright.sync_api import expect

    saydnaya, tadmur, refs = _setup(site)
    words = WORDS[lang]
    context = browser.new_context(viewport=SIZES["phone"], locale=lang, java_script_enabled=False)
    page = context.new_page()
    _login(page, server, lang, site)
    expect(page.locator("#total")).to_contain_text(words["cases"])
    page.fill("#q", "صيدنايا")
    page.click("#search")
    expect(page.locator("table.queue tbody tr")).to_have_count(1)
    # no script: a key does nothing, the buttons do everything
    page.keyboard.press("j")
    expect(page.locator("tr.chosen")).to_have_count(0)
    page.locator(f"tr[data-case='{saydnaya}'] button.claim").click()
    page.goto(f"{server}/cases/{saydnaya}")
    expect(page.locator("#case-assigned")).to_contain_text("sara")
    page.fill("input[name=other]", tadmur)
    page.select_option("#link-form select[name=kind]", "duplicate")
    page.click("#link-save")
    expect(page.locator(f"#links li[data-link='{tadmur}']")).to_be_visible()
    page.goto(f"{server}/canned")
    page.select_option("#canned-add select[name=lang]", lang)
    page.fill("#canned-add input[name=title]", "ack")
    page.fill("#canned-add textarea[name=body]", words["canned"])
    page.click("#canned-add button[type=submit]")
    page.goto(f"{server}/cases/{saydnaya}")
    page.select_option("#canned-pick select[name=canned]", index=1)
    page.click("#canned-use")
    expect(page.locator("#reply-text")).to_have_value(words["canned"])
    page.click("#send-to-reporter")
    expect(page.locator("article.msg[data-from='caseworker']")).to_have_count(1)
    page.goto(f"{server}/queue?sort=ref")
    for ref in sorted(refs)[:2]:
        page.check(f"input[name=refs][value='{ref}']")
    page.select_option("#bulk select[name=op]", "assign")
    page.select_option("#bulk select[name=to]", "demo")
    page.click("#bulk-apply")
    expect(page.locator(".flash").first).to_contain_text(words["done"])
    page.click("a.sort[data-sort='ref']:visible")  # descending now
    first = page.locator("table.queue tbody tr").first.get_attribute("data-case")
    assert first == max([*refs, saydnaya, tadmur])
    _no_overflow(page, "phone")
    context.close()


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_an_open_queue_says_when_cases_arrive_and_marks_them_new(
    site: Site, lang: str, browser: Any
) -> None:
    """The live queue (the script, polling every second here instead of 20) and the unread
    badges: a report that arrives while the queue is open is announced in the page's language,
    shown as new after "show", and no longer new once opened. Without the script the badges
    are the same and nothing polls."""
    from playwright.sync_api import expect

    from tests.web.live import serve
    from web import create_app as make_app

    site.add_user("sara", "supervisor")
    old = site.make_case(priority=2)
    announce = {
        "ar": "١ حالة وردت أو تغيّرت منذ تحميل هذه الصفحة.",
        "en": "1 case arrived or changed since this page was loaded.",
    }[lang]
    with serve(make_app(site.dashboard, live_seconds=1)) as live_server:
        page = browser.new_context(viewport=SIZES["desktop"], locale=lang).new_page()
        _login(page, live_server, lang, site)
        expect(page.locator(f"tr[data-case='{old}'] .tag.unseen")).to_be_visible()
        page.goto(f"{live_server}/cases/{old}")
        page.goto(f"{live_server}/queue")
        expect(page.locator(f"tr[data-case='{old}']")).not_to_have_attribute("data-unseen", "1")
        expect(page.locator("#live")).to_be_hidden()
        fresh = site.make_case(priority=1)  # a report arrives while the queue is open
        expect(page.locator("#live")).to_be_visible(timeout=10_000)
        expect(page.locator("#live .live-text")).to_have_text(announce)
        assert page.title().startswith("(1) ")
        page.screenshot(path=str(SHOTS / f"queue-live-{lang}.png"))
        page.click("#live-show")
        expect(page.locator(f"tr[data-case='{fresh}']")).to_have_attribute("data-unseen", "1")
        expect(page.locator("#live")).to_be_hidden()
        page.goto(f"{live_server}/cases/{fresh}")
        page.goto(f"{live_server}/queue")
        expect(page.locator("tr[data-unseen]")).to_have_count(0)
        # without the script: the same badges, and no request to /queue/changes
        quiet = browser.new_context(viewport=SIZES["phone"], locale=lang, java_script_enabled=False)
        other = quiet.new_page()
        asked: list[str] = []
        other.on("request", lambda r: asked.append(r.url))
        other.goto(f"{live_server}/login?lang={lang}")  # demo has opened nothing yet
        other.fill("input[name=username]", "demo")
        other.fill("input[name=passphrase]", PASSPHRASE)
        other.fill("input[name=totp]", totp_code(site.secrets["demo"]))
        other.click("form.login button[type=submit]")
        other.wait_for_url(f"{live_server}/queue")
        expect(other.locator("tr[data-unseen='1']")).to_have_count(2)
        other.wait_for_timeout(1500)
        assert not [u for u in asked if "/queue/changes" in u]
        quiet.close()
