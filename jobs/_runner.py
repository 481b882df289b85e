"""The two runners of periodic tasks.

- `ThreadRunner` (SQLite, one host): a thread per task, at start and then every `every`
  seconds, as the bots' loops always did.
- `ProcrastinateRunner` (PostgreSQL): each task is a procrastinate periodic task. Every
  process that runs one defers the task for each tick, and procrastinate's unique periodic
  defer lets one of them win, so a tick runs once across every host; whichever worker is
  free runs it. A failed run is retried with exponential backoff. procrastinate is imported
  only here, when a runner is built for PostgreSQL.

A task whose scope is `PROCESS` runs in every process either way (a per-process duty).
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage import (
    Database,
    DeliveryDeferred,
    Heartbeat,
    defer_delivery,
    outbox_queue,
    outbox_task,
    sweep_candidates,
)

__all__ = [
    "CLUSTER",
    "PROCESS",
    "OutboxConsumer",
    "Periodic",
    "ProcrastinateRunner",
    "Runner",
    "ThreadRunner",
    "cron_for",
    "ensure_schema",
    "runner_for",
]

log = logging.getLogger("sanad.jobs")
CLUSTER = "cluster"  # once per tick across every host (PostgreSQL); in-process on SQLite
PROCESS = "process"  # in every process that runs it
QUEUE = "sanad"
SCHEMA_LOCK = 0x53414E4144  # "SANAD": one process installs the engine's tables at a time


@dataclass(frozen=True)
class Periodic:
    """A task run every `every` seconds. `run` takes nothing: its work is in the database."""

    name: str
    every: float
    run: Callable[[], object]
    scope: str = CLUSTER
    retries: int = 3  # PostgreSQL: further tries of a failed run, with exponential backoff


class OutboxConsumer(Protocol):
    """A channel process's side of outbox delivery (bot.telegram, bot.signal)."""

    async def deliver_message(self, message_id: str) -> str: ...

    async def deliver_outbox(self) -> int: ...

    def schedule_checkins(self) -> int: ...


class Runner(Protocol):
    def consume_outbox(
        self,
        channel: str,
        consumer: OutboxConsumer,
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float] = ...,
        every: float = ...,
    ) -> None: ...

    def start(self) -> Runner: ...

    def stop(self, timeout: float = 30) -> None: ...


UNEXPECTED_TRIES = 10


def _outbox_retry() -> Any:
    """When the engine runs an outbox job again: after the wait the outbox row records for a
    failed send (`DeliveryDeferred`), or a minute after an unexpected error (the database
    away), at most `UNEXPECTED_TRIES` times; the sweep takes it up after that."""
    from procrastinate import BaseRetryStrategy, RetryDecision

    class OutboxRetry(BaseRetryStrategy):
        def get_retry_decision(self, *, exception: BaseException, job: Any) -> RetryDecision | None:
            if isinstance(exception, DeliveryDeferred):
                seconds = max(1, math.ceil(exception.wait.total_seconds()))
            elif job.attempts + 1 < UNEXPECTED_TRIES:
                seconds = 60
            else:
                return None
            return RetryDecision(retry_in={"seconds": seconds})

    return OutboxRetry()


def _guarded(task: Periodic) -> None:
    try:
        task.run()
    except Exception as exc:  # keep running; the type is all the log says
        log.error("job failed task=%s error=%s", task.name, type(exc).__name__)


