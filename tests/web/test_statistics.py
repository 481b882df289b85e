"""Statistics from the consented-categories table: the same figures for every reader, rows
that go with withdrawal, and suppression no published figure can undo."""

from __future__ import annotations

import itertools
import random
from typing import Any

from sqlalchemy import select

from caseworker.statistics import publish
from storage import statistics as stat_rows
from storage.models import Case
from tests.web.conftest import CONSENT_NONE, OTHER_PASSPHRASE, Site, login, post

SINGLE_DIMS = [d for d in stat_rows.DIMENSIONS if d not in stat_rows.MULTI]


def _csv(client: Any) -> list[str]:
    response = client.get("/stats?format=csv")
    assert response.status_code == 200
    return response.text.splitlines()


def _attack(lines: list[str], k: int = 5) -> dict[tuple[str, str], set[int]]:
    """What a reader can learn of each suppressed cell from one table at a time of the
    published CSV (tests/web/test_release_attack.py attacks all of them together, by linear
    programming): each single-choice table (and report_type × country) sums to the total,
    absent cells are 0, `<N` means 1..N-1. Returns the values each suppressed cell can still
    take (exhaustively enumerated)."""
    rows = [line.split(",") for line in lines[1:]]
    total_text = next(c for d, _, c in rows if d == "total")
    if total_text.startswith("<"):
        assert len(rows) == 1, "with a suppressed total nothing else may be published"
        return {}
    total = int(total_text)
    possible: dict[tuple[str, str], set[int]] = {}
    for dim in {d for d, _, _ in rows if d != "total"}:
        cells = [(v, c) for d, v, c in rows if d == dim]
        hidden = [(v, int(c[1:]) - 1) for v, c in cells if c.startswith("<")]
        known = sum(int(c) for _, c in cells if not c.startswith("<"))
        if any(part in stat_rows.MULTI for part in dim.split(" × ")):
            for v, hi in hidden:
                possible[(dim, v)] = set(range(1, hi + 1))
            continue
        seen: dict[str, set[int]] = {v: set() for v, _ in hidden}
        for combo in itertools.product(*[range(1, hi + 1) for _, hi in hidden]):
            if known + sum(combo) == total:
                for (v, _), x in zip(hidden, combo, strict=True):
                    seen[v].add(x)
        for v, values in seen.items():
            possible[(dim, v)] = values
    return possible


def _assert_nothing_recomputable(lines: list[str]) -> None:
    for cell, values in _attack(lines).items():
        assert len(values) >= 2, f"{cell} can be recomputed as {values}"


def test_two_caseworkers_and_an_auditor_see_the_same_figures_and_withdrawal_removes(
    site: Site, demo: Any
) -> None:
    for _ in range(7):
        site.make_case(
            fields={
                "report_type": "complaint",
                "place_type": "prison",
                "victim_gender": "woman",
                "violation_types": ["beating"],
                "narrative": "Secret words.",
            }
        )
    gone = site.make_case(
        fields={
            "report_type": "reprisal",
            "place_type": "prison",
            "victim_gender": "woman",
            "violation_types": ["threats"],
        },
        report_type="reprisal",
    )
    site.make_case(report_type="reprisal", consent=CONSENT_NONE)
    site.add_user("sam", "caseworker")
    sam = site.client()
    assert login(sam, "sam", OTHER_PASSPHRASE, site.secrets["sam"]).status_code == 303
    site.add_user("audra", "auditor")
    audra = site.client()
    assert login(audra, "audra", OTHER_PASSPHRASE, site.secrets["audra"]).status_code == 303
    # sam holds no key to these cases and audra none at all: the figures are the same
    demo_lines, sam_lines, audra_lines = _csv(demo), _csv(sam), _csv(audra)
    assert demo_lines == sam_lines == audra_lines
    assert "total,,8" in demo_lines and "place_type,prison,8" in demo_lines
    assert "violation_types,beating,7" in demo_lines
    assert not any("Secret" in line for line in demo_lines)
    _assert_nothing_recomputable(demo_lines)
    with site.db.transaction() as session:
        case_id = session.scalar(select(Case.id).where(Case.case_ref == gone))
        assert case_id is not None
        stat_rows.forget_case_statistics(session, case_id, site.home.pepper())
    after = _csv(audra)
    assert after == _csv(demo) and "total,,7" in after
    assert not any(line.startswith("violation_types,threats") for line in after)
    assert not any(line.startswith("report_type,reprisal") for line in after)


