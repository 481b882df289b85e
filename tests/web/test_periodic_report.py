"""The periodic report (issue 17 item 4): counts of a known data set, suppression no figure of
the report can undo, both languages in the PDF, the CSV's shape, audit, and the CLI."""

from __future__ import annotations

import collections
import io
import itertools
import random
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from caseworker import reports
from storage import casework
from storage import caseworker_models as casework_models
from storage import statistics as stat_rows
from storage.models import AuditEntry, Case
from tests.web.conftest import CONSENT_NONE, DEMO_TOTP, OTHER_PASSPHRASE, Site, login

X = reports.JOINER


@pytest.fixture
def sue(site: Site) -> Any:
    """A supervisor (the San José focal point): the demo account is a caseworker."""
    site.add_user("sue", "supervisor")
    client = site.client()
    assert login(client, "sue", OTHER_PASSPHRASE, site.secrets["sue"]).status_code == 303
    return client


def _period() -> dict[str, str]:
    """This month so far: a period holding no whole calendar year."""
    today = datetime.now(UTC).date()
    return {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}


def _year() -> dict[str, str]:
    """This calendar year, the whole of it: the steps are counted."""
    year = datetime.now(UTC).year
    return {"from": f"{year}-01-01", "to": f"{year}-12-31"}


def _demo(site: Site) -> Any:
    """The demo caseworker, signed in on the dashboard (the next TOTP step: a test may have
    signed in on the web with this one)."""
    from tests.web.conftest import PASSPHRASE, totp_code

    return site.dashboard.login("demo", PASSPHRASE, totp_code(DEMO_TOTP, 1))


def _act(site: Site, who: Any, ref: str, kind: str) -> None:
    """A step as the case page records it (the dashboard refreshes the statistics row)."""
    assert site.dashboard.act(
        who, ref, kind, message="A reply." if kind == "write_back" else None
    ).done


def _assess(site: Site, who: Any, ref: str, hours: float) -> None:
    """The first assessment `hours` after receipt, on the dashboard's clock."""
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        at = case.received_at.replace(tzinfo=UTC) + timedelta(hours=hours)
    clock = site.dashboard._clock
    site.dashboard._clock = at.timestamp
    try:
        site.dashboard.change_status(who, ref, "under_assessment", "assessment_started")
    finally:
        site.dashboard._clock = clock


def _dataset(site: Site) -> dict[str, list[str]]:
    complaints = [
        site.make_case(fields={"report_type": "complaint", "country": "SY" if i < 9 else "LB"})
        for i in range(11)
    ]
    reprisals = [
        site.make_case(fields={"report_type": "reprisal", "country": "SY"}, report_type="reprisal")
        for _ in range(6)
    ]
    # no consent to statistics: neither the report nor its steps count
    quiet = site.make_case(
        fields={"report_type": "reprisal", "country": "SY"},
        report_type="reprisal",
        consent={**CONSENT_NONE, "consent_followup": "yes"},
    )
    who = _demo(site)
    # 0.5 h, 1..6 h, then 7..10 h: buckets h1 (2), h6 (5), h24 (4)
    for hours, ref in zip((0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), complaints, strict=True):
        _assess(site, who, ref, hours)
    for ref in reprisals:
        _act(site, who, ref, "refer")
    for ref in reprisals[:5]:
        _act(site, who, ref, "raise_with_state")
    for ref in reprisals[:2]:
        _act(site, who, ref, "interim_measures")
    for ref in reprisals[:3]:
        site.dashboard.state_response(who, ref, "raise_with_state", "replied")
    _act(site, who, quiet, "write_back")
    return {"complaint": complaints, "reprisal": reprisals}


def _rows(csv_text: str) -> list[list[str]]:
    lines = csv_text.splitlines()
    assert lines[0] == "dimension,value,count"
    return [line.split(",") for line in lines[1:]]


