"""The caseworker outbox on several workers (issue 15, audit D3): two Telegram channels (two
services, two database pools, as two hosts have) on one PostgreSQL deliver each message
once; a failed delivery is retried after a backoff, not at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from caseworker.followup import queue_reply
from intake import _followup
from intake.service import IntakeService
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
        make_service: Callable[..., IntakeService], postgres_url: str, fake: FakeTelegram,
        start_bot: Callable[..., Running]) -> None:
    host_a = make_service(postgres_url)
    host_b = make_service(postgres_url)  # same home and keys, its own pool
    chats = [700_100_001 + i for i in range(3)]
    refs = [_telegram_case(host_a, c) for c in chats]
    pepper = host_a._pepper
    for ref in refs:
        for n in range(4):
            queue_reply(host_a.db, pepper, ref, "demo", PASSPHRASE, f"Are you safe? #{n}",
                        now=host_a._now())
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
        make_service: Callable[..., IntakeService], postgres_url: str, fake: FakeTelegram,
        start_bot: Callable[..., Running], clock: Clock) -> None:
    service = make_service(postgres_url)
    chat = 700_100_050
    ref = _telegram_case(service, chat)
    queue_reply(service.db, service._pepper, ref, "demo", PASSPHRASE, "Hello again",
                now=service._now())
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
        make_service: Callable[..., IntakeService], postgres_url: str, clock: Clock) -> None:
    service = make_service(postgres_url)
    ref = _telegram_case(service, 700_100_060)
    queue_reply(service.db, service._pepper, ref, "demo", PASSPHRASE, "Still there?",
                now=service._now())
    assert len(service.pending_outbox("telegram")) == 1  # taken, then the worker dies
    assert service.pending_outbox("telegram") == []
    clock.advance(_followup.LEASE.total_seconds() + 1)
    assert len(service.pending_outbox("telegram")) == 1