class ThreadRunner:
    """Every task in a thread of this process."""

    def __init__(self, tasks: list[Periodic], heartbeat: Heartbeat | None = None) -> None:
        self.tasks = tasks
        self.heartbeat = heartbeat
        self.runs: dict[str, int] = {t.name: 0 for t in tasks}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def consume_outbox(
        self,
        channel: str,
        consumer: OutboxConsumer,
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float] = time.time,
        every: float = 2.0,
    ) -> None:
        """Deliver this channel's due outbox messages every `every` seconds, each through
        the same `consumer.deliver_message` the engine's jobs call (on the channel's loop)."""

        def run() -> object:
            return asyncio.run_coroutine_threadsafe(consumer.deliver_outbox(), loop).result(
                timeout=300
            )

        task = Periodic(f"outbox:{channel}", every, run, PROCESS)
        self.tasks.append(task)
        self.runs[task.name] = 0

    def start(self) -> ThreadRunner:
        if self._threads:
            return self
        if self.heartbeat is not None:
            self.heartbeat.start()
        self._threads = [
            threading.Thread(target=self._loop, args=(t,), daemon=True, name=f"sanad-job-{t.name}")
            for t in self.tasks
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        if self.heartbeat is not None:
            self.heartbeat.stop()

    def _loop(self, task: Periodic) -> None:
        while not self._stop.is_set():
            _guarded(task)
            self.runs[task.name] += 1
            self._stop.wait(task.every)


def cron_for(every: float) -> str:
    """A cron line for "every `every` seconds" (croniter's six fields, seconds last); a day
    or more is daily at 03:00 UTC."""
    seconds = max(1, int(every))
    if seconds < 60:
        return f"* * * * * */{seconds}"
    if seconds < 3600:
        return f"*/{max(1, seconds // 60)} * * * *"
    if seconds < 86400:
        return f"0 */{max(1, seconds // 3600)} * * *"
    return "0 3 * * *"


def ensure_schema(db: Database) -> bool:
    """Install procrastinate's tables if this database has none yet; True if it did. An
    advisory lock makes concurrent starts on several hosts install them once."""
    from procrastinate.schema import SchemaManager

    with db.engine.begin() as conn:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
        if conn.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is not None:
            return False
        conn.exec_driver_sql(SchemaManager.get_schema().replace("%", "%%"))
    log.info("jobs: the job engine's tables were installed")
    return True


def _conninfo(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class ProcrastinateRunner:
    """Cluster tasks on procrastinate (a worker in a thread with its own event loop); process
    tasks in threads."""

    def __init__(
        self,
        db: Database,
        tasks: list[Periodic],
        heartbeat: Heartbeat | None = None,
        worker_name: str = "sanad",
        poll_interval: float = 1.0,
    ) -> None:
        import procrastinate

        self.db = db
        self.worker_name = worker_name
        # How often the worker asks for jobs whose time has come (a retry after its backoff,
        # a deferred one): new jobs wake it at once (LISTEN/NOTIFY), those wait for a look.
        # Shorter picks them up sooner, at a query a worker per interval.
        self.poll_interval = poll_interval
        self.runs: dict[str, int] = {t.name: 0 for t in tasks}
        self.ticks: list[tuple[str, int]] = []  # (task, cron tick) this process ran
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(
                conninfo=_conninfo(db.url), min_size=1, max_size=4
            )
        )
        for task in tasks:
            if task.scope == CLUSTER:
                self._register(procrastinate, task)
        self._local = ThreadRunner([t for t in tasks if t.scope != CLUSTER], heartbeat)
        self.queues = [QUEUE]
        self.delivered: dict[str, int] = {}  # outbox job outcomes in this process
        self._started = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="sanad-jobs", daemon=True)

    def _register(self, procrastinate: Any, task: Periodic) -> None:
        def job(timestamp: int) -> None:
            task.run()  # raises: procrastinate retries it (exponential backoff)
            self.runs[task.name] += 1
            self.ticks.append((task.name, timestamp))

        job.__name__ = f"sanad_{task.name.replace(':', '_')}"
        retry = procrastinate.RetryStrategy(max_attempts=task.retries, exponential_wait=2)
        registered = self.app.task(name=f"sanad.{task.name}", queue=QUEUE, retry=retry)(job)
        self.app.periodic(cron=cron_for(task.every), periodic_id=task.name)(registered)

    def consume_outbox(
        self,
        channel: str,
        consumer: OutboxConsumer,
        loop: asyncio.AbstractEventLoop,
        clock: Callable[[], float] = time.time,
        every: float = 60.0,
    ) -> None:
        """Consume this channel's outbox queue here: each job (a message id) is delivered by
        `consumer.deliver_message` on the channel's own event loop, which holds the platform
        connection. With it, the sweep every `every` seconds (at least 1 s; once across
        hosts): a job for every due message without one, and another go for the jobs of
        workers that died mid-send."""
        import procrastinate

        queue, name = outbox_queue(channel), outbox_task(channel)
        self.queues.append(queue)

        async def deliver(message_id: str) -> str:
            result = await asyncio.wrap_future(
                asyncio.run_coroutine_threadsafe(consumer.deliver_message(message_id), loop)
            )
            self.delivered[result] = self.delivered.get(result, 0) + 1
            return result

        deliver.__name__ = f"sanad_outbox_{channel}"
        self.app.task(name=name, queue=queue, retry=_outbox_retry())(deliver)

        async def sweep(timestamp: int) -> int:
            def due() -> int:
                consumer.schedule_checkins()  # safety check-ins come due become messages
                with self.db.transaction() as session:
                    now = datetime.fromtimestamp(clock(), UTC)
                    return defer_delivery(session, channel, sweep_candidates(session, channel, now))

            deferred = await asyncio.to_thread(due)
            stalled = list(await self.app.job_manager.get_stalled_jobs(queue=queue, task_name=name))
            for job in stalled:
                await self.app.job_manager.retry_job(job)
            if deferred or stalled:
                log.info(
                    "outbox sweep channel=%s deferred=%d stalled=%d",
                    channel,
                    deferred,
                    len(stalled),
                )
            return deferred

        sweep.__name__ = f"sanad_outbox_sweep_{channel}"
        swept = self.app.task(
            name=f"{name}.sweep", queue=queue, retry=procrastinate.RetryStrategy(max_attempts=2)
        )(sweep)
        self.app.periodic(cron=cron_for(max(1.0, every)), periodic_id=f"outbox_sweep:{channel}")(
            swept
        )

    def start(self) -> ProcrastinateRunner:
        if self._started:
            return self
        self._started = True
        ensure_schema(self.db)
        self._local.start()
        self._thread.start()
        self._ready.wait(30)
        return self

    def _serve(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._work())
        finally:
            loop.close()

    async def _work(self) -> None:
        async with self.app.open_async():
            self._task = asyncio.current_task()  # type: ignore[assignment]
            self._ready.set()
            try:
                await self.app.run_worker_async(
                    queues=self.queues,
                    wait=True,
                    name=self.worker_name,
                    concurrency=2,
                    install_signal_handlers=False,
                    fetch_job_polling_interval=self.poll_interval,
                    delete_jobs="successful",
                )
            except asyncio.CancelledError:
                pass

    def stop(self, timeout: float = 30) -> None:
        loop, task = self._loop, self._task
        if loop is not None and task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(task.cancel)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._local.stop(timeout)


def runner_for(
    db: Database, tasks: list[Periodic], kind: str | None = None, heartbeat_interval: float = 15.0
) -> ThreadRunner | ProcrastinateRunner:
    """The runner for this database; `kind` names the heartbeat this process writes."""
    beat = Heartbeat(db, kind, heartbeat_interval) if kind else None
    if db.is_sqlite:
        return ThreadRunner(tasks, beat)
    return ProcrastinateRunner(db, tasks, beat, worker_name=kind or "sanad")