def _attack(rows: list[list[str]]) -> dict[tuple[str, str], set[int]]:
    """What a reader can learn of each suppressed cell from the whole report: each table of a
    single answer sums to its total (the report's total, the type's count, the step's
    count), absent cells are 0, `<N` means 1..N-1; every combination is enumerated. (The
    report's counts of reports are the release's, which tests/web/test_release_attack.py
    attacks jointly with every range of the statistics page.)"""
    cells = {(d, v): c for d, v, c in rows if d not in ("period", "note", reports.TIMING)}
    total = cells[("total", "")]
    groups: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]] = {}
    for one_way in ("report_type", "status"):
        groups[(one_way, "")] = (total, [(v, c) for (d, v), c in cells.items() if d == one_way])
    for (d, v), c in cells.items():
        parts = v.split(X)
        if d == f"report_type{X}country":
            sum_to = cells[("report_type", parts[0])]
            groups.setdefault((d, parts[0]), (sum_to, []))[1].append((v, c))
        if d == reports.RESPONSES:
            sum_to = cells[(reports.STEPS, X.join(parts[:3]))]
            groups.setdefault((d, X.join(parts[:3])), (sum_to, []))[1].append((v, c))
    possible: dict[tuple[str, str], set[int]] = {}
    for (dim, _), (sum_to, members) in groups.items():
        # the report's own breakdowns only under an exact count (the release's tables are
        # audited jointly, by linear programming, and may publish a cell under a `<N`)
        assert dim != reports.RESPONSES or not sum_to.startswith("<") or not members, dim
        if sum_to.startswith("<"):
            continue
        hidden = [(v, int(c[1:]) - 1) for v, c in members if c.startswith("<")]
        known = sum(int(c) for _, c in members if not c.startswith("<"))
        seen: dict[str, set[int]] = {v: set() for v, _ in hidden}
        for combo in itertools.product(*[range(1, hi + 1) for _, hi in hidden]):
            if known + sum(combo) == int(sum_to):
                for (v, _), x in zip(hidden, combo, strict=True):
                    seen[v].add(x)
        for v, values in seen.items():
            possible[(dim, v)] = values
    for (d, v), c in cells.items():  # multiple-choice steps: only their own range
        if d == reports.STEPS and c.startswith("<"):
            possible[(d, v)] = set(range(1, int(c[1:])))
    return possible


