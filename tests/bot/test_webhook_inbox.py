"""Webhook mode stores before it answers Telegram and answers one chat in order.

- `sanad run telegram --webhook` killed (SIGKILL) after its 200, before and after the service
  committed: the next start answers the held update, once (issue 15 item 4).
- Two webhook workers on one PostgreSQL database, one chat whose messages alternate between
  them as fast as Telegram hands them over: every answer lands at its own question (a
  whole report comes out right), none is handled twice.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select

from bot.telegram import WebhookConfig, webhook_secret
from intake.service import IntakeService
from storage.models import ProcessedEvent
from tests.bot.conftest import Reporter, Running, answered_in, inbox_ids
from tests.bot.test_telegram_process import SCRIPT, BotProcess
from tests.cli.conftest import sanad
from tests.fakes.telegram_server import TOKEN, FakeTelegram, webhook_post
from tests.fakes.telegram_webhook import WebhookDispatcher
from tests.intake.test_conversations import COMPLAINT_EN_EXPECTED
from tests.support import open_report

USER = 700_321_654


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_a_webhook_worker_killed_after_its_200_loses_no_update(
    cli_env: dict[str, str], fake: FakeTelegram, demo_home: Callable[[dict[str, str]], None]
) -> None:
    port = _port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    env = dict(
        cli_env,
        SANAD_TELEGRAM_TOKEN=TOKEN,
        SANAD_TELEGRAM_BASE_URL=fake.base_url,
        SANAD_TELEGRAM_CHAT_RATE="0",
        SANAD_TELEGRAM_GLOBAL_RATE="0",
        SANAD_TELEGRAM_WEBHOOK_SECRET="s3cret-for-the-test",
    )
    demo_home(env)  # a copy of what `sanad init --demo` makes
    engine = create_engine(f"sqlite:///{Path(env['SANAD_HOME']) / 'sanad.db'}")
    dispatcher = WebhookDispatcher([url], "s3cret-for-the-test", connections=4).start()
    fake.webhook_delivery = dispatcher.submit
    # No getUpdates offset here: an update is "answered" once a worker took it (its 200)
    # and the inbox let go of it.
    fake.confirmed_offset = 1 << 62
    held = answered_in(engine)
    fake.answered = lambda uid: uid in dispatcher.accepted and held(uid)
    webhook = ["--webhook", url, "--listen", "127.0.0.1", "--port", str(port)]
    try:
        bot = BotProcess(env, webhook)
        assert fake.webhook and fake.webhook["url"] == url
        r = Reporter(fake, USER, "en")
        r.say("/start")
        for line in SCRIPT[:2]:
            r.answer(line)
        # 1. Killed while acknowledging the button: Telegram has its 200 (the dispatcher
        # counted it), the update is held, sealed, in the inbox.
        fake.hold("answerCallbackQuery")
        uid = fake.press(USER, SCRIPT[2])
        assert fake.held["answerCallbackQuery"].wait(10)
        bot.kill()
        fake.release("answerCallbackQuery")
        assert uid in inbox_ids(engine)
        assert not dispatcher.lost and dispatcher.retries == 0
        before = len(fake.sent(USER))
        bot = BotProcess(env, webhook)
        fake.wait_answered(uid, timeout=20)
        fake.wait_for(lambda: len(fake.sent(USER)) > before, timeout=10)
        r.replies = fake.sent(USER)[before:]
        assert len(r.replies) == 1 and r.buttons()  # the next question, once
        # 2. Killed after the commit, while the reply was on its way.
        fake.hold("sendMessage")
        uid = fake.press(USER, SCRIPT[3])
        assert fake.held["sendMessage"].wait(10)
        lost_reply = fake.calls_of("sendMessage")[-1].params["text"]
        bot.kill()
        fake.release("sendMessage")
        assert uid in inbox_ids(engine)
        before = len(fake.sent(USER))
        bot = BotProcess(env, webhook)
        fake.wait_answered(uid, timeout=20)
        fake.wait_for(lambda: len(fake.sent(USER)) > before, timeout=10)
        r.replies = fake.sent(USER)[before:]
        assert len(r.replies) == 1 and r.last_text == lost_reply and r.buttons()
        for line in SCRIPT[4:]:
            r.answer(line)
        assert bot.terminate() == 0
    finally:
        dispatcher.stop()
    assert not dispatcher.lost and not dispatcher.refused
    queue = json.loads(sanad(env, "queue", "--json").stdout)
    assert len(queue) == 1
    shown = json.loads(sanad(env, "show", queue[0]["case_ref"], "--as", "demo", "--json").stdout)
    fields = dict(shown["fields"])
    fields.pop("incident_date")
    fields.pop("evidence", None)
    assert fields == COMPLAINT_EN_EXPECTED
    assert inbox_ids(engine) == set()


@pytest.mark.postgres
def test_two_webhook_workers_answer_one_chat_in_order(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    services = [make_service(postgres_url), make_service(postgres_url)]
    bots, urls = [], []
    for service in services:
        port = _port()
        url = f"http://127.0.0.1:{port}/tg"
        bots.append(start_bot(service, webhook=WebhookConfig(url, "127.0.0.1", port)))
        urls.append(url)
    secret = webhook_secret(bots[0].channel.settings)
    turn = itertools.cycle(urls)
    codes: list[int] = []

    def deliver(update: dict[str, Any]) -> None:  # one after the other, as Telegram does
        codes.append(webhook_post(next(turn), update, secret))

    fake.webhook_delivery = deliver
    lines = ["/start", *SCRIPT]
    for line in lines:  # typed, not pressed: answers never wait for the question
        fake.send_text(USER, line, "en")
    assert codes == [200] * len(lines)
    fake.wait_for(
        lambda: (
            any(
                "receipt" in (m.get("text") or "").lower()
                or "case" in (m.get("text") or "").lower()
                for m in fake.sent(USER)[-3:]
            )
            and not inbox_ids(services[0].db.engine)
        ),
        timeout=90,
    )
    time.sleep(0.3)
    with services[0].db.transaction() as session:
        events = session.scalar(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(ProcessedEvent.channel == "telegram")
        )
    assert events == len(lines)  # each handled once
    handled = [bot.channel._intake.handled for bot in bots if bot.channel._intake]
    assert sum(handled) == len(lines)
    from tests.bot.test_telegram import _case_ref

    report = open_report(services[0], _case_ref(services[0]))
    fields = dict(report["fields"])
    fields.pop("incident_date")
    fields.pop("evidence", None)
    assert fields == COMPLAINT_EN_EXPECTED  # every answer at its own question: in order


@pytest.mark.postgres
def test_two_updates_of_one_chat_at_two_workers_at_once_are_handled_in_order(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    """Telegram with max_connections > 1 may hand two updates of one chat to two workers at
    the same instant. Here every pair of consecutive updates is posted at once, the earlier
    one to a worker whose store is a little slower (it is stored just after a worker holding
    the chat's lock first saw the later one): the later update is seen first, yet its
    handler waits for the earlier one (a short settle, then the held rows in update-id
    order), so the chat is answered in Telegram's order."""
    services = [make_service(postgres_url), make_service(postgres_url)]
    slow_put = services[0].inbox_put_ordered
    later = [""]  # the event id of the pair's later update
    looked = threading.Event()  # a worker holding the chat's lock has seen it

    def slower(*args: Any, **kwargs: Any) -> int:
        looked.wait(10)  # the earlier update's request reaches its worker a bit later
        return slow_put(*args, **kwargs)

    services[0].inbox_put_ordered = slower  # type: ignore[method-assign]
    for service in services:

        def looking(*args: Any, look: Any = service.inbox_held, **kwargs: Any) -> list[str]:
            held: list[str] = look(*args, **kwargs)
            if later[0] in held:
                looked.set()
            return held

        service.inbox_held = looking  # type: ignore[method-assign]
    bots, urls = [], []
    for service in services:
        port = _port()
        url = f"http://127.0.0.1:{port}/tg"
        bots.append(start_bot(service, webhook=WebhookConfig(url, "127.0.0.1", port)))
        urls.append(url)
    secret = webhook_secret(bots[0].channel.settings)
    order: list[int] = []
    for bot in bots:
        intake = bot.channel._intake
        assert intake is not None
        # This process runs both workers, the fake and the clients under one GIL on a
        # shared machine: a settle with room for that (in production SETTLE, 100 ms) for
        # the earlier update's store, which begins as the settle does.
        intake.settle = 0.2
        original = intake.process

        def recording(update: Any, process: Any = original) -> Any:
            order.append(update.update_id)
            return process(update)

        intake.process = recording
    updates: list[dict[str, Any]] = []
    fake.webhook_delivery = updates.append
    lines = ["/start", *SCRIPT]
    for line in lines:
        fake.send_text(USER, line, "en")
    assert len(updates) == len(lines)
    codes: list[int] = []
    for first, second in itertools.zip_longest(updates[::2], updates[1::2]):
        go = threading.Barrier(2 if second is not None else 1)
        if second is None:
            looked.set()  # no later update: the earlier one alone, stored at once
        else:
            later[0] = str(second["update_id"])
            looked.clear()

        def post(url: str, update: dict[str, Any], go: threading.Barrier = go) -> None:
            go.wait()
            codes.append(webhook_post(url, update, secret))

        pair = [threading.Thread(target=post, args=(urls[0], first))]
        if second is not None:
            pair.append(threading.Thread(target=post, args=(urls[1], second)))
        for t in pair:
            t.start()
        for t in pair:
            t.join(20)
        # the next pair after these are answered (Telegram sends nothing newer meanwhile
        # than its connections allow; here: two at a time)
        fake.wait_for(lambda: not inbox_ids(services[0].db.engine), timeout=30)
    assert codes == [200] * len(lines)
    assert order == sorted(order) and len(order) == len(lines), order
    from tests.bot.test_telegram import _case_ref

    report = open_report(services[0], _case_ref(services[0]))
    fields = dict(report["fields"])
    fields.pop("incident_date")
    fields.pop("evidence", None)
    assert fields == COMPLAINT_EN_EXPECTED


@pytest.mark.postgres
def test_many_chats_at_once_on_one_webhook_worker_are_all_answered(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    """More chats at once than the worker's chat-lock pool has connections: each waits its
    turn (a chat settling holds its lock, not a worker slot), none starves the others."""
    service = make_service(postgres_url)
    port = _port()
    url = f"http://127.0.0.1:{port}/tg"
    bot = start_bot(service, webhook=WebhookConfig(url, "127.0.0.1", port), workers=2)
    secret = webhook_secret(bot.channel.settings)
    updates: list[dict[str, Any]] = []
    fake.webhook_delivery = updates.append
    users = [700_500_000 + n for n in range(30)]  # lock pool: 2 * (2 + 2) connections
    for user in users:
        fake.send_text(user, "/start", "en")
    codes: list[int] = []
    go = threading.Barrier(len(updates))

    def post(update: dict[str, Any]) -> None:
        go.wait()
        codes.append(webhook_post(url, update, secret))

    threads = [threading.Thread(target=post, args=(u,)) for u in updates]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == [200] * len(users)
    fake.wait_for(lambda: all(fake.sent(u) for u in users), timeout=60)
    fake.wait_for(lambda: not inbox_ids(service.db.engine), timeout=30)
