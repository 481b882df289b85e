"""First-assessment deadlines (issue 18 item 2; contracts.md): every allegation, not only the
urgent ones, has a target per priority. The focal point hears of each new allegation, the
on-call caseworkers are reminded before the deadline and the supervisors told after it: once
per stage, with the case reference, priority and time only, and never once it is assessed."""

from __future__ import annotations

import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

import alerts
from intake.service import IntakeService
from storage import cases, casework
from storage.db import Database
from storage.models import CaseEvent
from tests.alerts.conftest import ANSWERS, REPORTER, SECRETS, Servers, now_of, oncall_text
from tests.support import Chat, Clock

WEEK = 7 * 24 * 60
TARGETS = f"""first_assessment_minutes:
  1: 240
  2: 2880
  3: {WEEK}
assessment_reminder_percent: 75
"""


def report(service: IntakeService, user: str = REPORTER) -> str:
    """A priority-3 report through the console's intake (not in danger, nothing ongoing, an
    incident of yesterday), with every free-text answer given so a leak would show."""
    answers = {**ANSWERS, "incident_date": "yesterday"}
    chat = Chat(service, user=user, lang="en")
    chat.run(
        [
            ("consent_store", "yes"),
            ("consent_followup", "no"),
            ("consent_share_identity", "no"),
            ("consent_refer", "no"),
            ("consent_stats", "yes"),
            ("consent_publish", "no"),
            ("report_type", "complaint"),
            ("reporter_role", "family"),
            ("current_danger", "no"),
        ]
    )
    while chat.question.field != "confirm_submit":
        chat.say(answers.get(str(chat.question.field), "/skip"))
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def _config(tmp_path: Path, servers: Servers, extra: str = TARGETS) -> alerts.OncallConfig:
    path = tmp_path / "oncall.yaml"
    path.write_text(oncall_text(servers) + extra, encoding="utf-8")
    return alerts.load_oncall(path)


def _telegram(servers: Servers) -> list[str]:
    return [urllib.parse.parse_qs(r.body.decode())["text"][0] for r in servers.telegram.requests]


def _stages(svc: IntakeService, ref: str) -> list[str]:
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        return [
            e.detail["stage"]
            for e in session.scalars(
                select(CaseEvent)
                .where(CaseEvent.case_id == case.id, CaseEvent.kind == "assessment_alert")
                .order_by(CaseEvent.id)
            )
        ]


def test_a_p3_allegation_is_notified_then_reminded_then_escalated_once_each(
    svc: IntakeService,
    servers: Servers,
    senders: dict[str, alerts.Sender],
    clock: Clock,
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, servers)
    ref = report(svc)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None and case.priority == 3  # a week to assess it
        start = case.received_at.replace(tzinfo=now_of(clock).tzinfo)

    # At once: the focal point (here the supervisors: the case's team names none) is told.
    new = alerts.dispatch(svc.db, config, start + timedelta(minutes=1), senders)
    assert (new.assessments, new.sent) == (1, 1)
    [mail] = servers.smtp.messages
    body = mail.data.decode("utf-8", "replace")
    assert f"Subject: Sanad: new allegation, case {ref}" in body
    assert servers.telegram.requests == [] and servers.webhook.requests == []

    # Halfway through the week: nothing; the next rounds repeat nothing.
    quiet = alerts.dispatch(svc.db, config, start + timedelta(days=3), senders)
    assert (quiet.assessments, quiet.sent) == (0, 0)

    # Three quarters of the week gone: the on-call caseworkers are reminded on every route.
    near = start + timedelta(days=6, minutes=1)
    due = alerts.dispatch(svc.db, config, near, senders)
    assert (due.assessments, due.sent) == (1, 3)
    [tg] = _telegram(servers)
    english, arabic = tg.splitlines()
    assert english == (
        f"Sanad: priority 3 case {ref} still awaits its first assessment, "
        "due in 23 h. Open the queue."
    )
    assert ref in arabic and "تقييمها الأول" in arabic and "23 ساعة" in arabic
    [hook] = servers.webhook.requests
    assert hook.json()["kind"] == "assessment_due" and hook.json()["case_ref"] == ref
    assert hook.json()["deadline_minutes"] == 23 * 60 + 59  # a minute in
    assert len(servers.smtp.messages) == 1

    # A dispatcher started afresh on the same database sends nothing more.
    restarted = Database(svc.db.url)
    try:
        again = alerts.dispatch(restarted, config, near + timedelta(hours=1), senders)
    finally:
        restarted.dispose()
    assert (again.assessments, again.sent) == (0, 0)

    # Past the deadline, still unassessed: the supervisors are told, once.
    late_at = start + timedelta(days=7, hours=3)
    late = alerts.dispatch(svc.db, config, late_at, senders)
    assert (late.assessments, late.sent) == (1, 1)
    overdue = servers.smtp.messages[-1].data.decode("utf-8", "replace")
    assert f"Subject: Sanad OVERDUE: first assessment, case {ref}" in overdue
    assert alerts.dispatch(svc.db, config, late_at + timedelta(days=5), senders).sent == 0
    assert len(servers.telegram.requests) == 1 and len(servers.smtp.messages) == 2
    assert _stages(svc, ref) == ["allegation", "assessment_due", "assessment_late"]

    text = alerts.render("assessment_late", ref, 3, WEEK + 180, 30, -180)
    assert text.text_en == (
        f"Sanad OVERDUE: priority 3 case {ref} still awaits its first "
        "assessment, due 3 h ago (waiting 7 days). Open the queue."
    )
    assert "3 ساعات" in text.text_ar and "7 أيام" in text.text_ar

    for sent in servers.bodies():
        for secret in SECRETS:
            assert secret.encode() not in sent, secret


