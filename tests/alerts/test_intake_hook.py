"""The intake queues the alert itself: in the transaction that makes an urgent case, once per
case, and the caseworkers on call hear of it before the reporter has finished."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

import alerts
from caseworker.cases import list_queue
from intake.app import build_intake
from intake.service import IntakeService
from intake.settings import Settings
from storage.alert_models import ROTA, Alert
from tests.alerts.conftest import Servers, now_of
from tests.support import Chat, Clock


def _alerts(svc: IntakeService) -> list[tuple[str, str, str]]:
    with svc.db.transaction() as session:
        return [
            (a.kind, a.route, a.status) for a in session.scalars(select(Alert).order_by(Alert.id))
        ]


def test_an_urgent_case_is_alerted_right_after_consent_and_once(
    svc: IntakeService,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    svc.priority_one_hooks.append(alerts.enqueue_for_case)  # as build_intake wires it
    chat = Chat(svc, user="at-the-door", lang="en")
    chat.answer("consent_store", "they are at my door right now")
    assert _alerts(svc) == []  # no consent yet: nothing stored, nothing alerted
    chat.answer("consent_store", "yes")
    [case] = list_queue(svc.db)
    assert case.priority == 1 and case.incomplete
    assert _alerts(svc) == [("new", ROTA, "pending")]

    result = alerts.dispatch(svc.db, oncall, now_of(clock), senders)
    assert result.sent == 3
    assert case.case_ref.encode() in servers.webhook.requests[0].body

    chat.answer("urgent_path", "1")
    chat.run(
        [
            ("urgent_who", "My brother Samir"),
            ("incident_location", "Central prison"),
            ("incident_date", "an hour ago"),
            ("contact_safety", "After 9 pm"),
        ]
    )
    chat.say("yes")
    assert [c.case_ref for c in list_queue(svc.db)] == [case.case_ref]  # completed in place
    assert len(_alerts(svc)) == 4  # still the one case-level row and its three routes
    clock.advance(60)
    assert alerts.dispatch(svc.db, oncall, now_of(clock), senders).sent == 0
    for body in servers.bodies():
        assert b"Samir" not in body and b"prison" not in body.lower()


def test_build_intake_wires_the_alert_hook(
    make_service: Callable[..., IntakeService], settings: Settings
) -> None:
    make_service()  # initialises the home
    service = build_intake(settings)
    try:
        chat = Chat(service, user="wired", lang="en")
        chat.answer("consent_store", "they are at my door right now")
        chat.answer("consent_store", "yes")
        assert _alerts(service) == [("new", ROTA, "pending")]
    finally:
        service.db.dispose()
