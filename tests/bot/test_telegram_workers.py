"""Two webhook workers on one PostgreSQL database: a stream of updates, some delivered to both
(Telegram retrying after a timeout), none handled twice."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.telegram import WebhookConfig, webhook_secret
from intake.service import IntakeService
from storage.models import ProcessedEvent
from tests.bot.conftest import Running
from tests.fakes.telegram_server import FakeTelegram, webhook_post

pytestmark = pytest.mark.postgres


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _update(
    uid: int, chat: int, text: str | None = None, data: str | None = None
) -> dict[str, Any]:
    user = {"id": chat, "is_bot": False, "first_name": "R"}
    if text is not None:
        return {
            "update_id": uid,
            "message": {
                "message_id": uid,
                "date": int(time.time()),
                "chat": {"id": chat, "type": "private"},
                "from": user,
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
            },
        }
    bot_msg = {
        "message_id": 1,
        "date": int(time.time()),
        "chat": {"id": chat, "type": "private"},
        "from": {"id": 1, "is_bot": True, "first_name": "B"},
        "text": "q",
    }
    return {
        "update_id": uid,
        "callback_query": {
            "id": str(uid),
            "from": user,
            "chat_instance": "ci",
            "data": data,
            "message": bot_msg,
        },
    }


def test_two_webhook_workers_never_handle_an_update_twice(
    make_service: Callable[..., IntakeService],
    postgres_url: str,
    fake: FakeTelegram,
    start_bot: Callable[..., Running],
) -> None:
    services = [make_service(postgres_url), make_service(postgres_url)]
    urls = []
    for service in services:
        port = _port()
        url = f"http://127.0.0.1:{port}/tg"
        bot = start_bot(service, webhook=WebhookConfig(url, "127.0.0.1", port))
        urls.append(url)
    secret = webhook_secret(bot.channel.settings)
    chats = [700_200_000 + n for n in range(12)]
    uid = 100
    for chat in chats:  # /start on one worker
        uid += 1
        assert webhook_post(urls[chat % 2], _update(uid, chat, text="/start"), secret) == 200
    fake.wait_for(lambda: all(len(fake.sent(c)) == 1 for c in chats), timeout=20)
    answers = []
    for chat in chats:  # the language button, delivered to both workers at the same time
        uid += 1
        answers.append(_update(uid, chat, data="en"))
    with ThreadPoolExecutor(8) as pool:
        codes = list(
            pool.map(
                lambda a: webhook_post(a[0], a[1], secret),
                [(url, a) for a in answers for url in urls],
            )
        )
    assert set(codes) == {200}
    time.sleep(0.5)
    fake.wait_for(lambda: all(len(fake.sent(c)) >= 5 for c in chats), timeout=20)
    time.sleep(0.5)
    with services[0].db.transaction() as session:
        events = session.scalar(
            select(func.count())
            .select_from(ProcessedEvent)
            .where(ProcessedEvent.channel == "telegram")
        )
    assert events == 2 * len(chats)
    for chat in chats:
        texts = [m["text"] for m in fake.sent(chat)]
        # The consent question was asked exactly once: the second delivery only asked
        # whether to continue (or, if it lost the race, nothing at all went twice).
        assert sum("Before we start" in t for t in texts) == 1, texts
