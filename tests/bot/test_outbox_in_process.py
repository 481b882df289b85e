"""The caseworker outbox on SQLite (one host): the channel's job runner delivers it in this
process, through the same task the engine's jobs run on PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Callable

from caseworker.followup import queue_reply
from intake.service import IntakeService
from jobs import ThreadRunner, channel_runner
from storage.models import OutboxMessage
from tests.bot.conftest import Running
from tests.bot.test_outbox_workers import _telegram_case, _texts
from tests.fakes.telegram_server import FakeTelegram
from tests.support import PASSPHRASE


def test_sqlite_delivers_the_outbox_in_process(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    chat = 700_100_200
    ref = _telegram_case(service, chat)
    runner = channel_runner(service, "telegram")
    assert isinstance(runner, ThreadRunner)
    start_bot(service, jobs=runner)
    queue_reply(
        service.db, service._pepper, ref, "demo", PASSPHRASE, "Are you safe?", now=service._now()
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _texts(fake, chat, "Are you safe?") == 0:
        time.sleep(0.1)
    assert _texts(fake, chat, "Are you safe?") == 1

    def status() -> str:
        with service.db.transaction() as session:
            return str(session.query(OutboxMessage).one().status)

    # the row is marked sent once Telegram has answered, a moment after the fake saw the text
    while time.monotonic() < deadline and status() != "sent":
        time.sleep(0.05)
    assert status() == "sent"
    # the round that sent it is counted once it returns (the send is seen a moment earlier)
    while time.monotonic() < deadline and runner.runs["outbox:telegram"] < 1:
        time.sleep(0.05)
    assert runner.runs["outbox:telegram"] >= 1
