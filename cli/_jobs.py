"""`sanad status` and `sanad jobs run`: the health of the workers, and the job worker."""

from __future__ import annotations

import json
import signal
import threading
import time
from datetime import UTC, datetime
from typing import Any

import click

__all__ = ["jobs", "status"]


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="Machine output (layout in the README).")
def status(as_json: bool) -> None:
    """Each worker's last heartbeat, the oldest unclaimed priority-1 case, outbox and alert
    failures. No case content."""
    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import open_database
    from jobs import status as report

    @friendly_errors
    def go() -> None:
        db = open_database(_settings())
        try:
            with db.transaction() as session:
                data = report(session, datetime.now(UTC))
        finally:
            db.dispose()
        if as_json:
            click.echo(json.dumps(data, ensure_ascii=False))
        else:
            click.echo(_human(data))

    go()


def _human(data: dict[str, Any]) -> str:
    lines = ["workers:"]
    for w in data["workers"] or []:
        lines.append(f"  {w['kind']:<10} {w['worker']:<32} last beat {w['age_seconds']} s ago")
    if not data["workers"]:
        lines.append("  (none has beaten yet)")
    p1 = data["oldest_unclaimed_p1"]
    lines.append(
        f"unclaimed priority-1 cases: {data['unclaimed_p1']}"
        + (f" (oldest {p1['case_ref']}, waiting {p1['age_seconds'] // 60} min)" if p1 else "")
    )
    o, a = data["outbox"], data["alerts"]
    lines.append(
        f"outbox: {o['pending']} pending ({o['retrying']} retrying, {o['leased']} "
        f"being sent), {o['failed']} failed"
    )
    lines.append(f"alerts: {a['pending']} pending ({a['retrying']} retrying), {a['failed']} failed")
    for h in data["health_alerts"]:
        lines.append(f"health: {h['kind']} since {h['raised_at']} ({h['status']})")
    return "\n".join(lines)


@click.group("jobs")
def jobs() -> None:
    """The job worker: alerts rounds, the alerts watchdog and the daily purge."""


@jobs.command("run")
def run() -> None:
    """Run the background work until stopped: on PostgreSQL on the job engine (each periodic
    task once across every host running it), on SQLite in this process."""
    from cli._common import friendly_errors
    from cli._common import settings as _settings
    from intake import build_intake, purge, setup_logging
    from jobs import runner_for, tasks_for

    @friendly_errors
    def go() -> None:
        settings = _settings()
        from intake import harden

        harden(settings)
        setup_logging(settings)
        service = build_intake(settings)
        tasks = tasks_for(
            service.db,
            settings.home,
            purge=lambda: purge(service),
            purge_every=settings.purge_interval_seconds,
            alerts=True,
            clock=time.time,
        )
        runner = runner_for(service.db, tasks, kind="jobs").start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        click.echo("jobs: running (Ctrl-C to stop)", err=True)
        try:
            while not stop.wait(1):
                pass
        except KeyboardInterrupt:
            click.echo("", err=True)
        finally:
            runner.stop()
            service.db.dispose()

    go()
