"""The job runners with the real purge: on PostgreSQL two workers (two runners, two pools,
as two hosts) run each tick of the periodic purge once between them (procrastinate); on
SQLite the same tasks run in this process. A failing run is retried with backoff."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import procrastinate
import pytest

from intake.retention import purge
from intake.service import IntakeService
from jobs import Periodic, ProcrastinateRunner, ThreadRunner, cron_for, runner_for, tasks_for
from jobs._runner import QUEUE, _conninfo
from storage import health


def test_cron_lines() -> None:
    assert cron_for(2) == "* * * * * */2"
    assert cron_for(300) == "*/5 * * * *"
    assert cron_for(86400) == "0 3 * * *"


@pytest.mark.postgres
def test_periodic_purge_runs_once_per_tick_across_two_workers(
    make_service: Callable[..., IntakeService], postgres_url: str
) -> None:
    hosts = [make_service(postgres_url), make_service(postgres_url)]
    counts = [0, 0]
    lock = threading.Lock()

    def purge_on(i: int) -> Callable[[], object]:
        def run() -> object:
            result = purge(hosts[i])
            with lock:
                counts[i] += 1
            return result

        return run

    runners = [
        runner_for(h.db, [Periodic("purge", 1, purge_on(i))], kind="jobs")
        for i, h in enumerate(hosts)
    ]
    assert all(isinstance(r, ProcrastinateRunner) for r in runners)
    for r in runners:
        r.start()
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and sum(counts) < 5:
            time.sleep(0.2)
    finally:
        for r in runners:
            r.stop()
    ticks = [t for r in runners for t in r.ticks]  # type: ignore[attr-defined]
    assert len(ticks) >= 5
    assert len(ticks) == len(set(ticks)) == sum(counts), "a tick ran twice"
    with hosts[0].db.transaction() as session:
        kinds = {
            w["kind"]
            for w in health.heartbeats(session, health._aware(health.last_beat(session, "jobs")))
        }  # type: ignore[arg-type]
    assert kinds == {"jobs"}


@pytest.mark.postgres
def test_a_failed_run_is_retried_by_the_engine(
    make_service: Callable[..., IntakeService], postgres_url: str
) -> None:
    host = make_service(postgres_url)
    tries: list[float] = []

    def flaky() -> None:
        tries.append(time.monotonic())
        if len(tries) == 1:
            raise RuntimeError("the first try fails")

    # a poll every 0.1 s: the retry runs as soon as its backoff is over
    runner = ProcrastinateRunner(
        host.db, [Periodic("flaky", 86400, flaky, retries=3)], poll_interval=0.1
    )
    runner.start()
    try:
        # Deferred as another process would: an app of its own, on its own pool and loop.
        # (Not `runner.app.with_connector`: its tasks keep deferring through the runner's
        # pool, which lives on the worker thread's loop, and a connection asked for from
        # this loop can then wait out the pool's 30 s timeout.)
        other = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=_conninfo(postgres_url))
        )

        async def defer() -> None:
            async with other.open_async():
                await other.configure_task("sanad.flaky", queue=QUEUE).defer_async(timestamp=0)

        asyncio.run(defer())
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and len(tries) < 2:
            time.sleep(0.2)
    finally:
        runner.stop()
    assert len(tries) == 2 and tries[1] - tries[0] >= 1  # tried again, after a wait


def test_sqlite_runs_the_same_tasks_in_process(service: IntakeService) -> None:
    tasks = tasks_for(
        service.db,
        service.settings.home,
        purge=lambda: purge(service),
        purge_every=3600,
        watchdog=False,
    )
    runner = runner_for(service.db, tasks, kind="telegram")
    assert isinstance(runner, ThreadRunner)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and runner.runs["purge"] < 1:
            time.sleep(0.05)
    finally:
        runner.stop()
    assert runner.runs["purge"] == 1
    with service.db.transaction() as session:
        assert health.last_beat(session, "telegram") is not None
