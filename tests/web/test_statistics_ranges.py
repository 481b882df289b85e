"""Statistics over chosen ranges and cross-tables through the dashboard (issue 17): the CSV
keeps its shape with the cross-tables in it, every reader sees the same figures for the same
range, a withdrawal disappears from every range, the chart of a cross-table marks what is
withheld in both languages, and a bad range is refused in the reader's language."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from storage import statistics as stat_rows
from storage.models import Case
from tests.web.conftest import OTHER_PASSPHRASE, Site, login


def _in_month(site: Site, ref: str, month: str) -> None:
    """As if the report had been received in `month` (the statistics keep only the month)."""
    with site.db.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_ref == ref))
        assert case_id is not None
        session.execute(
            update(stat_rows.StatValue)
            .where(
                stat_rows.StatValue.row_key == stat_rows.stat_key(site.home.pepper(), case_id),
                stat_rows.StatValue.dimension == "month",
            )
            .values(value=month)
        )
        stat_rows._changed(session)


def _csv(client: Any, query: str = "") -> list[str]:
    response = client.get("/stats?format=csv" + query)
    assert response.status_code == 200
    return response.text.splitlines()


def _women_beaten(site: Site, n: int, month: str, **extra: Any) -> list[str]:
    refs = []
    for _ in range(n):
        ref = site.make_case(
            fields={
                "report_type": "complaint",
                "country": "SY",
                "victim_gender": "woman",
                "violation_types": ["beating"],
                "perpetrator_type": ["police"],
                **extra,
            }
        )
        _in_month(site, ref, month)
        refs.append(ref)
    return refs


def test_ranges_and_cross_tables_are_the_same_for_every_reader_and_lose_a_withdrawal(
    site: Site, demo: Any
) -> None:
    _women_beaten(site, 8, "2026-01")
    _women_beaten(site, 6, "2026-02")
    gone = _women_beaten(site, 1, "2026-03")[0]
    site.add_user("sam", "caseworker")
    sam = site.client()
    assert login(sam, "sam", OTHER_PASSPHRASE, site.secrets["sam"]).status_code == 303
    site.add_user("audra", "auditor")
    audra = site.client()
    assert login(audra, "audra", OTHER_PASSPHRASE, site.secrets["audra"]).status_code == 303
    for query in ("", "&from=2026-01&to=2026-02", "&from=2026-02&to=2026-03"):
        assert _csv(demo, query) == _csv(sam, query) == _csv(audra, query)
    lines = _csv(demo)
    assert lines[0] == "dimension,value,count" and lines[1] == "total,,15"
    assert "victim_gender × violation_types,woman × beating,15" in lines
    assert "country × perpetrator_type,SY × police,15" in lines
    assert "report_type × country,complaint × SY,15" in lines
    assert "month,2026-03,<5" in lines
    assert not ("month,2026-01,8" in lines and "month,2026-02,6" in lines)
    # January-February against the whole quarter: March's one report is never given away
    assert "total,,14" not in _csv(demo, "&from=2026-01&to=2026-02")
    later = _csv(demo, "&from=2026-02&to=2026-03")  # 7 = 15 - 8 may show: it is no news
    assert "month,2026-03,1" not in later and not any(line.endswith(",1") for line in later)
    with site.db.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_ref == gone))
        assert case_id is not None
        stat_rows.forget_case_statistics(session, case_id, site.home.pepper())
    for client in (demo, sam, audra):  # the cached release is rebuilt for everyone
        after = _csv(client)
        assert after[1] == "total,,14"
        assert not any(line.startswith("month,2026-03") for line in after)
        assert "victim_gender × violation_types,woman × beating,14" in after


def test_the_page_shows_cross_tables_and_charts_mark_withheld_cells_in_both_languages(
    site: Site, demo: Any
) -> None:
    _women_beaten(site, 7, "2026-01")
    ref = site.make_case(
        fields={
            "report_type": "complaint",
            "country": "SY",
            "victim_gender": "man",
            "violation_types": ["beating"],
            "perpetrator_type": ["police"],
        }
    )
    _in_month(site, ref, "2026-01")
    page = demo.get("/stats?from=2026-01&to=2026-01").text
    assert "Cross-tables" in page and 'data-dim="victim_gender × violation_types"' in page
    assert "/stats/cross/victim_gender/violation_types.svg?from=2026-01&amp;to=2026-01" in page
    en = demo.get("/stats/cross/victim_gender/violation_types.svg?from=2026-01&to=2026-01")
    assert en.status_code == 200 and en.headers["content-type"].startswith("image/svg+xml")
    assert "<script" not in en.text
    assert "&lt;5 withheld" in en.text and "Victim gender × Violation type" in en.text
    assert 'class="value">1<' not in en.text  # the man's single report: no bar, no number
    ar_page = demo.get("/stats?lang=ar&from=2026-01&to=2026-01").text
    assert "الجداول المتقاطعة" in ar_page and "٨" in ar_page
    ar = demo.get(
        "/stats/cross/victim_gender/violation_types.svg?from=2026-01&to=2026-01",
        headers={"Accept-Language": "ar"},
    ).text
    assert "أقل من ٥ محجوب" in ar and "جنس الضحية × نوع الانتهاك" in ar and "<script" not in ar


def test_a_bad_range_is_refused_in_the_readers_language(site: Site, demo: Any) -> None:
    bad = demo.get("/stats?from=2026-13&to=2026-14")
    assert bad.status_code == 400 and "YYYY-MM" in bad.text
    backwards = demo.get("/stats?from=2026-05&to=2026-01")
    assert backwards.status_code == 400 and "ends before it starts" in backwards.text
    demo.get("/stats?lang=ar")
    ar = demo.get("/stats?from=٢٠٢٦-٠٥&to=٢٠٢٦-٠١")
    assert ar.status_code == 400 and "تنتهي الفترة قبل أن تبدأ" in ar.text
