"""Safety check-ins through the console (issue 18 item 1): with consent_followup, a check-in
reaches the reporter through their channel in their language days after the report; a number
or a word answers it. "Something happened" raises the case and alerts the on-call caseworkers,
as does no answer in time; "stop" ends them; nothing the reporter wrote travels in an alert."""

from __future__ import annotations

import urllib.parse
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

import alerts
from intake.service import IntakeService
from storage import cases
from storage.checkin_models import Checkin
from storage.models import CaseEvent
from tests.alerts.conftest import ANSWERS, SECRETS, Servers, oncall_text
from tests.support import Chat, Clock

DAY = 24 * 3600
SCHEDULE = """checkins:
  after_report: [2, 7]
  after_contact: [3]
  answer_within_hours: 48
"""


def _live_oncall(svc: IntakeService, servers: Servers) -> alerts.OncallConfig:
    path = svc.settings.home / "config" / "oncall.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(oncall_text(servers) + SCHEDULE, encoding="utf-8")
    return alerts.load_oncall(path)


def _report(svc: IntakeService, user: str, lang: str = "en", followup: str = "yes") -> str:
    """A report through the console whose reporter may be written back to (a route)."""
    chat = Chat(svc, user=user, lang=lang, open_now=False)
    chat.src = replace(chat.src, route=f"chat-{user}")
    chat.replies = svc.open(chat.src, lang).replies
    yes, no = ("yes", "no") if lang == "en" else ("نعم", "لا")
    chat.run(
        [
            ("consent_store", yes),
            ("consent_followup", yes if followup == "yes" else no),
            ("consent_share_identity", no),
            ("consent_refer", no),
            ("consent_stats", no),
            ("consent_publish", no),
            ("report_type", "complaint"),
            ("reporter_role", "victim"),
            ("reporter_is_child", no),
            ("current_danger", no),
        ]
    )
    while chat.question.field != "confirm_submit":
        chat.say(ANSWERS.get(str(chat.question.field), "/skip"))
    chat.say(yes)
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def _deliver(svc: IntakeService, user: str) -> list[str]:
    """What the console channel does with the outbox: show the messages, mark them sent."""
    texts = []
    for item in svc.pending_outbox("console"):
        assert item.route == f"chat-{user}"
        texts += [r.text for r in item.replies]
        svc.outbox_sent(item.id)
    return texts


def _now(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock(), UTC)


def _case(svc: IntakeService, ref: str) -> tuple[int, list[str], list[str]]:
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        events = list(
            session.scalars(
                select(CaseEvent.kind).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)
            )
        )
        return case.priority, list(case.reasons), events


def _texts(servers: Servers) -> list[str]:
    return [urllib.parse.parse_qs(r.body.decode())["text"][0] for r in servers.telegram.requests]


def test_a_check_in_answered_not_safe_raises_the_case_and_alerts_on_call(
    svc: IntakeService, servers: Servers, senders: dict[str, alerts.Sender], clock: Clock
) -> None:
    config = _live_oncall(svc, servers)
    ref = _report(svc, "amal")
    silent = _report(svc, "rami", followup="no")  # no consent: never checked on
    assert _deliver(svc, "amal") == []  # nothing due yet

    clock.advance(2 * DAY + 60)
    [question] = _deliver(svc, "amal")
    assert question.startswith("We are checking on you after your report. How are you?")
    assert ref not in question  # a seized phone shows no case reference

    chat = Chat(svc, user="amal", open_now=False)
    chat.src = replace(chat.src, route="chat-amal")
    replies = chat.say("2")  # shown as "2. Something happened"
    assert any("Your caseworkers have been alerted now" in r.text for r in replies)
    assert chat.question.field == "addendum"  # they may say what happened
    chat.say("They came to my house again last night")
    chat.say("done")

    priority, reasons, events = _case(svc, ref)
    assert priority == 1 and "checkin_not_safe" in reasons
    assert "checkin_answered" in events and "priority_raised" in events
    assert "addendum" in events
    assert _case(svc, silent)[2].count("checkin_queued") == 0

    result = alerts.dispatch(svc.db, config, _now(clock), senders)
    assert result.sent == 3  # the on-call routes: Telegram, Signal, webhook
    [tg] = _texts(servers)
    assert tg.splitlines()[0] == (
        f"Sanad URGENT: on a safety check-in the reporter of case "
        f"{ref} answered that something happened. Raised to "
        "priority 1. Open the case."
    )
    assert servers.webhook.requests[0].json()["kind"] == "checkin_unsafe"
    for body in servers.bodies():
        for secret in (*SECRETS, "amal", "my house", "last night"):
            assert secret.encode() not in body, secret


