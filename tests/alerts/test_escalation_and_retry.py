"""Escalation after the configured time (injected clock), never for a claimed case; failing
routes retried with backoff and logged without content; the conversation never waits."""

from __future__ import annotations

import logging
import socket
import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

import alerts
from intake.service import IntakeService
from storage import accounts, cases
from storage.alert_models import Alert
from storage.db import Database
from storage.models import CaseEvent
from tests.alerts.conftest import SECRETS, Servers, now_of, report
from tests.support import Clock


def _rows(svc: IntakeService) -> dict[tuple[str, str], Alert]:
    with svc.db.transaction() as session:
        return {(a.kind, a.route): a for a in session.scalars(select(Alert))}


def test_escalation_fires_after_the_configured_time_and_not_before(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    start = now_of(clock)
    assert alerts.dispatch(svc.db, oncall, start, senders).sent == 3
    almost = alerts.dispatch(svc.db, oncall, start + timedelta(minutes=30, seconds=-1), senders)
    assert almost.escalated == 0 and servers.smtp.messages == []
    due = alerts.dispatch(svc.db, oncall, start + timedelta(minutes=30), senders)
    assert (due.escalated, due.sent) == (1, 1)
    later = alerts.dispatch(svc.db, oncall, start + timedelta(hours=3), senders)
    assert (later.escalated, later.sent) == (0, 0)  # one escalation per case, ever
    assert len(servers.smtp.messages) == 1
    assert len(servers.telegram.requests) == 1  # escalations go to supervisors only
    assert _rows(svc)[("escalation", "supervisor-mail")].status == "sent"
    with svc.db.transaction() as session:
        kinds = list(
            session.scalars(select(CaseEvent.kind).where(CaseEvent.kind == "alert_escalated"))
        )
    assert kinds == ["alert_escalated"]


def test_a_claimed_case_is_not_escalated(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    start = now_of(clock)
    alerts.dispatch(svc.db, oncall, start, senders)
    with svc.db.transaction() as session:  # a caseworker takes the case after ten minutes
        case = cases.by_ref(session, urgent_case)
        user = accounts.get_user(session, "demo")
        assert case is not None and user is not None
        case.assigned_to = user.id
    result = alerts.dispatch(svc.db, oncall, start + timedelta(minutes=45), senders)
    assert result.escalated == 0 and servers.smtp.messages == []


def test_a_failing_route_is_retried_with_backoff_and_logged_without_content(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sanad")
    servers.telegram.status = 500
    start = now_of(clock)
    first = alerts.dispatch(svc.db, oncall, start, senders)
    assert (first.sent, first.retrying) == (2, 1)
    row = _rows(svc)[("new", "duty-telegram")]
    assert (row.status, row.attempts) == ("pending", 1)
    assert row.next_attempt_at.replace(tzinfo=None) == (start + timedelta(seconds=15)).replace(
        tzinfo=None
    )
    assert "route=duty-telegram" in caplog.text and "HTTP 500" in caplog.text
    assert "retry_in=15s" in caplog.text

    # Not yet due: nothing is sent.
    alerts.dispatch(svc.db, oncall, start + timedelta(seconds=14), senders)
    assert len(servers.telegram.requests) == 1
    # Due: tried again, fails again, waits twice as long.
    second = alerts.dispatch(svc.db, oncall, start + timedelta(seconds=15), senders)
    assert second.retrying == 1 and len(servers.telegram.requests) == 2
    assert "retry_in=30s" in caplog.text
    # The far end recovers.
    servers.telegram.status = 200
    alerts.dispatch(svc.db, oncall, start + timedelta(seconds=44), senders)
    assert len(servers.telegram.requests) == 2
    third = alerts.dispatch(svc.db, oncall, start + timedelta(seconds=45), senders)
    assert third.sent == 1 and len(servers.telegram.requests) == 3
    row = _rows(svc)[("new", "duty-telegram")]
    assert (row.status, row.attempts) == ("sent", 3)

    logged = caplog.text
    assert urgent_case not in logged  # the log names routes and outcomes, not cases
    assert [s for s in SECRETS if s in logged] == []
    assert "Sanad:" not in logged and "Open the queue" not in logged  # never the message


def test_a_route_that_is_down_is_retried_then_given_up(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="sanad")
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now
    route = oncall.routes["duty-signal"]
    config = _with(
        oncall,
        route=alerts.SignalRoute(route.name, f"127.0.0.1:{port}", "+12025550100", "+12025550123"),
    )
    now = now_of(clock)
    delays = []
    for _ in range(oncall.retry.max_attempts):
        alerts.dispatch(svc.db, config, now, senders)
        row = _rows(svc)[("new", "duty-signal")]
        if row.status == "failed":
            break
        delays.append(
            int(
                (
                    row.next_attempt_at.replace(tzinfo=None) - now.replace(tzinfo=None)
                ).total_seconds()
            )
        )
        now = (
            row.next_attempt_at
            if row.next_attempt_at.tzinfo
            else row.next_attempt_at.replace(tzinfo=now.tzinfo)
        )
    assert delays == [15, 30, 60]
    row = _rows(svc)[("new", "duty-signal")]
    assert (row.status, row.attempts) == ("failed", 4)
    assert (
        "cannot connect" in caplog.text and "alert failed for good route=duty-signal" in caplog.text
    )
    with svc.db.transaction() as session:
        assert session.scalar(select(CaseEvent.detail).where(CaseEvent.kind == "alert_failed")) == {
            "alert": "new",
            "route": "duty-signal",
        }


def test_telegram_asking_to_wait_is_obeyed(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    servers.telegram.status = 429
    servers.telegram.body = {"ok": False, "error_code": 429, "parameters": {"retry_after": 120}}
    alerts.dispatch(svc.db, oncall, now_of(clock), senders)
    row = _rows(svc)[("new", "duty-telegram")]
    assert (
        row.next_attempt_at.replace(tzinfo=None) - now_of(clock).replace(tzinfo=None)
    ) == timedelta(seconds=120)


def test_the_conversation_never_waits_for_a_route(
    svc: IntakeService,
    servers: Servers,
    oncall: alerts.OncallConfig,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    connections: list[object] = []
    real_connect = socket.socket.connect

    def counting(self: socket.socket, address: object) -> object:
        connections.append(address)
        return real_connect(self, address)  # type: ignore[arg-type]

    # Reporting and queueing the alert opens no connection at all (SQLite), only the
    # database's own (PostgreSQL).
    monkeypatch.setattr(socket.socket, "connect", counting)
    ref = report(svc)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        alerts.enqueue_for_case(session, case, now_of(clock))
    ports = {a[1] for a in connections if isinstance(a, tuple)}
    assert not ports & {
        servers.telegram.port,
        servers.signal.port,
        servers.webhook.port,
        servers.smtp.port,
    }

    # While a route hangs, a dispatcher is mid-send: another reporter is served meanwhile.
    servers.webhook.hang.set()
    slow = alerts.default_senders({"ALERT_TG_TOKEN": "1:x", "ALERT_HOOK_SECRET": "s"}, timeout=8)
    done = threading.Event()
    results: list[alerts.DispatchReport] = []
    worker = threading.Thread(
        target=lambda: (
            results.append(alerts.dispatch(svc.db, oncall, now_of(clock), slow)),
            done.set(),
        )
    )
    worker.start()
    deadline = time.monotonic() + 8
    while not servers.webhook.requests and time.monotonic() < deadline:
        time.sleep(0.02)
    assert servers.webhook.requests, "the dispatcher never reached the hanging route"
    began = time.monotonic()
    second = report(svc, user="another-reporter")
    with svc.db.transaction() as session:
        case = cases.by_ref(session, second)
        assert case is not None and alerts.enqueue_for_case(session, case, now_of(clock))
    assert not done.is_set(), "the route answered too early for this test to mean anything"
    assert time.monotonic() - began < 8
    servers.webhook.release.set()
    worker.join(20)
    assert results and results[0].retrying >= 1


def test_dispatch_never_raises(
    svc: IntakeService,
    urgent_case: str,
    tmp_path: object,
    oncall: alerts.OncallConfig,
    clock: Clock,
) -> None:
    def broken(route: object, message: object) -> None:
        raise RuntimeError("a bug in a sender")

    result = alerts.dispatch(svc.db, oncall, now_of(clock), {"telegram": broken})
    assert result.retrying == 3 and result.error is None  # signal, webhook: no sender
    gone = Database(f"sqlite:///{tmp_path}/missing/dir/sanad.db")
    try:
        assert alerts.dispatch(gone, oncall, now_of(clock), {}).error is not None
    finally:
        gone.dispose()


def _with(config: alerts.OncallConfig, route: alerts.Route) -> alerts.OncallConfig:
    from dataclasses import replace

    return replace(config, routes={**config.routes, route.name: route})


def test_a_withdrawn_case_is_neither_alerted_nor_escalated(
    svc: IntakeService,
    urgent_case: str,
    servers: Servers,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    clock: Clock,
) -> None:
    servers.telegram.status = 500
    start = now_of(clock)
    alerts.dispatch(svc.db, oncall, start, senders)  # telegram is left to retry
    with svc.db.transaction() as session:
        case = cases.by_ref(session, urgent_case)
        assert case is not None
        cases.withdraw(session, case, start + timedelta(minutes=1))
    servers.telegram.status = 200
    result = alerts.dispatch(svc.db, oncall, start + timedelta(hours=1), senders)
    assert (result.sent, result.escalated) == (0, 0)
    assert len(servers.telegram.requests) == 1 and servers.smtp.messages == []
    assert _rows(svc)[("new", "duty-telegram")].status == "cancelled"