def test_the_statistics_rows_hold_no_identifier_free_text_or_date(site: Site) -> None:
    ref = site.make_case(
        fields={
            "report_type": "complaint",
            "country": "Aleppo, near the bridge",
            "narrative": "Secret words.",
            "incident_date": "2025-03-04",
        }
    )
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        stored = [
            (r.row_key, r.dimension, r.value) for r in session.scalars(select(stat_rows.StatValue))
        ]
        case_id = case.id
    assert stored and all(key != case_id and case_id not in key for key, _, _ in stored)
    values = {v for _, _, v in stored}
    assert not any("Aleppo" in v or "Secret" in v or "2025-03" in v or ref in v for v in values)
    assert ("country", "none") in {(d, v) for _, d, v in stored}


def test_a_status_change_moves_the_row(site: Site, demo: Any) -> None:
    refs = [site.make_case() for _ in range(6)]
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == refs[0]))
        assert case is not None
        start = case.status
    assert f"status,{start},6" in _csv(demo)
    from storage import casework

    target = casework.TRANSITIONS[start][0]
    reason = casework.REASONS_FOR_STATUS[target][0]
    changed = post(
        demo, f"/cases/{refs[0]}/status", {"to": target, "reason": reason}, f"/cases/{refs[0]}"
    )
    assert changed.status_code == 303
    lines = _csv(demo)
    assert f"status,{target},<5" in lines
    _assert_nothing_recomputable(lines)


def test_the_example_total_7_complaint_6_cannot_happen(site: Site, demo: Any) -> None:
    for _ in range(6):
        site.make_case(report_type="complaint")
    site.make_case(report_type="reprisal")
    lines = _csv(demo)
    assert "total,,7" in lines and "report_type,complaint,6" not in lines
    assert "report_type,reprisal,<5" in lines
    assert _attack(lines)[("report_type", "reprisal")] == {1, 2, 3, 4}


def test_fewer_reports_than_the_threshold_publish_only_a_suppressed_total(
    site: Site, demo: Any
) -> None:
    for _ in range(4):
        site.make_case(fields={"report_type": "complaint", "place_type": "prison"})
    assert _csv(demo)[1:] == ["total,,<5"]


def test_no_suppressed_cell_can_be_recomputed_from_random_publications() -> None:
    """The re-identification check against many random data sets, straight on publish()."""
    rng = random.Random(17)
    for _ in range(400):
        total = rng.randint(0, 40)
        counts: dict[tuple[str, str], int] = {}
        for dim in SINGLE_DIMS:
            split = [0] * rng.randint(1, 5)
            for _ in range(total):
                split[rng.randrange(len(split))] += 1
            for i, n in enumerate(split):
                if n:
                    counts[(dim, f"v{i}")] = n
        for dim in stat_rows.MULTI:
            for i in range(rng.randint(0, 4)):
                n = rng.randint(0, total)
                if n:
                    counts[(dim, f"v{i}")] = n
        rows = publish(total, counts)
        lines = ["dimension,value,count"] + [
            f"{r['dimension']},{r['value']},{r['count']}" for r in rows
        ]
        for cell, values in _attack(lines).items():
            primary = counts[cell] < 5
            assert len(values) >= 2, (cell, values, lines)
            if primary:
                assert values == {1, 2, 3, 4}, (cell, values, lines)
        for r in rows:  # what is shown as a number is the true number
            if r["dimension"] != "total" and not r["count"].startswith("<"):
                assert int(r["count"]) == counts[(r["dimension"], r["value"])]


def test_charts_are_svg_without_scripts_in_both_languages_and_mark_suppressed_cells(
    site: Site, demo: Any
) -> None:
    for i in range(7):
        site.make_case(
            fields={"report_type": "complaint", "place_type": "prison" if i < 6 else "home"}
        )
    page = demo.get("/stats").text
    assert 'src="/stats/chart/place_type.svg"' in page
    en = demo.get("/stats/chart/place_type.svg")
    assert en.headers["content-type"].startswith("image/svg+xml")
    assert "<script" not in en.text and "Prison (&lt;10, withheld)" in en.text
    assert "At home (&lt;5, withheld)" in en.text and ">6<" not in en.text
    demo.get("/stats?lang=ar")
    ar = demo.get("/stats/chart/place_type.svg", headers={"Accept-Language": "ar"}).text
    assert "محجوب" in ar and "<script" not in ar