def test_an_unanswered_check_in_escalates_once(
    svc: IntakeService, servers: Servers, senders: dict[str, alerts.Sender], clock: Clock
) -> None:
    config = _live_oncall(svc, servers)
    ref = _report(svc, "amal")
    clock.advance(2 * DAY + 60)
    assert len(_deliver(svc, "amal")) == 1

    clock.advance(47 * 3600)  # within the 48 hours: still waiting
    assert alerts.dispatch(svc.db, config, _now(clock), senders).checkins_missed == 0
    clock.advance(2 * 3600)
    first = alerts.dispatch(svc.db, config, _now(clock), senders)
    assert (first.checkins_missed, first.sent) == (1, 3)
    assert "went unanswered" in _texts(servers)[0] and ref in _texts(servers)[0]
    priority, reasons, events = _case(svc, ref)
    assert priority == 1 and "checkin_no_answer" in reasons and "checkin_missed" in events
    assert alerts.dispatch(svc.db, config, _now(clock), senders).sent == 0  # once

    # the next slot of the schedule (a week after the report) is asked again
    clock.advance(3 * DAY)
    assert len(_deliver(svc, "amal")) == 1


def test_answered_in_arabic_by_word_or_digit_and_stopped_for_good(
    svc: IntakeService, servers: Servers, senders: dict[str, alerts.Sender], clock: Clock
) -> None:
    config = _live_oncall(svc, servers)
    ref = _report(svc, "huda", lang="ar")
    clock.advance(2 * DAY + 60)
    [question] = _deliver(svc, "huda")
    assert question.startswith("نطمئن عليك بعد بلاغك")
    chat = Chat(svc, user="huda", open_now=False)
    chat.src = replace(chat.src, route="chat-huda")
    replies = chat.say("أنا بخير")
    assert any("يسعدنا ذلك" in r.text for r in replies) and chat.outcome.finished
    assert _case(svc, ref)[0] != 1

    clock.advance(5 * DAY)  # a week after the report: the next one
    [again] = _deliver(svc, "huda")
    assert "أجب برقم أو بكلمة" in again
    replies = chat.say("٤")  # Arabic-Indic four: "stop these check-ins"
    assert any("لن نرسل إليك رسائل اطمئنان" in r.text for r in replies)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        answers = [
            c.answer
            for c in session.scalars(
                select(Checkin).where(Checkin.case_id == case.id).order_by(Checkin.due_at)
            )
        ]
    assert answers == ["safe", "stop"]

    clock.advance(60 * DAY)  # nothing more, and nothing escalates
    assert _deliver(svc, "huda") == []
    assert alerts.dispatch(svc.db, config, _now(clock), senders).sent == 0


def test_call_me_alerts_on_call_without_raising(
    svc: IntakeService, servers: Servers, senders: dict[str, alerts.Sender], clock: Clock
) -> None:
    config = _live_oncall(svc, servers)
    ref = _report(svc, "amal")
    before = _case(svc, ref)[0]
    clock.advance(2 * DAY + 60)
    _deliver(svc, "amal")
    chat = Chat(svc, user="amal", open_now=False)
    chat.src = replace(chat.src, route="chat-amal")
    chat.say("please call me")
    assert _case(svc, ref)[0] == before
    alerts.dispatch(svc.db, config, _now(clock), senders)
    assert servers.webhook.requests[0].json()["kind"] == "checkin_call"


def test_a_check_in_follows_a_caseworkers_message(
    svc: IntakeService, servers: Servers, clock: Clock
) -> None:
    from caseworker.followup import queue_reply
    from tests.support import PASSPHRASE

    path = svc.settings.home / "config" / "oncall.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(oncall_text(servers) + "checkins:\n  after_contact: [3]\n", encoding="utf-8")
    ref = _report(svc, "amal")
    queue_reply(
        svc.db, svc._pepper, ref, "demo", PASSPHRASE, "We called the prison.", now=_now(clock)
    )
    [message, _ask] = _deliver(svc, "amal")  # the caseworker's message, then "add more?"
    assert "We called the prison." in message
    Chat(svc, user="amal", open_now=False).say("done")
    clock.advance(3 * DAY - 120)
    assert _deliver(svc, "amal") == []
    clock.advance(240)
    [question] = _deliver(svc, "amal")
    assert question.startswith("We are checking on you")
