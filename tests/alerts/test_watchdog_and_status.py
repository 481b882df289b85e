"""Health: a silent alerts worker is told to the on-call routes after two minutes (injected
clock), once, with no case content; `sanad status --json` shows heartbeats and the oldest
unclaimed priority-1 case. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import urllib.parse
from datetime import timedelta

from click.testing import CliRunner

import alerts
from cli.main import main
from intake.service import IntakeService
from jobs import status
from storage import health
from storage.models import HealthAlert
from tests.alerts.conftest import SECRETS, Servers, now_of, oncall_text, report
from tests.support import Clock


def test_silent_alerts_worker_is_told_to_on_call_after_two_minutes(
    svc: IntakeService,
    oncall: alerts.OncallConfig,
    senders: dict[str, alerts.Sender],
    servers: Servers,
    clock: Clock,
) -> None:
    ref = report(svc)  # a priority-1 case exists: its content must not reach this alert
    start = now_of(clock)
    with svc.db.transaction() as session:
        health.beat(session, "alerts", start, "host-a:1")
    assert (
        alerts.watch_alerts_worker(svc.db, oncall, start + timedelta(seconds=60), senders) == "ok"
    )
    assert servers.telegram.requests == []
    late = start + timedelta(seconds=121)
    assert alerts.watch_alerts_worker(svc.db, oncall, late, senders) == "sent"
    told = servers.telegram.requests + servers.signal.requests + servers.webhook.requests
    assert len(servers.telegram.requests) == 1 and told
    body = urllib.parse.unquote_plus(servers.telegram.requests[0].body.decode())
    assert "alerts worker" in body and ref not in body
    for secret in SECRETS:
        assert all(secret.encode() not in b for b in servers.bodies())
    # Once, across rounds (and hosts: the row decides), not every 30 seconds.
    assert (
        alerts.watch_alerts_worker(svc.db, oncall, late + timedelta(seconds=30), senders)
        == "raised"
    )
    assert len(servers.telegram.requests) == 1
    # The worker comes back: the problem closes, and a new silence is told again.
    with svc.db.transaction() as session:
        health.beat(session, "alerts", late + timedelta(seconds=40), "host-a:1")
    assert alerts.watch_alerts_worker(svc.db, oncall, late + timedelta(seconds=41), senders) == "ok"
    with svc.db.transaction() as session:
        assert session.get(HealthAlert, "alerts_silent") is None


def test_an_alerts_round_is_a_heartbeat(
    svc: IntakeService, servers: Servers, senders: dict[str, alerts.Sender], clock: Clock
) -> None:
    live = alerts.live_oncall_path(svc.settings.home)
    live.parent.mkdir(parents=True, exist_ok=True)
    live.write_text(oncall_text(servers), encoding="utf-8")
    worker = alerts.AlertWorker(
        svc.db, svc.settings.home, clock, senders=senders, worker="host-b:2"
    )
    assert worker.run_once().error is None
    with svc.db.transaction() as session:
        assert health.last_beat(session, "alerts") == now_of(clock)


def test_status_json_shows_heartbeats_and_the_oldest_unclaimed_p1(
    svc: IntakeService, clock: Clock
) -> None:
    first = report(svc)
    clock.advance(120)
    report(svc, user="reporter-2")
    health.Heartbeat(svc.db, "telegram", clock=clock, worker="bot-host:41").beat_now()
    health.Heartbeat(svc.db, "dashboard", clock=clock, worker="web-host:7").beat_now()
    clock.advance(30)
    data = CliRunner().invoke(
        main,
        ["status", "--json"],
        env={"SANAD_HOME": str(svc.settings.home), "SANAD_DATABASE_URL": svc.settings.database_url},
    )
    assert data.exit_code == 0, data.output
    out = json.loads(data.output)
    assert {(w["kind"], w["worker"]) for w in out["workers"]} == {
        ("telegram", "bot-host:41"),
        ("dashboard", "web-host:7"),
    }
    assert out["oldest_unclaimed_p1"]["case_ref"] == first
    assert out["unclaimed_p1"] == 2
    assert set(out["outbox"]) == {"pending", "retrying", "failed", "leased"}
    assert set(out["alerts"]) == {"pending", "retrying", "failed"}
    for secret in SECRETS:
        assert secret not in data.output
    with svc.db.transaction() as session:  # the same report, in process, at the test clock
        beats = status(session, now_of(clock))["workers"]
    assert {w["age_seconds"] for w in beats} == {30}
    human = CliRunner().invoke(
        main,
        ["status"],
        env={"SANAD_HOME": str(svc.settings.home), "SANAD_DATABASE_URL": svc.settings.database_url},
    )
    assert first in human.output and "telegram" in human.output
