"""The periodic report (issue 17 item 4): counts of a known data set, suppression no figure of
the report can undo, both languages in the PDF, the CSV's shape, audit, and the CLI."""

from __future__ import annotations

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
from storage import statistics as stat_rows
from storage.models import AuditEntry, Case
from tests.web.conftest import CONSENT_NONE, OTHER_PASSPHRASE, Site, login

X = reports.X


@pytest.fixture
def sue(site: Site) -> Any:
    """A supervisor (the San José focal point): the demo account is a caseworker."""
    site.add_user("sue", "supervisor")
    client = site.client()
    assert login(client, "sue", OTHER_PASSPHRASE, site.secrets["sue"]).status_code == 303
    return client


def _period() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"from": today.replace(day=1).isoformat(), "to": today.isoformat()}


def _act(site: Site, ref: str, kind: str) -> None:
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        assert casework.record_action(session, case, kind, "demo", datetime.now(UTC)).done


def _assess(site: Site, ref: str, hours: float) -> None:
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        received = case.received_at.replace(tzinfo=UTC)
        casework.change_status(session, case, "under_assessment", "assessment_started", "demo",
                               received + timedelta(hours=hours))
        stat_rows.set_status(session, site.home.pepper(), case.id, "under_assessment")


def _dataset(site: Site) -> dict[str, list[str]]:
    complaints = [site.make_case(fields={"report_type": "complaint",
                                         "country": "SY" if i < 6 else "LB"})
                  for i in range(8)]
    reprisals = [site.make_case(fields={"report_type": "reprisal", "country": "SY"},
                                report_type="reprisal") for _ in range(6)]
    # no consent to statistics: neither the report nor its steps count
    quiet = site.make_case(fields={"report_type": "reprisal", "country": "SY"},
                           report_type="reprisal", consent=CONSENT_NONE)
    for hours, ref in enumerate(complaints, start=1):
        _assess(site, ref, hours)
    for ref in reprisals:
        _act(site, ref, "refer")
    for ref in reprisals[:5]:
        _act(site, ref, "raise_with_state")
    for ref in reprisals[:2]:
        _act(site, ref, "interim_measures")
    with site.db.transaction() as session:
        for ref in reprisals[:3]:
            case = session.scalar(select(Case).where(Case.case_ref == ref))
            assert case is not None
            casework.record_state_response(session, case, "raise_with_state", "replied",
                                           "demo", datetime.now(UTC))
        q = session.scalar(select(Case).where(Case.case_ref == quiet))
        assert q is not None
        casework.record_action(session, q, "write_back", "demo", datetime.now(UTC))
    return {"complaint": complaints, "reprisal": reprisals}


def _rows(csv_text: str) -> list[list[str]]:
    lines = csv_text.splitlines()
    assert lines[0] == "dimension,value,count"
    return [line.split(",") for line in lines[1:]]


def _attack(rows: list[list[str]], k: int = 5) -> dict[tuple[str, str], set[int]]:
    """What a reader can learn of each suppressed cell from the whole report: each table of a
    single answer sums to its total (the report's total, the type's count, the step's
    count), absent cells are 0, `<N` means 1..N-1; every combination is enumerated."""
    cells = {(d, v): c for d, v, c in rows if d not in ("period", "first_assessment_hours")}
    total = cells[("total", "")]
    groups: dict[tuple[str, str], tuple[str, list[tuple[str, str]]]] = {}
    groups[("report_type", "")] = (total, [(v, c) for (d, v), c in cells.items()
                                          if d == "report_type"])
    for (d, v), c in cells.items():
        parts = v.split(X)
        if d in (f"report_type{X}country", f"report_type{X}status"):
            sum_to = cells[("report_type", parts[0])]
            groups.setdefault((d, parts[0]), (sum_to, []))[1].append((v, c))
        if d == f"report_type{X}steps{X}state_response":
            sum_to = cells[(f"report_type{X}steps", f"{parts[0]}{X}{parts[1]}")]
            groups.setdefault((d, X.join(parts[:2])), (sum_to, []))[1].append((v, c))
    possible: dict[tuple[str, str], set[int]] = {}
    for (dim, _), (sum_to, members) in groups.items():
        assert not sum_to.startswith("<") or not members, f"{dim} broken down from <N"
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
        if d == f"report_type{X}steps" and c.startswith("<"):
            possible[(d, v)] = set(range(1, int(c[1:])))
    return possible