def test_an_assessed_allegation_hears_nothing_more_and_old_cases_skip_to_their_stage(
    svc: IntakeService,
    servers: Servers,
    senders: dict[str, alerts.Sender],
    clock: Clock,
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, servers)
    assessed = report(svc, user="reporter-a")
    old = report(svc, user="reporter-b")
    start = now_of(clock)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, assessed)
        assert case is not None
        casework.change_status(
            session, case, "under_assessment", "assessment_started", "demo", start
        )
    # The setting is first used 8 days after both came in: the pending one is overdue and gets
    # only that alert; the assessed one nothing, then or later.
    first = alerts.dispatch(svc.db, config, start + timedelta(days=8), senders)
    assert (first.assessments, first.sent) == (1, 1)
    assert _stages(svc, old) == ["assessment_late"] and _stages(svc, assessed) == []
    assert alerts.dispatch(svc.db, config, start + timedelta(days=30), senders).sent == 0


def test_without_targets_nothing_changes(
    svc: IntakeService,
    servers: Servers,
    senders: dict[str, alerts.Sender],
    clock: Clock,
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, servers, extra="")
    report(svc)
    result = alerts.dispatch(svc.db, config, now_of(clock) + timedelta(days=30), senders)
    assert (result.assessments, result.sent) == (0, 0)


def test_team_targets_override_and_the_focal_point_is_told(
    tmp_path: Path, servers: Servers
) -> None:
    config = _config(
        tmp_path,
        servers,
        TARGETS
        + """teams:
  reprisals:
    first_assessment_minutes: {3: 4320}
    focal_point: [case-hook]
""",
    )
    assert config.assessment_minutes(3) == WEEK
    assert config.assessment_minutes(3, ("reprisals",)) == 4320
    assert config.assessment_minutes(2, ("reprisals",)) == 2880  # the file's, for the others
    assert config.assessment_minutes(4) is None  # no target: no deadline
    now = now_of(Clock())
    assert [r.name for r in config.routes_for("allegation", now, ("reprisals",))] == ["case-hook"]
    assert [r.name for r in config.routes_for("allegation", now, ("intake",))] == [
        "supervisor-mail"
    ]
    assert [r.name for r in config.routes_for("assessment_due", now, ("reprisals",))] == [
        "duty-telegram",
        "duty-signal",
        "case-hook",
    ]
    assert [r.name for r in config.routes_for("assessment_late", now, ("reprisals",))] == [
        "supervisor-mail",
        "case-hook",
    ]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("first_assessment_minutes: {5: 60}\n", "first_assessment_minutes"),
        ("first_assessment_minutes: {3: 0}\n", "first_assessment_minutes.3"),
        ("assessment_reminder_percent: 100\n", "assessment_reminder_percent"),
        (
            "teams:\n  reprisals:\n    focal_point: [nowhere]\n",
            "teams.reprisals.focal_point: no route named 'nowhere'",
        ),
        ("teams:\n  reprisals:\n    deadline: 3\n", "unknown key 'deadline'"),
    ],
)
def test_bad_targets_are_refused_with_their_line(
    tmp_path: Path, servers: Servers, extra: str, problem: str
) -> None:
    path = tmp_path / "oncall.yaml"
    path.write_text(oncall_text(servers) + extra, encoding="utf-8")
    problems = alerts.check_oncall(path)
    assert any(problem in str(p) and p.severity == "error" for p in problems), problems
    line = len(oncall_text(servers).splitlines()) + 1
    assert all(p.line is not None and p.line >= line for p in problems if problem in str(p))


def test_the_shipped_example_sets_a_target_for_every_priority() -> None:
    config = alerts.load_oncall(alerts.DEFAULT_ONCALL)
    assert sorted(config.first_assessment_minutes) == [1, 2, 3, 4]
    assert config.first_assessment_minutes[3] == WEEK
