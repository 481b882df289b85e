"""Issue 16 item 4 (walkthrough 2026-12, M8 and the web minors): every code a caseworker
reads is in words in both languages, nothing consequential is preselected, a reply to the
reporter is named as one, and "write back" is never "done" while nothing was sent."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from storage import cases
from storage.caseworker_models import CaseAction
from storage.models import Case
from tests.web.conftest import Site, post


def _visible(html: str) -> str:
    """The page's text as a person reads it (no tags, no attribute values)."""
    return re.sub(r"<[^>]+>", " ", html)


def _selects(html: str) -> dict[str, str]:
    return {
        m.group(1): m.group(2)
        for m in re.finditer(r'<select name="([a-z_]+)"[^>]*>(.*?)</select>', html, re.S)
    }


def test_codes_are_words_in_both_languages(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case(priority=1, reasons=("urgent_words", "rule_added_later"))
    for lang, language, unknown in (
        ("en", "English", "another triage rule"),
        ("ar", "الإنكليزية", "قاعدة فرز أخرى"),
    ):
        for url in ("/queue", f"/cases/{ref}"):
            text = _visible(demo.get(f"{url}?lang={lang}").text)
            assert "urgent_words" not in text and "rule_added_later" not in text
            assert unknown in text
        page = demo.get(f"/cases/{ref}?lang={lang}").text
        lang_cell = re.search(r'<dd id="case-lang">(.*?)</dd>', page)
        assert lang_cell and lang_cell.group(1) == language
    arabic = demo.get(f"/cases/{ref}?lang=ar").text
    assert '<dd class="prio p1">١ —' in arabic  # the priority in Arabic-Indic digits
    assert "لا ملفات." in arabic and "No files." in demo.get(f"/cases/{ref}?lang=en").text
    assert "(٠ دقيقة)" in arabic  # the age in Arabic-Indic digits


def test_nothing_consequential_is_preselected(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    site.add_user("amira", "caseworker")
    ref = site.make_case(priority=2)
    page = demo.get(f"/cases/{ref}?lang=en").text
    selects = _selects(page)
    for name in ("to", "reason", "priority", "kind", "colleague", "purpose"):
        if name not in selects:
            continue
        chosen = re.findall(r'<option value="([^"]*)"[^>]*\bselected\b', selects[name])
        assert chosen == [""], (name, chosen)
    # the State-facing action is only there to choose; the current priority is not offered
    assert 'value="raise_with_state"' in selects["kind"]
    assert 'value="2"' not in selects["priority"]
    # the action form no longer has a second box for a message to the reporter
    assert page.count('name="message"') == 1
    # choosing nothing is refused with words, and nothing is recorded
    post(demo, f"/cases/{ref}/action", {"kind": ""}, page=f"/cases/{ref}")
    assert "choose an action" in demo.get(f"/cases/{ref}?lang=en").text
    with site.db.transaction() as session:
        assert list(session.scalars(select(CaseAction))) == []


def test_a_reply_is_named_as_a_reply_and_shows_its_delivery(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    url = f"/cases/{ref}"
    post(demo, f"{url}/note", {"text": "internal: call the lawyer"}, page=url)
    post(demo, f"{url}/action", {"kind": "write_back", "message": "Are you safe now?"}, page=url)
    page = demo.get(f"{url}?lang=en").text
    history = re.search(r'<ol class="history">(.*?)</ol>', page, re.S)
    assert history
    events = re.findall(r'data-event="([a-z_]+)">([^<]+)<', history.group(1))
    labels = [label for _, label in events]
    assert labels.count("Note added") == 1 and labels.count("Reply written to the reporter") == 1
    assert "Event" not in labels
    actions = re.search(r'<ul class="actions">(.*?)</ul>', page, re.S)
    assert actions
    line = re.search(r'<li data-action-kind="write_back">(.*?)</li>', actions.group(1), re.S)
    assert line and "— done —" not in line.group(1)
    assert "waiting to be delivered" in line.group(1) or "not sent" in line.group(1)
    arabic = demo.get(f"{url}?lang=ar").text
    assert "كُتب ردّ إلى المُبلِّغ" in arabic


def test_an_empty_reply_is_refused_not_done(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    post(
        demo, f"/cases/{ref}/action", {"kind": "write_back", "message": "  "}, page=f"/cases/{ref}"
    )
    assert "write the message first" in demo.get(f"/cases/{ref}?lang=en").text
    with site.db.transaction() as session:
        assert list(session.scalars(select(CaseAction))) == []


def test_completed_and_support_offered_are_named(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        now = datetime.now(UTC)
        cases.record_event(session, case.id, "support_offered", now, ids=["x"])
        cases.record_event(session, case.id, "completed", now)
    english = _visible(demo.get(f"/cases/{ref}?lang=en").text)
    assert "Support contacts offered to the reporter" in english
    assert "The reporter completed the report" in english
    assert " Event " not in english
    arabic = demo.get(f"/cases/{ref}?lang=ar").text
    history = re.search(r'<ol class="history">(.*?)</ol>', arabic, re.S)
    assert history and "عُرضت على المُبلِّغ جهات دعم" in history.group(1)
    assert "حدث" not in _visible(history.group(1))


def test_small_counts_read_fewer_than_in_arabic_digits(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    site.make_case()
    arabic = demo.get("/stats?lang=ar").text
    table = re.search(r'<table class="stats">(.*?)</table>', arabic, re.S)
    assert table and "أقل من ٥" in table.group(1)
    assert "&lt;5" not in table.group(1) and "5&gt;" not in table.group(1)
    english = demo.get("/stats?lang=en").text
    assert "fewer than 5" in english


def test_a_date_inside_arabic_free_text_keeps_its_order(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case(
        fields={
            "report_type": "complaint",
            "narrative": "x",
            "incident_date": {"raw": "قبل ثلاثة أيام", "iso": "2026-11-28"},
        }
    )
    page = demo.get(f"/cases/{ref}?lang=ar").text
    assert "قبل ثلاثة أيام \u2066[2026-11-28]\u2069" in page
