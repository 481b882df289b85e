"""Running delivery: the worker a bot calls periodically (reloading a changed rota, keeping
the last good one) and `sanad alerts run --once` beside the bot."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import alerts
from intake.service import IntakeService
from storage import cases
from tests.alerts.conftest import ENV, Servers, now_of, oncall_text, report
from tests.cli.conftest import sanad
from tests.support import Clock


def test_worker_ticks_on_its_interval_and_reloads_the_rota(
    svc: IntakeService, servers: Servers, clock: Clock, senders: dict[str, alerts.Sender]
) -> None:
    home = svc.settings.home
    live = alerts.live_oncall_path(home)
    live.parent.mkdir(parents=True, exist_ok=True)
    live.write_text(oncall_text(servers), encoding="utf-8")
    worker = alerts.AlertWorker(svc.db, home, clock, senders, interval=20)

    ref = report(svc)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None and alerts.enqueue_for_case(session, case, now_of(clock))
    first = worker.tick()
    assert first is not None and first.sent == 3
    clock.advance(5)
    assert worker.tick() is None  # not yet: the interval has not passed

    # The operator changes the rota: only the webhook for new alerts from now on.
    live.write_text(
        oncall_text(servers).replace(
            "routes: [duty-telegram, duty-signal, case-hook]", "routes: [case-hook]"
        ),
        encoding="utf-8",
    )
    os.utime(live, (clock() + 1, clock() + 1))
    clock.advance(20)
    second_ref = report(svc, user="reporter-2")
    with svc.db.transaction() as session:
        case = cases.by_ref(session, second_ref)
        assert case is not None and alerts.enqueue_for_case(session, case, now_of(clock))
    result = worker.tick()
    assert result is not None and result.sent == 1
    assert second_ref.encode() in servers.webhook.requests[-1].body
    assert all(second_ref.encode() not in r.body for r in servers.telegram.requests)

    # A broken edit is refused; the last good rota stays in use.
    live.write_text("timezone: [\n", encoding="utf-8")
    os.utime(live, (clock() + 2, clock() + 2))
    clock.advance(20)
    still = worker.tick()
    assert still is not None and still.error is None


def test_alerts_run_once_from_the_command_line(
    make_service: Callable[..., IntakeService],
    servers: Servers,
    clock: Clock,
    cli_env: dict[str, str],
) -> None:
    svc = make_service()
    ref = report(svc)
    with svc.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None and alerts.enqueue_for_case(session, case, now_of(clock))
    home = svc.settings.home
    live = alerts.live_oncall_path(home)
    live.parent.mkdir(parents=True, exist_ok=True)
    live.write_text(oncall_text(servers), encoding="utf-8")
    env = {
        **cli_env,
        **ENV,
        "SANAD_HOME": str(home),
        "SANAD_DATABASE_URL": svc.settings.database_url,
    }
    done = sanad(env, "alerts", "run", "--once")
    # The real clock is months after the test clock: the case is also overdue, so the
    # supervisor is told at once as well.
    assert "4 sent, 0 to retry, 0 given up, 1 escalated" in done.stdout, done.stdout
    assert ref.encode() in servers.telegram.requests[0].body
    assert len(servers.smtp.messages) == 1
    log = (Path(home) / "logs" / "sanad.log").read_text(encoding="utf-8")
    assert "alert sent route=duty-telegram" in log and ref not in log

    live.write_text("timezone: UTC\n", encoding="utf-8")
    refused = sanad(env, "alerts", "run", "--once", check=False)
    assert refused.returncode == 2 and f"{live}:1" in refused.stderr


def test_alerts_test_sends_a_case_free_message_through_one_route(
    tmp_path: Path, servers: Servers, monkeypatch: object
) -> None:
    from click.testing import CliRunner

    from cli.main import main

    home = tmp_path / "home"
    live = alerts.live_oncall_path(home)
    live.parent.mkdir(parents=True)
    live.write_text(oncall_text(servers), encoding="utf-8")
    env = {**ENV, "SANAD_HOME": str(home)}
    runner = CliRunner()
    ok = runner.invoke(main, ["alerts", "test", "duty-signal"], env=env)
    assert ok.exit_code == 0, ok.output
    assert "duty-signal: delivered a test alert (signal)" in ok.output
    assert "No case is waiting" in servers.signal.requests[0].json()["message"]

    servers.webhook.status = 503
    down = runner.invoke(main, ["alerts", "test", "case-hook"], env=env)
    assert down.exit_code == 1 and "not delivered (HTTP 503)" in down.output

    unknown = runner.invoke(main, ["alerts", "test", "pigeon"], env=env)
    assert unknown.exit_code == 2 and "no route named 'pigeon'" in unknown.output
