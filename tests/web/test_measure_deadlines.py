"""Interim-measure deadlines stand out on the queue and the case page, in both languages:
near ones as "due in", passed ones as "OVERDUE", and a reminder the alerts sent is shown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import alerts
from storage import cases, casework
from tests.alerts.conftest import ENV, oncall_text
from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer
from tests.support import PASSPHRASE
from tests.web.conftest import Site, login, post


def _row(html: str, ref: str) -> str:
    match = re.search(rf'<tr[^>]*data-case="{ref}".*?</tr>', html, re.S)
    assert match, f"{ref} is not on the queue"
    return match.group(0)


def _measure_requested(site: Site, ref: str, at: datetime, days: int) -> None:
    with site.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        assert casework.record_action(session, case, "interim_measures", "demo", at, days=days).done


def test_near_and_passed_deadlines_stand_out_in_both_languages(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    soon, late, later = site.make_case(), site.make_case(), site.make_case()
    # The caseworker asks for measures with one day for the State to answer.
    post(
        demo,
        f"/cases/{soon}/action",
        {"kind": "interim_measures", "days": "1"},
        page=f"/cases/{soon}",
    )
    _measure_requested(site, late, datetime.now(UTC) - timedelta(days=10), days=7)
    post(demo, f"/cases/{later}/action", {"kind": "interim_measures"}, page=f"/cases/{later}")

    queue = demo.get("/queue").text
    assert 'data-deadline="soon"' in _row(queue, soon) and "due in 23 h" in _row(queue, soon)
    assert 'data-deadline="overdue"' in _row(queue, late)
    assert "OVERDUE by 3 days" in _row(queue, late)
    assert 'data-deadline="later"' in _row(queue, later) and "in 6 days" in _row(queue, later)

    page = demo.get(f"/cases/{late}").text
    deadline = re.search(r'<dd id="case-deadline"[^>]*>(.*?)</dd>', page, re.S)
    assert deadline and "OVERDUE by 3 days" in deadline.group(1)
    assert 'class="deadline overdue"' in page

    arabic = demo.get("/queue?lang=ar").text
    assert "فات الموعد منذ" in _row(arabic, late) and "يحين الموعد بعد" in _row(arabic, soon)
    case_ar = demo.get(f"/cases/{soon}").text
    assert "مهلة التدابير المؤقتة" in case_ar and "يحين الموعد بعد" in case_ar


def test_a_deadline_out_of_range_is_refused_in_the_persons_language(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    demo.get("/queue?lang=ar")
    post(
        demo,
        f"/cases/{ref}/action",
        {"kind": "interim_measures", "days": "400"},
        page=f"/cases/{ref}",
    )
    page = demo.get(f"/cases/{ref}").text
    assert "مهلة رد الدولة من يوم واحد إلى 90 يومًا" in page
    assert 'id="case-deadline"' not in page


def test_the_case_page_says_when_a_reminder_went_out(site: Site, tmp_path: Path) -> None:
    ref = site.make_case()
    _measure_requested(site, ref, datetime.now(UTC) - timedelta(days=6), days=7)
    with (
        HttpRecorder() as tg,
        HttpRecorder(201, [{"timestamp": "1"}]) as sig,
        HttpRecorder(200, {}) as hook,
        SmtpServer() as smtp,
    ):
        servers = type("S", (), {"telegram": tg, "signal": sig, "webhook": hook, "smtp": smtp})
        path = tmp_path / "oncall.yaml"
        path.write_text(oncall_text(servers), encoding="utf-8")  # type: ignore[arg-type]
        result = alerts.dispatch(
            site.db,
            alerts.load_oncall(path),
            datetime.now(UTC),
            alerts.default_senders(ENV, timeout=2),
        )
        assert (result.reminded, result.sent) == (1, 3)
    client = site.client()
    assert login(client, "demo", PASSPHRASE, site.secrets["demo"]).status_code == 303
    page = client.get(f"/cases/{ref}").text
    assert "deadline reminder sent to the on-call caseworkers" in page
    assert "Deadline reminder" in page and "On-call alert sent" in page
    arabic = client.get(f"/cases/{ref}?lang=ar").text
    assert "أُرسل تذكير بالمهلة إلى العاملين المناوبين" in arabic