def test_the_report_counts_a_known_data_set_and_hides_what_it_must(site: Site, sue: Any) -> None:
    _dataset(site)
    response = sue.get("/reports/periodic", params={**_year(), "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = _rows(response.text)
    got = {(d, v): c for d, v, c in rows}
    year = str(datetime.now(UTC).year)
    assert rows[0] == ["period", f"{year}-01/{year}-12", ""]
    assert got[("total", "")] == "17"  # the report without consent to statistics is left out
    assert got[("report_type", "complaint")] == "11" and got[("report_type", "reprisal")] == "6"
    # 9 + 2 = 11: LB is primary-suppressed, so SY must be hidden too
    assert got[(f"report_type{X}country", f"complaint{X}LB")] == "<5"
    assert got[(f"report_type{X}country", f"complaint{X}SY")].startswith("<")
    assert got[("status", "under_assessment")] == "11"
    assert got[("status", "allegation_pending_assessment")] == "6"
    assert not any(d == f"report_type{X}status" for d, _, _ in rows)  # one way, as the page
    steps, answers = reports.STEPS, reports.RESPONSES
    assert got[(steps, f"{year}{X}reprisal{X}refer")] == "6"
    assert got[(steps, f"{year}{X}reprisal{X}raise_with_state")] == "5"
    assert got[(steps, f"{year}{X}reprisal{X}interim_measures")] == "<5"
    assert not any(v.startswith(f"{year}{X}reprisal") and "write_back" in v for _, v, _ in rows)
    assert got[(answers, f"{year}{X}reprisal{X}raise_with_state{X}replied")] == "<5"
    assert got[(answers, f"{year}{X}reprisal{X}raise_with_state{X}awaiting")] == "<5"
    # the interim measures' count is withheld: their responses are not broken down
    assert not any("interim_measures" in v for d, v, _ in rows if d == answers)
    # 11 complaints less at most 6 pending leaves 5 assessed for sure: 2 within an hour,
    # 5 more within 6, 4 more within 24: the nearest-rank median (6th) is within 6 hours,
    # the 90th percentile (10th) within 24
    assert got[(reports.TIMING, f"{year}{X}complaint{X}median")] == "6"
    assert got[(reports.TIMING, f"{year}{X}complaint{X}p90")] == "24"
    assert (reports.TIMING, f"{year}{X}reprisal{X}median") not in got  # none assessed
    for cell, values in _attack(rows).items():
        assert values == {1, 2, 3, 4} or (len(values) >= 2 and cell[1].endswith("SY")), (
            cell,
            values,
        )
    with site.db.transaction() as session:
        entries = list(
            session.scalars(select(AuditEntry).where(AuditEntry.action == "report.periodic"))
        )
    assert [(e.actor, e.outcome) for e in entries] == [("sue", "granted")]
    assert entries[0].detail["period"] == f"{year}-01/{year}-12"


def test_the_reports_counts_are_the_statistics_pages_for_the_same_months(
    site: Site, sue: Any
) -> None:
    """No second suppression: whatever period is chosen, every count of reports the report
    gives is the statistics page's for those months, and a period without a whole calendar
    year gives no steps at all (January-June and January-July would give July's)."""
    from tests.web.test_statistics_ranges import _in_month

    year = datetime.now(UTC).year
    _dataset(site)
    for i in range(15):  # reprisals earlier in the year, five a month in three months
        ref = site.make_case(
            fields={"report_type": "reprisal", "country": "SY"}, report_type="reprisal"
        )
        _in_month(site, ref, f"{year}-{1 + i % 3:02d}")
    for first, last in ((1, 12), (1, 6), (1, 7), (2, 3), (12, 12)):
        period = {"from": f"{year}-{first:02d}-01", "to": f"{year}-{last:02d}-28"}
        report = _rows(sue.get("/reports/periodic", params={**period, "format": "csv"}).text)
        page = _rows(
            sue.get(
                "/stats",
                params={"format": "csv", "from": f"{year}-{first:02d}", "to": f"{year}-{last:02d}"},
            ).text
        )
        assert [r for r in report if r[0] in reports.POPULATION_TABLES] == [
            r for r in page if r[0] in reports.POPULATION_TABLES
        ], (first, last)
        whole = (first, last) == (1, 12)
        assert whole or not any(r[0].startswith("year") for r in report), (first, last)
        assert (["note", reports.WHOLE_YEARS_ONLY, ""] in report) == (
            not whole and report[1][2].isdigit()
        ), (first, last)


def test_a_period_without_a_whole_year_says_why_its_steps_are_missing_in_both_languages(
    site: Site, sue: Any
) -> None:
    _dataset(site)
    en = sue.get("/reports/periodic", params={**_period(), "lang": "en"}).text
    assert "whole calendar years only" in en and "State contacted" not in en
    ar = sue.get("/reports/periodic", params={**_period(), "lang": "ar"}).text
    assert "للسنوات التقويمية الكاملة فقط" in ar
    whole = sue.get("/reports/periodic", params={**_year(), "lang": "en"}).text
    assert "whole calendar years only" not in whole and "State contacted" in whole


def test_a_small_period_publishes_only_a_suppressed_total(site: Site, sue: Any) -> None:
    for _ in range(4):
        site.make_case(fields={"report_type": "reprisal", "country": "SY"}, report_type="reprisal")
    for period in (_period(), _year()):
        rows = _rows(sue.get("/reports/periodic", params={**period, "format": "csv"}).text)
        assert rows[1:] == [["total", "", "<5"]]


def test_a_caseworker_may_not_and_a_bad_period_is_refused_in_both_languages(
    site: Site, sue: Any, demo: Any
) -> None:
    assert (
        sue.get("/reports/periodic", params={"from": "2026-05-01", "to": "2026-04-01"}).status_code
        == 400
    )
    ar = sue.get("/reports/periodic", params={"from": "x", "to": "y", "lang": "ar"})
    assert ar.status_code == 400 and "تحتاج الفترة" in ar.text
    assert demo.get("/reports/periodic", params=_period()).status_code == 403  # a caseworker


def test_an_auditor_sees_the_report_page_in_arabic_with_arabic_digits(site: Site) -> None:
    _dataset(site)
    site.add_user("audra", "auditor")
    audra = site.client()
    assert login(audra, "audra", OTHER_PASSPHRASE, site.secrets["audra"]).status_code == 303
    page = audra.get("/reports/periodic", params={**_year(), "lang": "ar"})
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert "ادعاءات الانتقام: الخطوات المتخذة" in page.text and "١٧" in page.text
    assert "<bdi>&lt;٥</bdi>" in page.text


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_in_both_languages(site: Site, sue: Any) -> None:
    from web.pdf import fonts_available

    if not fonts_available():
        pytest.skip("no Arabic-capable font installed (Debian: fonts-noto-core)")
    _dataset(site)
    ar = sue.get("/reports/periodic", params={**_year(), "format": "pdf", "lang": "ar"})
    assert ar.status_code == 200 and ar.headers["content-type"] == "application/pdf"
    text = _pdf_text(ar.content)
    assert "ادعاءات الترهيب أو الانتقام" in text and "التواصل مع الدولة" in text
    # Arabic-Indic digits only; fpdf2 lays a number out left to right (UAX #9) and pypdf,
    # reading the right-to-left line back, reverses its digits: 17 is read as "٧١"
    assert "١١" in text and "٦" in text and ("١٧" in text or "٧١" in text)
    assert not re.search("17|11|<5|5<", text)
    en = _pdf_text(
        sue.get("/reports/periodic", params={**_year(), "format": "pdf", "lang": "en"}).content
    )
    assert "Allegations of intimidation or reprisals" in en and "State contacted" in en
    assert "Median" in en and "within 6 hours" in en and "within 24 hours" in en, en
    assert "<5" in en


def _synthetic(rng: random.Random) -> tuple[list[dict[str, str]], dict[Any, int]]:
    """Random reports: their statistics answers, and their casework rows counted as
    storage.statistics.casework_tallies counts them (from casework_values, which the
    statistics row of a real case is refreshed with)."""
    now = datetime(2026, 6, 30, tzinfo=UTC)
    reports_, casework = [], collections.Counter()
    for _ in range(rng.randint(0, 40)):
        received = now - timedelta(hours=rng.randint(100, 2000))
        steps = []
        for kind in reports.STEP_KINDS:
            if rng.random() < 0.4:
                steps.append(
                    casework_models.CaseAction(
                        kind=kind,
                        outcome="done",
                        at=received,
                        deadline=received + timedelta(days=7)
                        if kind == "interim_measures"
                        else None,
                        detail={"state_response": rng.choice(("replied", "refused", None))},
                    )
                )
        status = rng.choices(
            ("allegation_pending_assessment", "under_assessment", "closed"), (1, 4, 4)
        )[0]  # mostly assessed: the timing is published
        answers = {
            "month": received.strftime("%Y-%m"),
            "report_type": rng.choice(("complaint", "reprisal", "none")),
            "country": rng.choice(("SY", "LB", "none")),
            "status": status,
        }
        reports_.append(answers)
        assessed = (
            None
            if status == "allegation_pending_assessment"
            else received + timedelta(hours=rng.randint(1, 900))
        )
        for dim, values in stat_rows.casework_values(steps, received, assessed).items():
            for value in values:
                casework[(answers["month"], answers["report_type"], dim, value)] += 1
    return reports_, dict(casework)


def _release_of(answers: list[dict[str, str]]) -> Any:
    from caseworker.release import build, tallies

    return build(*tallies(answers), k=5)


def test_no_suppressed_cell_of_random_reports_can_be_recomputed() -> None:
    rng = random.Random(32)
    broken_down = timed = 0
    for _ in range(40):  # each builds and audits a release (about 0.4 s): 40 of them
        answers, casework = _synthetic(rng)
        first, last = rng.choice(
            (
                ("2026-01", "2026-12"),
                ("2026-01", "2026-06"),
                ("2025-01", "2026-12"),
                ("2026-04", "2026-05"),
            )
        )
        report = reports.compose(
            _release_of(answers), casework, first, last, datetime(2026, 7, 1, tzinfo=UTC)
        )
        rows = _rows(reports.report_csv(report))
        with_steps = any(r[0] == reports.STEPS for r in rows)
        assert with_steps <= (last[5:] == "12"), rows
        broken_down += with_steps
        timed += any(r[0] == reports.TIMING for r in rows)
        for cell, values in _attack(rows).items():
            assert len(values) >= 2, (cell, values, rows)
    assert broken_down >= 3 and timed >= 1  # the steps tables were attacked, not only counts


def test_period_parsing_takes_arabic_digits_and_whole_months() -> None:
    assert reports.parse_period("٢٠٢٦-٠١-١٥", "2026-03-02") == (date(2026, 1, 15), date(2026, 3, 2))
    with pytest.raises(reports.PeriodError):
        reports.parse_period("2020-01-01", "2026-01-01")


def test_a_caseworker_records_the_states_answer_on_the_case_page(site: Site) -> None:
    """The State's answer is a choice on the case page (never text), shown in the actions
    and counted by the report; before anything was sent to the State there is no form."""
    from tests.web.conftest import DEMO_TOTP, PASSPHRASE, post

    ref = site.make_case(
        fields={"report_type": "reprisal", "country": "SY"}, report_type="reprisal"
    )
    demo = site.client()
    assert login(demo, "demo", PASSPHRASE, DEMO_TOTP).status_code == 303
    assert 'data-action="state-response"' not in demo.get(f"/cases/{ref}").text
    _act(site, _demo(site), ref, "raise_with_state")
    page = demo.get(f"/cases/{ref}?lang=ar").text
    assert 'data-action="state-response"' in page and "سجِّل ردّ الدولة" in page
    bad = post(
        demo,
        f"/cases/{ref}/state_response",
        {"step": "raise_with_state", "answer": "whatever"},
        page=f"/cases/{ref}",
    )
    assert bad.status_code == 303
    assert "اختر بماذا ردّت الدولة" in demo.get(f"/cases/{ref}").text  # the reader's language
    ok = post(
        demo,
        f"/cases/{ref}/state_response",
        {"step": "raise_with_state", "answer": "refused"},
        page=f"/cases/{ref}",
    )
    assert ok.status_code == 303
    shown = demo.get(f"/cases/{ref}?lang=en").text
    assert "answer was recorded" in shown and "the State answered: refused" in shown
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        answers = [a.detail.get("state_response") for a in casework.actions(session, case)]
        kinds = {a.action for a in session.scalars(select(AuditEntry))}
    assert answers == ["refused"] and "case.state_response" in kinds


def test_recount_writes_the_casework_of_rows_kept_before_it_existed(
    site: Site, sue: Any, cli_env: dict[str, str]
) -> None:
    """A register upgraded from a version whose statistics rows had no casework:
    `sanad report recount` writes it from the cases' actions and events, and the report's
    steps come back exactly as they were; a second run changes nothing."""
    from tests.cli.conftest import sanad

    _dataset(site)
    params = {**_year(), "format": "csv"}
    before = sue.get("/reports/periodic", params=params).text
    assert reports.STEPS in before
    with site.db.transaction() as session:  # as an earlier version left them
        session.execute(
            stat_rows.StatValue.__table__.delete().where(
                stat_rows.StatValue.dimension.in_(stat_rows.CASEWORK)
            )
        )
        stat_rows._changed(session)
    assert reports.STEPS not in sue.get("/reports/periodic", params=params).text
    done = sanad(cli_env, "report", "recount")
    assert "Recounted 17 report(s) with consent to statistics, of 18 case(s)." in done.stdout
    assert "Recounting the casework" in done.stderr  # the progress bar
    assert sue.get("/reports/periodic", params=params).text == before
    sanad(cli_env, "report", "recount")
    assert sue.get("/reports/periodic", params=params).text == before
