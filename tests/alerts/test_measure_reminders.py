"""Interim-measure deadlines are reminded through the on-call routes: once when the deadline
comes within the configured window (the on-call caseworkers), once when it has passed (the
supervisors), never twice for a stage (also after a restart), never for a closed case, and
with the case reference and the time left only."""

from __future__ import annotations

import urllib.parse
from datetime import datetime, timedelta

from sqlalchemy import select

import alerts
from intake.service import IntakeService
from storage import accounts, cases, casework
from storage.caseworker_models import CaseAction
from storage.db import Database
from storage.models import CaseEvent
from tests.alerts.conftest import ANSWERS, REPORTER, SECRETS, Servers, now_of
from tests.support import Chat, Clock


def _consenting_report(service: IntakeService, user: str = REPORTER) -> str:
    """A non-urgent report whose author agreed to their identity being shared with the State
    (interim measures need it); every free-text answer is given, so leaks would show."""
    chat = Chat(service, user=user, lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "no"),
            ("consent_share_identity", "yes"),
            ("consent_refer", "no"),
            ("consent_stats", "yes"),
            ("consent_publish", "no"),
            ("report_type", "complaint"),
            ("reporter_role", "family"),
            ("current_danger", "no"),
        ]
    )
    while chat.question.field != "confirm_submit":
        chat.say(ANSWERS.get(str(chat.question.field), "/skip"))
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def _request_measures(service: IntakeService, ref: str, at: datetime, days: int) -> str:
    with service.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        result = casework.record_action(session, case, "interim_measures", "demo", at, days=days)
        assert result.done and result.action.deadline is not None
        return result.action.id


def _texts(servers: Servers) -> list[str]:
    out = [urllib.parse.parse_qs(r.body.decode())["text"][0] for r in servers.telegram.requests]
    return out + [m.data.decode("utf-8", "replace") for m in servers.smtp.messages]


def test_a_near_deadline_is_reminded_once_then_once_more_when_overdue(
    svc: IntakeService,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    ref = _consenting_report(svc)
    start = now_of(clock)
    _request_measures(svc, ref, start, days=5)

    # Five days out, with a two-day window: nothing yet.
    quiet = alerts.dispatch(svc.db, oncall, start + timedelta(days=2), senders)
    assert (quiet.reminded, quiet.sent) == (0, 0) and servers.bodies() == []

    # Two days before: the on-call caseworkers hear of it on each of their routes.
    near = start + timedelta(days=3, hours=1)
    due = alerts.dispatch(svc.db, oncall, near, senders)
    assert (due.reminded, due.sent) == (1, 3)
    [tg] = _texts(servers)
    english, arabic = tg.splitlines()
    assert english == (
        f"Sanad: the interim measures deadline of case {ref} is in 47 h. Open the case."
    )
    assert ref in arabic and "التدابير المؤقتة" in arabic and "47 ساعة" in arabic
    [hook] = servers.webhook.requests
    assert hook.json()["kind"] == "measure_due" and hook.json()["deadline_minutes"] == 47 * 60
    assert servers.smtp.messages == []

    # The next rounds, and a dispatcher started afresh on the same database, send nothing more.
    assert alerts.dispatch(svc.db, oncall, near + timedelta(hours=5), senders).sent == 0
    restarted = Database(svc.db.url)
    try:
        again = alerts.dispatch(restarted, oncall, near + timedelta(hours=6), senders)
    finally:
        restarted.dispose()
    assert (again.reminded, again.sent) == (0, 0)
    assert len(servers.telegram.requests) == 1

    # Past the deadline: the supervisors are told it is overdue, once.
    late_at = start + timedelta(days=5, hours=3)
    late = alerts.dispatch(svc.db, oncall, late_at, senders)
    assert (late.reminded, late.sent) == (1, 1)
    [mail] = servers.smtp.messages
    body = mail.data.decode("utf-8", "replace")
    assert f"Subject: Sanad OVERDUE: interim measures deadline, case {ref}" in body
    assert alerts.dispatch(svc.db, oncall, late_at + timedelta(days=3), senders).sent == 0
    assert len(servers.telegram.requests) == 1 and len(servers.smtp.messages) == 1

    overdue = alerts.render("measure_late", ref, 3, 0, 30, -3 * 60)
    assert overdue.text_en == (
        f"Sanad OVERDUE: the interim measures deadline of case {ref} passed 3 h ago. Open the case."
    )
    assert "3 ساعات" in overdue.text_ar

    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        events = [
            e.detail["stage"]
            for e in session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.kind == "measure_reminder")
                .order_by(CaseEvent.id)
            )
        ]
        stages = list(
            session.scalars(select(CaseAction.reminded).where(CaseAction.case_id == case.id))
        )
    assert events == ["due", "overdue"] and stages == ["overdue"]

    # Nothing the reporter wrote, and not who they are, travelled with any reminder.
    for text in servers.bodies():
        for secret in SECRETS:
            assert secret.encode() not in text, secret


def test_each_measure_of_a_case_has_its_own_reminder_and_closed_cases_none(
    svc: IntakeService,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    ref = _consenting_report(svc)
    closed_ref = _consenting_report(svc, user="reporter-other")
    start = now_of(clock)
    _request_measures(svc, ref, start, days=1)
    _request_measures(svc, ref, start + timedelta(hours=2), days=1)
    _request_measures(svc, closed_ref, start, days=1)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, closed_ref)
        assert case is not None
        casework.change_status(
            session, case, "under_assessment", "assessment_started", "demo", start
        )
        casework.change_status(session, case, "closed", "resolved", "demo", start)

    # A deadline already inside the window is reminded at the next round, per measure.
    first = alerts.dispatch(svc.db, oncall, start + timedelta(hours=3), senders)
    assert (first.reminded, first.sent) == (2, 6)
    assert all(ref in t and closed_ref not in t for t in _texts(servers))
    # Both pass; each is overdue once; the closed case never hears anything.
    late = alerts.dispatch(svc.db, oncall, start + timedelta(days=2), senders)
    assert (late.reminded, late.sent) == (2, 2)
    assert all(closed_ref not in t for t in _texts(servers))


def test_a_refused_measure_has_no_deadline_and_no_reminder(
    svc: IntakeService,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    from tests.alerts.conftest import report

    ref = report(svc, danger="no")  # this reporter did not consent to share their identity
    start = now_of(clock)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None and accounts.get_user(session, "demo") is not None
        assert not casework.record_action(
            session, case, "interim_measures", "demo", start, days=1
        ).done
    result = alerts.dispatch(svc.db, oncall, start + timedelta(days=3), senders)
    assert (result.reminded, result.sent) == (0, 0)


def test_the_window_is_configured_in_oncall_yaml(tmp_path, servers: Servers) -> None:  # type: ignore[no-untyped-def]
    from tests.alerts.conftest import oncall_text

    path = tmp_path / "oncall.yaml"
    path.write_text(
        oncall_text(servers).replace(
            "escalate_after_minutes: 30", "escalate_after_minutes: 30\nmeasure_reminder_days: 4"
        ),
        encoding="utf-8",
    )
    assert alerts.load_oncall(path).measure_reminder_days == 4
    path.write_text(
        oncall_text(servers).replace(
            "escalate_after_minutes: 30", "escalate_after_minutes: 30\nmeasure_reminder_days: -1"
        ),
        encoding="utf-8",
    )
    assert any("measure_reminder_days" in str(p) for p in alerts.check_oncall(path))