def test_the_report_counts_a_known_data_set_and_hides_what_it_must(site: Site,
                                                                     sue: Any) -> None:
    _dataset(site)
    response = sue.get("/reports/periodic", params={**_period(), "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith(
        "text/csv")
    rows = _rows(response.text)
    got = {(d, v): c for d, v, c in rows}
    month = datetime.now(UTC).strftime("%Y-%m")
    assert rows[0] == ["period", f"{month}/{month}", ""]
    assert got[("total", "")] == "14"  # the report without consent to statistics is left out
    assert got[("report_type", "complaint")] == "8" and got[("report_type", "reprisal")] == "6"
    # 6 + 2 = 8: LB is primary-suppressed, so SY must be hidden too
    assert got[(f"report_type{X}country", f"complaint{X}LB")] == "<5"
    assert got[(f"report_type{X}country", f"complaint{X}SY")] == "<10"
    assert got[(f"report_type{X}country", f"reprisal{X}SY")] == "6"
    assert got[(f"report_type{X}status", f"complaint{X}under_assessment")] == "8"
    assert got[(f"report_type{X}status", f"reprisal{X}allegation_pending_assessment")] == "6"
    assert got[(f"report_type{X}steps", f"reprisal{X}refer")] == "6"
    assert got[(f"report_type{X}steps", f"reprisal{X}raise_with_state")] == "5"
    assert got[(f"report_type{X}steps", f"reprisal{X}interim_measures")] == "<5"
    assert not any(v.startswith("reprisal") and "write_back" in v for _, v, _ in rows)
    answers = f"report_type{X}steps{X}state_response"
    assert got[(answers, f"reprisal{X}raise_with_state{X}replied")] == "<5"
    assert got[(answers, f"reprisal{X}raise_with_state{X}awaiting")] == "<5"
    # the interim measures' count is withheld: their responses are not broken down
    assert not any("interim_measures" in v for d, v, _ in rows if d == answers)
    # hours 1..8 to the first assessment: nearest-rank median 4, p90 8
    assert got[("first_assessment_hours", f"complaint{X}median")] == "4"
    assert got[("first_assessment_hours", f"complaint{X}p90")] == "8"
    assert ("first_assessment_hours", f"reprisal{X}median") not in got  # none assessed
    for cell, values in _attack(rows).items():
        assert values == {1, 2, 3, 4} or (len(values) >= 2 and cell[1].endswith("SY")), (
            cell, values)
    with site.db.transaction() as session:
        entries = list(session.scalars(select(AuditEntry).where(
            AuditEntry.action == "report.periodic")))
    assert [(e.actor, e.outcome) for e in entries] == [("sue", "granted")]
    assert entries[0].detail["period"] == f"{month}/{month}"


def test_a_small_period_publishes_only_a_suppressed_total(site: Site, sue: Any) -> None:
    for _ in range(4):
        site.make_case(fields={"report_type": "reprisal", "country": "SY"},
                       report_type="reprisal")
    rows = _rows(sue.get("/reports/periodic", params={**_period(), "format": "csv"}).text)
    assert rows[1:] == [["total", "", "<5"]]


def test_a_caseworker_may_not_and_a_bad_period_is_refused_in_both_languages(
        site: Site, sue: Any, demo: Any) -> None:
    assert sue.get("/reports/periodic", params={"from": "2026-05-01",
                                                 "to": "2026-04-01"}).status_code == 400
    ar = sue.get("/reports/periodic", params={"from": "x", "to": "y", "lang": "ar"})
    assert ar.status_code == 400 and "تحتاج الفترة" in ar.text
    assert demo.get("/reports/periodic", params=_period()).status_code == 403  # a caseworker


def test_an_auditor_sees_the_report_page_in_arabic_with_arabic_digits(site: Site) -> None:
    _dataset(site)
    site.add_user("audra", "auditor")
    audra = site.client()
    assert login(audra, "audra", OTHER_PASSPHRASE, site.secrets["audra"]).status_code == 303
    page = audra.get("/reports/periodic", params={**_period(), "lang": "ar"})
    assert page.status_code == 200 and 'dir="rtl"' in page.text
    assert "ادعاءات الترهيب أو الانتقام" in page.text and "١٤" in page.text
    assert "<bdi>&lt;٥</bdi>" in page.text


def _pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)


