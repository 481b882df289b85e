"""Background work behind one interface: periodic tasks that run once across every host on
PostgreSQL (procrastinate), or in this process on SQLite.

    runner = jobs.runner_for(db, [Periodic("purge", 86400, run_purge), ...], kind="telegram")
    runner.start() … runner.stop()

A task takes no arguments: it finds its work in the database (ids, leases), so no job row
ever holds what a reporter wrote. `tasks_for(...)` builds the shipped tasks (purge, alerts
round, alerts watchdog); `status(session, now)` is what `sanad status` prints.

Caseworker-outbox delivery is a job too (`storage/outbox_jobs.py`): on PostgreSQL one job per
message, holding its id only, on its channel's queue (`sanad.outbox.telegram`, `…signal`),
which only that channel's processes consume (they hold the platform connection; the channel
calls `runner.consume_outbox(...)` when it starts); leased, sent once, retried with the
backoff the outbox row records. On SQLite the channel process delivers due messages itself.
"""

from jobs._runner import (
    CLUSTER,
    PROCESS,
    Periodic,
    ProcrastinateRunner,
    Runner,
    ThreadRunner,
    cron_for,
    ensure_schema,
    runner_for,
)
from jobs._status import status
from jobs._tasks import channel_runner, tasks_for

__all__ = [
    "CLUSTER",
    "PROCESS",
    "Periodic",
    "ProcrastinateRunner",
    "Runner",
    "ThreadRunner",
    "channel_runner",
    "cron_for",
    "ensure_schema",
    "runner_for",
    "status",
    "tasks_for",
]
