"""The caseworker outbox on several workers (issue 15, audit D3): two Telegram channels (two
services, two database pools, as two hosts have) on one PostgreSQL deliver each message
once, on the job path (a procrastinate job per message on the channel's queue) and on the
in-process path (`deliver_outbox`, SQLite's); a failed delivery is retried after a backoff, not
at once, and after its last try counts as failed in `sanad status`."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import text

from caseworker.followup import queue_reply
from intake import followup as _followup
from intake.service import IntakeService
from jobs import ProcrastinateRunner, channel_runner, ensure_schema, status
from storage.models import OutboxMessage
from tests.bot.conftest import Running
from tests.fakes.telegram_server import FakeTelegram
from tests.intake.test_coming_back import FOLLOWUP_REPORT
from tests.support import PASSPHRASE, Chat, Clock

pytestmark = pytest.mark.postgres


def _telegram_case(service: IntakeService, chat_id: int) -> str:
    """A report that consented to follow-up, whose route is a Telegram chat."""
    chat = Chat(service, user=str(chat_id), lang="en", open_now=False)
    chat.src = replace(chat.src, channel="telegram", route=str(chat_id))
    chat.replies = service.open(chat.src, "en").replies
    chat.run(FOLLOWUP_REPORT)
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.say("yes")
    return str(next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"])


def _texts(fake: FakeTelegram, chat_id: int, needle: str) -> int:
    return sum(needle in m.get("text", "") for m in fake.sent(chat_id))


def test_two_workers_deliver_each_outbox_message_once(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    host_a = make_service(postgres_url)
    host_b = make_service(postgres_url)  # same home and keys, its own pool
    chats = [700_100_001 + i for i in range(3)]
    refs = [_telegram_case(host_a, c) for c in chats]
    pepper = host_a._pepper
    for ref in refs:
        for n in range(4):
            queue_reply(
                host_a.db, pepper, ref, "demo", PASSPHRASE, f"Are you safe? #{n}", now=host_a._now()
            )
    bots = [start_bot(host_a), start_bot(host_b)]
    delivered = [0, 0]
    go = threading.Barrier(2)

    def work(i: int) -> None:
        go.wait()
        for _ in range(4):
            delivered[i] += bots[i].call(bots[i].channel.deliver_outbox())

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sum(delivered) == 12
    for chat in chats:
        for n in range(4):
            assert _texts(fake, chat, f"Are you safe? #{n}") == 1
    with host_a.db.transaction() as session:
        rows = list(session.query(OutboxMessage))
    assert {r.status for r in rows} == {"sent"} and all(r.lease_until is None for r in rows)


def test_a_failed_delivery_is_retried_with_backoff(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
    clock: Clock,
) -> None:
    service = make_service(postgres_url)
    chat = 700_100_050
    ref = _telegram_case(service, chat)
    queue_reply(
        service.db, service._pepper, ref, "demo", PASSPHRASE, "Hello again", now=service._now()
    )
    bot = start_bot(service)
    fake.fail_next("sendMessage", 400, retry_after=None, description="Bad Request: try later")
    assert bot.call(bot.channel.deliver_outbox()) == 0
    with service.db.transaction() as session:
        row = session.query(OutboxMessage).one()
        assert row.attempts == 1 and row.status == "pending" and row.lease_until is None
    # Not again at once: only after the backoff (30 s after the first failure).
    assert bot.call(bot.channel.deliver_outbox()) == 0
    clock.advance(_followup.backoff(1).total_seconds() - 5)
    assert bot.call(bot.channel.deliver_outbox()) == 0
    clock.advance(10)
    assert bot.call(bot.channel.deliver_outbox()) == 1
    assert _texts(fake, chat, "Hello again") == 2  # the refused try, then the delivery
    shown = [m for m in fake.visible(chat).values() if "Hello again" in m.get("text", "")]
    assert len(shown) == 1


def test_a_worker_that_died_mid_send_gives_the_message_up_after_its_lease(
    make_service: Callable[..., IntakeService], postgres_url: str, clock: Clock
) -> None:
    service = make_service(postgres_url)
    ref = _telegram_case(service, 700_100_060)
    queue_reply(
        service.db, service._pepper, ref, "demo", PASSPHRASE, "Still there?", now=service._now()
    )
    assert len(service.pending_outbox("telegram")) == 1  # taken, then the worker dies
    assert service.pending_outbox("telegram") == []
    clock.advance(_followup.LEASE.total_seconds() + 1)
    assert len(service.pending_outbox("telegram")) == 1


def _wait(predicate: Callable[[], bool], seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_two_channel_workers_deliver_each_outbox_job_once(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    """The job path: each queued message is a job on the Telegram queue, holding its id only;
    two channel processes (two hosts) consume the queue and each message is sent once."""
    host_a = make_service(postgres_url)
    host_b = make_service(postgres_url)
    ensure_schema(host_a.db)  # as the first channel process to start does
    chats = [700_100_101 + i for i in range(3)]
    refs = [_telegram_case(host_a, c) for c in chats]
    for ref in refs:
        for n in range(4):
            queue_reply(
                host_a.db,
                host_a._pepper,
                ref,
                "demo",
                PASSPHRASE,
                f"Are you safe? #{n}",
                now=host_a._now(),
            )
    with host_a.db.engine.connect() as conn:
        jobs = conn.execute(
            text(
                "SELECT queue_name, args, args::text LIKE '%safe%' FROM procrastinate_jobs "
                "WHERE status = 'todo'"
            )
        ).all()
    assert len(jobs) == 12
    assert {j[0] for j in jobs} == {"sanad.outbox.telegram"}
    assert all(set(j[1]) == {"message_id"} and not j[2] for j in jobs)  # ids, never text
    runners = [channel_runner(h, "telegram") for h in (host_a, host_b)]
    assert all(isinstance(r, ProcrastinateRunner) for r in runners)
    for host, runner in zip((host_a, host_b), runners, strict=True):
        start_bot(host, jobs=runner)

    def done() -> bool:
        return all(_texts(fake, c, f"Are you safe? #{n}") >= 1 for c in chats for n in range(4))

    assert _wait(done), "not every message was delivered"
    outcomes = [r.delivered for r in runners]  # type: ignore[attr-defined]

    def jobs_left() -> int:
        with host_a.db.engine.connect() as conn:
            return int(
                conn.scalar(
                    text(
                        "SELECT count(*) FROM procrastinate_jobs "
                        "WHERE queue_name = 'sanad.outbox.telegram'"
                    )
                )
            )

    # Would a second worker send one again? Only a job could: wait until every job's run
    # has ended and none is left to run (done jobs are deleted), then count the sends.
    assert _wait(lambda: sum(sum(o.values()) for o in outcomes) >= 12 and jobs_left() == 0, 30), (
        outcomes
    )
    for chat in chats:
        for n in range(4):
            assert _texts(fake, chat, f"Are you safe? #{n}") == 1
    assert sum(o.get("sent", 0) for o in outcomes) == 12, outcomes
    assert not any(o.get("skipped") or o.get("failed") for o in outcomes), outcomes
    with host_a.db.transaction() as session:
        rows = list(session.query(OutboxMessage))
        left = session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs WHERE queue_name = 'sanad.outbox.telegram'"
            )
        )
    assert {r.status for r in rows} == {"sent"} and all(r.lease_until is None for r in rows)
    assert left == 0  # done jobs are deleted (delete_jobs="successful")


def test_a_failing_outbox_job_is_retried_with_backoff_and_ends_in_status(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every send refused: the engine runs the job again after the row's backoff (here 1 s,
    then 2 s), and after the last try `sanad status` shows one failed message."""
    monkeypatch.setattr(_followup, "MAX_ATTEMPTS", 3)
    monkeypatch.setattr(_followup, "backoff", lambda attempts: timedelta(seconds=attempts))
    service = make_service(postgres_url)
    ensure_schema(service.db)
    chat = 700_100_150
    ref = _telegram_case(service, chat)
    tries: list[float] = []  # when each try reached Telegram (the fake keeps no times)
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            while _texts(fake, chat, "Hello?") > len(tries):
                tries.append(time.monotonic())
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    fake.fail_next("sendMessage", 400, retry_after=None, description="Bad Request: no", times=3)
    runner = channel_runner(service, "telegram")
    runner.poll_interval = 0.1  # a retry's job is run as soon as its backoff is over
    start_bot(service, jobs=runner)
    queue_reply(service.db, service._pepper, ref, "demo", PASSPHRASE, "Hello?", now=service._now())

    def failed() -> bool:
        with service.db.transaction() as session:
            return bool(status(session, service._now())["outbox"]["failed"] == 1)

    assert _wait(failed, 30), f"tries: {len(tries)}"
    time.sleep(0.2)
    watching.set()
    watcher.join(5)
    assert len(tries) == 3
    # the backoff each time (less the watcher's 20 ms resolution)
    assert tries[1] - tries[0] >= 0.95 and tries[2] - tries[1] >= 1.95, tries
    with service.db.transaction() as session:
        row = session.query(OutboxMessage).one()
        assert (row.status, row.attempts, row.lease_until) == ("failed", 3, None)
        shown = status(session, service._now())["outbox"]
    assert shown["pending"] == 0 and shown["failed"] == 1
    assert runner.delivered == {"failed": 1}  # type: ignore[attr-defined]
    assert not [m for m in fake.visible(chat).values() if "Hello?" in m.get("text", "")]


def test_the_sweep_gives_a_job_to_a_reply_queued_without_one(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    """A reply queued before the engine's tables existed (an upgrade) has no job: the sweep
    defers one, and it is delivered once."""
    service = make_service(postgres_url)
    chat = 700_100_250
    ref = _telegram_case(service, chat)
    queue_reply(
        service.db, service._pepper, ref, "demo", PASSPHRASE, "Still safe?", now=service._now()
    )
    with service.db.engine.connect() as conn:  # no engine yet: no job for it
        assert conn.scalar(text("SELECT to_regclass('procrastinate_jobs')")) is None
    runner = channel_runner(service, "telegram")
    consume = runner.consume_outbox
    runner.consume_outbox = (  # type: ignore[method-assign]
        lambda *args, **kwargs: consume(*args, **{**kwargs, "every": 1})
    )  # a sweep a second
    start_bot(service, jobs=runner)
    assert _wait(lambda: _texts(fake, chat, "Still safe?") >= 1, 30)
    time.sleep(2.5)  # more sweeps: no second job, no second send
    assert _texts(fake, chat, "Still safe?") == 1
    with service.db.transaction() as session:
        assert session.query(OutboxMessage).one().status == "sent"