def test_while_new_figures_are_counted_the_page_shows_the_last_ones_and_says_when(
    site: Site, demo: Any, monkeypatch: Any
) -> None:
    """A view never waits minutes for a rebuild (issue 17 item 7): after `stats_wait` it is
    given the previous figures, with the time they were counted, in the reader's language;
    the next view after the rebuild has the new ones."""
    import threading

    from caseworker import release as release_module

    for _ in range(6):
        site.make_case(fields={"report_type": "complaint", "place_type": "prison"})
    first = demo.get("/stats?lang=en").text
    assert 'data-counted="current"' in first and "Counted at" in first
    assert "total,,6" in _csv(demo)
    # hold the rebuild (after its counting transaction) until the stale page has been seen;
    # the real build runs then
    go, real = threading.Event(), release_module.build
    monkeypatch.setattr(
        release_module, "build", lambda *counted, k: (go.wait(30), real(*counted, k=k))[1]
    )
    site.dashboard.stats_wait = 0.2
    site.make_case(fields={"report_type": "complaint", "place_type": "prison"})
    stale = demo.get("/stats?lang=ar").text
    assert 'data-counted="updating"' in stale and "تُحصى الآن بلاغات أحدث" in stale
    assert "total,,6" in _csv(demo)  # the last figures, not a wait
    go.set()
    worker = site.dashboard._rebuild
    assert worker is not None
    worker.join(30)
    assert "total,,7" in _csv(demo)
    assert 'data-counted="current"' in demo.get("/stats?lang=en").text


def test_a_cases_steps_reach_its_statistics_row_as_months_and_buckets_only(
    site: Site, demo: Any
) -> None:
    """The casework rows of the periodic report (storage.statistics.refresh_casework): the
    kinds of steps, the State's answer or the deadline's month, the hours to first
    assessment as a bucket; never a date, an hour count or an identifier. A report without
    consent to statistics gets none; withdrawal removes them with the rest."""
    ref = site.make_case(
        fields={"report_type": "reprisal", "country": "SY"}, report_type="reprisal"
    )
    quiet = site.make_case(report_type="reprisal", consent=CONSENT_NONE)
    for case_ref in (ref, quiet):
        for kind in ("interim_measures", "raise_with_state"):
            post(demo, f"/cases/{case_ref}/action", {"kind": kind}, f"/cases/{case_ref}")
        post(
            demo,
            f"/cases/{case_ref}/status",
            {"to": "under_assessment", "reason": "assessment_started"},
            f"/cases/{case_ref}",
        )
    post(
        demo,
        f"/cases/{ref}/state_response",
        {"step": "raise_with_state", "answer": "refused"},
        f"/cases/{ref}",
    )
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None
        key, case_id = stat_rows.stat_key(site.home.pepper(), case.id), case.id
        rows = {
            (r.dimension, r.value)
            for r in session.scalars(
                select(stat_rows.StatValue).where(stat_rows.StatValue.row_key == key)
            )
        }
        everything = [(r.row_key, r.value) for r in session.scalars(select(stat_rows.StatValue))]
    due = next(v for d, v in rows if d == "response.interim_measures")
    assert {
        ("step", "interim_measures"),
        ("step", "raise_with_state"),
        ("response.raise_with_state", "refused"),
        ("assessed_within", "h1"),
        ("status", "under_assessment"),
    } <= rows, rows
    assert len(due) == len("due:YYYY-MM") and due.startswith("due:20"), due
    # only this report's row holds casework: the other reporter did not consent
    assert {k for k, v in everything if v in ("interim_measures", "h1")} == {key}
    assert not any(case_id in k or case_id in v for k, v in everything)
    with site.db.transaction() as session:
        stat_rows.forget_case_statistics(session, case_id, site.home.pepper())
        assert not session.scalars(
            select(stat_rows.StatValue).where(stat_rows.StatValue.row_key == key)
        ).first()


def test_a_large_release_is_built_in_its_own_process_with_the_same_figures(
    site: Site, demo: Any, monkeypatch: Any
) -> None:
    """Above IN_PROCESS_PROFILES the release is built in a worker process (its linear
    programs would otherwise hold the web server's GIL for minutes): the same figures as
    a build in this process."""
    from caseworker import dashboard as dash_module
    from caseworker.release import build

    for i in range(9):
        site.make_case(
            fields={
                "report_type": "complaint",
                "place_type": "prison",
                "country": "SY" if i < 7 else "LB",
            }
        )
    monkeypatch.setattr(dash_module, "IN_PROCESS_PROFILES", 0)
    lines = _csv(demo)
    assert dash_module._process is not None  # the worker process answered
    with site.db.transaction() as session:
        here = build(*stat_rows.tallies(session), k=5)
    assert site.dashboard.stats_release().range() == here.range()
    assert "total,,9" in lines and "report_type,complaint,9" in lines
    _assert_nothing_recomputable(lines)
