"""The time left for each allegation's first assessment is on the queue and the case page, in
both languages, as the alerts count it from the home's oncall.yaml; it goes once the case is
assessed (issue 18 item 2)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import update

import alerts
from storage import cases
from storage.models import Case
from tests.web.conftest import Site, post

ONCALL = """timezone: UTC
first_assessment_minutes: {1: 240, 3: 10080}
routes:
  hook: {kind: webhook, url: "http://127.0.0.1:9/hook"}
rota:
  - {name: Duty, role: on_call, routes: [hook]}
  - {name: Focal point, role: supervisor, routes: [hook]}
"""


def _row(html: str, ref: str) -> str:
    match = re.search(rf'<tr[^>]*data-case="{ref}".*?</tr>', html, re.S)
    assert match, f"{ref} is not on the queue"
    return match.group(0)


def _received(site: Site, ref: str, at: datetime) -> None:
    with site.db.transaction() as session:
        session.execute(update(Case).where(Case.case_ref == ref).values(received_at=at))


def test_time_left_to_the_first_assessment_on_the_queue_and_the_case(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    (site.home.root / "config").mkdir(exist_ok=True)
    (site.home.root / "config" / "oncall.yaml").write_text(ONCALL, encoding="utf-8")
    site.dashboard.oncall = alerts.ConfigSource(site.home.root)
    fresh, late, urgent, untimed = (
        site.make_case(priority=3),
        site.make_case(priority=3),
        site.make_case(priority=1),
        site.make_case(priority=4),
    )
    _received(site, late, datetime.now(UTC) - timedelta(days=9))

    queue = demo.get("/queue").text
    assert 'data-assess="later"' in _row(queue, fresh) and "First assessment: in 6 days" in _row(
        queue, fresh
    )
    assert 'data-assess="overdue"' in _row(queue, late)
    assert "First assessment: OVERDUE by 2 days" in _row(queue, late)
    assert 'data-assess="soon"' in _row(queue, urgent) and "due in 3 h" in _row(queue, urgent)
    assert "data-assess" not in _row(queue, untimed)  # no target for priority 4

    page = demo.get(f"/cases/{late}").text
    due = re.search(r'<dd id="case-assess-by"[^>]*>(.*?)</dd>', page, re.S)
    assert due and "OVERDUE by 2 days" in due.group(1) and "First assessment due" in page

    arabic = demo.get("/queue?lang=ar").text
    assert "التقييم الأول" in _row(arabic, late) and "فات الموعد منذ" in _row(arabic, late)
    case_ar = demo.get(f"/cases/{fresh}").text
    assert "موعد التقييم الأول" in case_ar

    # Assessed: the deadline is met and no longer shown.
    post(
        demo,
        f"/cases/{late}/status",
        {"to": "under_assessment", "reason": "assessment_started"},
        page=f"/cases/{late}",
    )
    with site.db.transaction() as session:
        case = cases.by_ref(session, late)
        assert case is not None and case.status == "under_assessment"
    assert "data-assess" not in _row(demo.get("/queue").text, late)
    assert 'id="case-assess-by"' not in demo.get(f"/cases/{late}").text


def test_without_an_oncall_file_no_deadline_is_shown(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    site.dashboard.oncall = alerts.ConfigSource(site.home.root / "nowhere")
    ref = site.make_case(priority=3)
    # the shipped example (used when no live file exists) sets a week for priority 3
    assert "First assessment: in 6 days" in _row(demo.get("/queue").text, ref)
    site.dashboard.oncall = None
    assert "data-assess" not in _row(demo.get("/queue").text, ref)
