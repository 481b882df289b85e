"""The shipped periodic tasks, built for one process.

purge             the retention jobs (intake/retention.py), daily
alerts            one alerts round: escalate, remind, send, retry (alerts/), every 20 s
alerts_watchdog   the on-call route told when no alerts worker beat for 2 min, every 30 s
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from jobs._runner import CLUSTER, Periodic
from storage import Database

__all__ = ["channel_runner", "tasks_for"]


def tasks_for(
    db: Database,
    home: Any,
    *,
    purge: Callable[[], object] | None = None,
    purge_every: float = 86400,
    alerts: bool = False,
    alerts_every: float = 20.0,
    watchdog: bool = True,
    watchdog_every: float = 30.0,
    senders: Mapping[str, Any] | None = None,
    clock: Callable[[], float] = time.time,
) -> list[Periodic]:
    """`purge`: how this process purges (it needs the intake service: keyring, settings);
    `alerts`: run alert rounds here (the job worker); `watchdog`: watch the alerts worker
    (anywhere else: bots, the job worker)."""
    from alerts import AlertWorker, ConfigSource, default_senders, watch_alerts_worker

    chosen = senders if senders is not None else default_senders()
    source = ConfigSource(home)
    tasks: list[Periodic] = []
    if purge is not None:
        tasks.append(Periodic("purge", purge_every, purge, CLUSTER))
    if alerts:
        worker = AlertWorker(db, home, clock, senders=chosen, interval=alerts_every, source=source)
        tasks.append(Periodic("alerts", alerts_every, worker.run_once, CLUSTER))
    if watchdog:

        def watch() -> str:
            return watch_alerts_worker(
                db, source.current(), datetime.fromtimestamp(clock(), UTC), chosen
            )

        tasks.append(Periodic("alerts_watchdog", watchdog_every, watch, CLUSTER))
    return tasks


def channel_runner(service: Any, kind: str) -> Any:
    """The background work of a channel process (`sanad run telegram|signal`): the purge
    (once across hosts on PostgreSQL), the alerts watchdog when an on-call configuration is
    in the home, and this process's heartbeat. Not started."""
    from alerts import live_oncall_path
    from intake import purge
    from jobs._runner import runner_for

    home = service.settings.home
    tasks = tasks_for(
        service.db,
        home,
        purge=lambda: purge(service),
        purge_every=service.settings.purge_interval_seconds,
        watchdog=live_oncall_path(home).exists(),
        clock=service.clock,
    )
    return runner_for(service.db, tasks, kind=kind)