def test_the_pdf_in_both_languages(site: Site, sue: Any) -> None:
    from web.pdf import fonts_available

    if not fonts_available():
        pytest.skip("no Arabic-capable font installed (Debian: fonts-noto-core)")
    _dataset(site)
    ar = sue.get("/reports/periodic", params={**_period(), "format": "pdf", "lang": "ar"})
    assert ar.status_code == 200 and ar.headers["content-type"] == "application/pdf"
    text = _pdf_text(ar.content)
    assert "ادعاءات الترهيب أو الانتقام" in text and "التواصل مع الدولة" in text
    # Arabic-Indic digits only; fpdf2 lays a number out left to right (UAX #9) and pypdf,
    # reading the right-to-left line back, reverses its digits: 14 is read as "٤١"
    assert "٨" in text and "٦" in text and ("١٤" in text or "٤١" in text)
    assert not re.search("14|<5|<10|5<|01<", text)
    en = _pdf_text(sue.get("/reports/periodic",
                            params={**_period(), "format": "pdf", "lang": "en"}).content)
    assert "Allegations of intimidation or reprisals" in en and "State contacted" in en
    assert "Median" in en and "4 hours" in en and "<10" in en


def _synthetic(rng: random.Random) -> list[reports.ReportCase]:
    now = datetime(2026, 6, 30, tzinfo=UTC)
    out = []
    for _ in range(rng.randint(0, 40)):
        received = now - timedelta(hours=rng.randint(100, 2000))
        steps: dict[str, list[Any]] = {}
        for kind in reports.STEP_KINDS:
            if rng.random() < 0.4:
                steps[kind] = [casework.CaseAction(
                    kind=kind, outcome="done", at=received, deadline=None,
                    detail={"state_response": rng.choice(("replied", "refused", None))})]
        status = rng.choice(("allegation_pending_assessment", "under_assessment", "closed"))
        out.append(reports.ReportCase(
            rng.choice(("complaint", "reprisal", "none")), rng.choice(("SY", "LB", "none")),
            status, received, steps,
            None if status == "allegation_pending_assessment"
            else received + timedelta(hours=rng.randint(1, 90))))
    return out


def test_no_suppressed_cell_of_random_reports_can_be_recomputed() -> None:
    rng = random.Random(32)
    for _ in range(300):
        report = reports.compose(_synthetic(rng), "2026-01", "2026-06",
                                 datetime(2026, 7, 1, tzinfo=UTC))
        rows = _rows(reports.report_csv(report))
        for cell, values in _attack(rows).items():
            assert len(values) >= 2, (cell, values, rows)


def test_period_parsing_takes_arabic_digits_and_whole_months() -> None:
    assert reports.parse_period("٢٠٢٦-٠١-١٥", "2026-03-02") == (date(2026, 1, 15),
                                                                 date(2026, 3, 2))
    with pytest.raises(reports.PeriodError):
        reports.parse_period("2020-01-01", "2026-01-01")


def test_a_caseworker_records_the_states_answer_on_the_case_page(site: Site) -> None:
    """The State's answer is a choice on the case page (never text), shown in the actions
    and counted by the report; before anything was sent to the State there is no form."""
    from tests.web.conftest import DEMO_TOTP, PASSPHRASE, post

    ref = site.make_case(fields={"report_type": "reprisal", "country": "SY"},
                         report_type="reprisal")
    demo = site.client()
    assert login(demo, "demo", PASSPHRASE, DEMO_TOTP).status_code == 303
    assert 'data-action="state-response"' not in demo.get(f"/cases/{ref}").text
    _act(site, ref, "raise_with_state")
    page = demo.get(f"/cases/{ref}?lang=ar").text
    assert 'data-action="state-response"' in page and "سجِّل ردّ الدولة" in page
    bad = post(demo, f"/cases/{ref}/state_response", {"step": "raise_with_state",
                                                       "answer": "whatever"},
               page=f"/cases/{ref}")
    assert bad.status_code == 303
    assert "اختر بماذا ردّت الدولة" in demo.get(f"/cases/{ref}").text  # the reader's language
    ok = post(demo, f"/cases/{ref}/state_response", {"step": "raise_with_state",
                                                      "answer": "refused"},
              page=f"/cases/{ref}")
    assert ok.status_code == 303
    shown = demo.get(f"/cases/{ref}?lang=en").text
    assert "answer was recorded" in shown and "the State answered: refused" in shown
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        answers = [a.detail.get("state_response") for a in casework.actions(session, case)]
        kinds = {a.action for a in session.scalars(select(AuditEntry))}
    assert answers == ["refused"] and "case.state_response" in kinds
