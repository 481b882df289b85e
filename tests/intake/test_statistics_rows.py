"""The intake records a consented report's categories at submission; withdrawal removes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from sqlalchemy import func, select

from intake.service import IntakeService
from storage import statistics as stat_rows
from storage.models import Case
from tests.intake.test_consent_change import _change
from tests.support import Chat, Clock

REPORT = [
    ("consent_store", "yes"),
    ("consent_followup", "yes"),
    ("consent_share_identity", "no"),
    ("consent_refer", "no"),
    ("consent_stats", "STATS"),
    ("consent_publish", "no"),
    ("report_type", "reprisal"),
    ("reporter_role", "victim"),
    ("reporter_is_child", "no"),
    ("current_danger", "no"),
    ("ongoing", "yes"),
]


def _submit(service: IntakeService, user: str, stats: str) -> tuple[str, str]:
    chat = Chat(service, user=user, lang="en", open_now=False)
    chat.src = replace(chat.src, route=f"chat-{user}")
    chat.replies = service.open(chat.src, "en").replies
    chat.run([(f, stats if a == "STATS" else a) for f, a in REPORT])
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.say("yes")
    receipt = next(r for r in chat.replies if r.kind == "receipt")
    return receipt.extra["case_ref"], receipt.extra["receipt"]


def _rows(service: IntakeService) -> set[tuple[str, str]]:
    with service.db.transaction() as session:
        return {(r.dimension, r.value) for r in session.scalars(select(stat_rows.StatValue))}


def test_submission_records_consented_categories_and_withdrawal_removes_them(
    service: IntakeService,
) -> None:
    _submit(service, "huda", "no")
    assert _rows(service) == set()  # no consent_stats, no row
    case_ref, code = _submit(service, "amal", "yes")
    rows = _rows(service)
    assert ("report_type", "reprisal") in rows and any(d == "status" for d, _ in rows)
    with service.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == case_ref))
        assert case is not None
        assert ("month", case.received_at.strftime("%Y-%m")) in rows
        assert all(v != case.id for _, v in rows)
    back = Chat(service, user="amal", open_now=False)
    back.say(code)
    back.answer("addendum", "withdraw")
    back.answer("withdraw_confirm", "yes")
    assert back.outcome.finished
    assert _rows(service) == set()


def test_withdrawing_the_statistics_consent_later_removes_the_row(service: IntakeService) -> None:
    """A reporter who withdraws consent_stats with their receipt is no longer counted."""
    _case_ref, code = _submit(service, "nour", "yes")
    assert _rows(service)
    _change(service, code, "consent_stats", "no", user="nour")
    assert _rows(service) == set()


def test_retention_expiry_removes_the_row(
    make_service: Callable[..., IntakeService], clock: Clock
) -> None:
    from intake.retention import purge
    from tests.intake.test_retention import DAY, _close

    service = make_service(closed_case_retention_days=30)
    old, _ = _submit(service, "amal", "yes")
    _submit(service, "basel", "yes")
    _close(service, old, clock)
    assert len({v for d, v in _rows(service) if d == "report_type"}) == 1
    with service.db.transaction() as session:
        before = session.scalar(
            select(func.count()).where(stat_rows.StatValue.dimension == "month")
        )
    clock.advance(31 * DAY)
    assert purge(service).closed_cases == 1
    with service.db.transaction() as session:
        after = session.scalar(select(func.count()).where(stat_rows.StatValue.dimension == "month"))
    assert (before, after) == (2, 1)
