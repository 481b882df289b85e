"""Issue 16 item 1: finding cases without decrypting them. Reports go through the real intake
(the shipped flows and NLU), which computes the blind indexes; the dashboard searches them,
filters, sorts and pages with totals, and keeps saved views."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from caseworker.dashboard import Dashboard
from intake.service import IntakeService
from storage import search
from storage.audit_chain import AuditEntry
from storage.search_models import CaseTerm
from tests.support import PASSPHRASE, Chat, Clock
from tests.web.conftest import Site, login
from web import create_app


def _report(service: IntakeService, user: str, place: str, country: str) -> str:
    chat = Chat(service, user=user, lang="en", open_now=False)
    chat.src = replace(chat.src, route=f"chat-{user}")
    chat.replies = service.open(chat.src, "en").replies
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
            ("ongoing", "no"),
        ]
    )
    seen = set()
    while chat.question.field != "confirm_submit":
        field = chat.question.field
        if field == "incident_location" and field not in seen:
            chat.say(place)
        elif field == "country" and field not in seen:
            chat.say(country)
        else:
            chat.say("/skip")
        seen.add(field)
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


@pytest.fixture
def desk(
    site: Site, make_service: Callable[..., IntakeService], clock: Clock
) -> tuple[IntakeService, TestClient]:
    clock.now = time.time()
    service = make_service()
    dashboard = Dashboard(
        site.db,
        site.home.admin_public(),
        site.settings.attachments_dir,
        clock=clock,
        pepper=site.home.pepper(),
    )
    client = TestClient(create_app(dashboard), follow_redirects=False)
    assert login(client, "demo", PASSPHRASE, site.secrets["demo"]).status_code == 303
    return service, client


def _refs(html: str) -> list[str]:
    return re.findall(r'<tr class="p\d" data-case="([A-Z0-9-]+)"[^>]*>', html)


def _total(html: str) -> tuple[int, int, int]:
    m = re.search(
        r'data-total="(-?\d+)" data-more="[01]" '
        r'data-page="(\d+)" data-pages="(\d+)"',
        html,
    )
    assert m, "no total on the queue page"
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


def test_normalisation_finds_the_arabic_spellings_of_one_name() -> None:
    same = ["سِجْن صَيْدنايا", "السجن صيدنايا", "سجـــن صيدنايا", "سجن  صيدنايا،"]
    assert {tuple(search.normalise(s)) for s in same} == {("سجن", "صيدنايا")}
    assert search.normalise("فرع فلسطين في دمشق") == ["فرع", "فلسطين", "دمشق"]
    assert search.normalise("أحمد") == search.normalise("احمد") == search.normalise("إحمد")
    assert search.normalise("مدرسة") == search.normalise("مدرسه")
    assert search.normalise("Tadmur PRISON") == ["tadmur", "prison"]
    assert search.normalise("زنزانة ٢٣") == ["زنزانه", "23"]


def test_search_by_facility_finds_the_case_without_opening_any(
    site: Site, desk: tuple[IntakeService, TestClient]
) -> None:
    service, client = desk
    saydnaya = _report(service, "amal", "سِجْن صَيْدنايا العسكري", "سوريا")
    tadmur = _report(service, "basel", "Tadmur prison, Homs", "Syria")
    for words in ("صيدنايا", "سجن صيدنايا", "السجن"):
        page = client.get("/queue", params={"q": words, "lang": "ar"}).text
        assert _refs(page) == [saydnaya], words
        assert _total(page) == (1, 1, 1)
    assert _refs(client.get("/queue", params={"q": "tadmur"}).text) == [tadmur]
    assert _refs(client.get("/queue", params={"q": "prison homs"}).text) == [tadmur]
    assert _refs(client.get("/queue", params={"q": "prison aleppo"}).text) == []
    # a reference, typed in lower case and without its hyphen
    assert _refs(client.get("/queue", params={"q": tadmur.lower().replace("-", "")}).text) == [
        tadmur
    ]
    # the country and the region filters use the same blind indexes
    assert _refs(client.get("/queue", params={"country": "سوريا"}).text) == [saydnaya]
    assert _refs(client.get("/queue", params={"region": "HOMS"}).text) == [tadmur]
    # nothing was opened to find them: no case.read in the audit log, and the searches are
    # audited without their words
    with site.db.transaction() as session:
        entries = list(session.scalars(select(AuditEntry)))
        assert not [e for e in entries if e.action == "case.read"]
        searches = [e for e in entries if e.action == "queue.search"]
        assert searches and all("صيدنايا" not in str(e.detail) for e in searches)
        terms = list(session.scalars(select(CaseTerm)))
    assert {t.kind for t in terms} == {"place", "country"}
    # the database holds neither the words nor the key (derived from the pepper at run time)
    raw = Path(site.settings.database_url.removeprefix("sqlite:///"))
    data = b"".join(p.read_bytes() for p in raw.parent.glob(raw.name + "*"))
    key = search.index_key(site.home.pepper())
    assert "صيدنايا".encode() not in data and b"tadmur" not in data.lower()
    assert key not in data and key.hex().encode() not in data


def test_sorting_and_pages_with_totals(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    refs = [site.make_case(priority=1 + i % 4) for i in range(57)]
    first = demo.get("/queue?lang=en").text
    assert _total(first) == (57, 1, 2) and len(_refs(first)) == 50
    assert "57 cases" in first and "page 1 of 2" in first
    second = demo.get("/queue?page=2&lang=en").text
    assert _total(second) == (57, 2, 2) and len(_refs(second)) == 7
    assert not set(_refs(first)) & set(_refs(second))
    assert set(_refs(first)) | set(_refs(second)) == set(refs)
    by_ref = _refs(demo.get("/queue?sort=ref").text) + _refs(
        demo.get("/queue?sort=ref&page=2").text
    )
    assert by_ref == sorted(refs)
    assert _refs(demo.get("/queue?sort=-ref").text)[:3] == sorted(refs, reverse=True)[:3]
    arabic = demo.get("/queue?lang=ar").text
    assert "٥٧ حالة" in arabic and "الصفحة ١ من ٢" in arabic
    # the sort is kept when turning the page, and the header says which way it goes
    assert 'href="/queue?sort=-ref"' in demo.get("/queue?sort=ref").text
    assert 'aria-sort="ascending"' in demo.get("/queue?sort=ref").text
    assert 'href="/queue?sort=ref&amp;page=2"' in demo.get("/queue?sort=ref").text


def test_saved_views(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    urgent = site.make_case(priority=1)
    site.make_case(priority=2)
    claimed = site.make_case(priority=1)
    from tests.web.conftest import post

    post(demo, f"/cases/{claimed}/claim")
    assert _refs(demo.get("/queue?view=urgent_unassigned").text) == [urgent]
    assert _refs(demo.get("/queue?view=mine").text) == [claimed]
    assert _refs(demo.get("/queue?view=overdue").text) == []
    page = demo.get("/queue?lang=ar").text
    assert "غير مسندة، أولوية ١" in page


def test_a_bad_date_is_refused_in_words(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    site.make_case()
    page = demo.get("/queue?from=2026-13-01&lang=en")
    assert page.status_code == 200 and "dates are written YYYY-MM-DD" in page.text
    later = demo.get("/queue?from=2030-01-01").text
    assert _total(later)[0] == 0


def test_counting_stops_at_the_cap_and_says_so(site: Site, demo, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from caseworker import dashboard

    monkeypatch.setattr(dashboard, "COUNT_CAP", 5)
    for _ in range(8):
        site.make_case()
    page = demo.get("/queue?lang=en").text
    assert 'data-total="5" data-more="1"' in page
    assert "more than 5 cases: narrow the search or the filters" in page
    assert "أكثر من ٥ حالة" in demo.get("/queue?lang=ar").text


def test_withdrawal_deletes_the_blind_index_words_too(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from storage import cases
    from storage.models import Case

    ref = site.make_case()
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        search.index_case(
            session, site.home.pepper(), case.id, {"incident_location": "سجن صيدنايا"}
        )
    assert _refs(demo.get("/queue", params={"q": "صيدنايا"}).text) == [ref]
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        cases.withdraw(session, case, datetime.now(UTC))
    with site.db.transaction() as session:
        assert list(session.scalars(select(CaseTerm))) == []
    assert _refs(demo.get("/queue", params={"q": "صيدنايا"}).text) == []
