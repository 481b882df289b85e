"""`sanad alerts run`: deliver on-call alerts beside the bot (or once, from cron)."""

from __future__ import annotations

import signal
import sys
import threading
import time

import click

__all__ = ["alerts"]


@click.group()
def alerts() -> None:
    """On-call alerts for priority-1 cases (rota and routes: SANAD_HOME/config/oncall.yaml)."""


@alerts.command("run")
@click.option("--once", is_flag=True, help="One round, then exit (for cron or a check).")
@click.option(
    "--interval",
    type=click.FloatRange(min=1),
    default=20.0,
    show_default=True,
    help="Seconds between rounds.",
)
def run(once: bool, interval: float) -> None:
    """Escalate unclaimed cases, remind of interim-measure deadlines, send due alerts, retry
    failed ones; a round every INTERVAL seconds until stopped. Logs name routes and outcomes,
    never content."""
    from alerts import (
        DEFAULT_ONCALL,
        AlertWorker,
        ConfigSource,
        DispatchReport,
        OncallConfigError,
        live_oncall_path,
        oncall_path,
    )
    from cli._common import UserFacingError, friendly_errors
    from cli._common import settings as _settings
    from intake import Home, open_database, setup_logging

    @friendly_errors
    def go() -> None:
        settings = _settings()
        from intake import harden

        harden(settings)
        Home(settings.home).require()
        setup_logging(settings)
        source = ConfigSource(settings.home)
        try:
            source.current()
        except OncallConfigError as exc:
            raise UserFacingError(
                f"the on-call configuration is not valid (sanad config check):\n{exc}"
            ) from exc
        if oncall_path(settings.home) == DEFAULT_ONCALL:
            click.echo(
                f"warning: using the shipped example {DEFAULT_ONCALL}; copy it to "
                f"{live_oncall_path(settings.home)} and edit it",
                err=True,
            )
        db = open_database(settings)
        if not db.is_current():
            db.migrate()
        worker = AlertWorker(db, settings.home, time.time, interval=interval, source=source)

        def show(report: DispatchReport) -> None:
            if report.error:
                click.echo(f"alerts: round stopped ({report.error}); see the log", err=True)
            elif (
                once
                or report.sent
                or report.retrying
                or report.failed
                or report.escalated
                or report.reminded
            ):
                click.echo(
                    f"alerts: {report.sent} sent, {report.retrying} to retry, "
                    f"{report.failed} given up, {report.escalated} escalated, "
                    f"{report.reminded} measure deadline(s) reminded"
                )

        try:
            if once:
                report = worker.run_once()
                show(report)
                if report.error:
                    sys.exit(1)
                return
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            click.echo(f"alerts: running, a round every {interval:g} s (Ctrl-C to stop)")
            try:
                worker.run_forever(stop, show)
            except KeyboardInterrupt:
                click.echo("", err=True)
        finally:
            db.dispose()

    go()


@alerts.command("test")
@click.argument("route")
def test_route(route: str) -> None:
    """Send a test alert (no case in it) through ROUTE now, to check the route works."""
    from alerts import ConfigSource, OncallConfigError, SendError, default_senders, render
    from cli._common import UserFacingError
    from cli._common import settings as _settings

    try:
        config = ConfigSource(_settings().home).current()
    except OncallConfigError as exc:
        raise UserFacingError(
            f"the on-call configuration is not valid (sanad config check):\n{exc}"
        ) from exc
    chosen = config.routes.get(route)
    if chosen is None:
        raise UserFacingError(
            f"no route named '{route}'; there are: {', '.join(sorted(config.routes))}"
        )
    try:
        default_senders()[chosen.kind](chosen, render("test", "TEST", 0, 0, 0))
    except SendError as exc:
        click.echo(f"{route}: not delivered ({exc.reason})", err=True)
        sys.exit(1)
    click.echo(f"{route}: delivered a test alert ({chosen.kind})")
