"""Switching between polling and webhook mode loses nothing (issue 15): the updates a polling
run left in the channel inbox (stored, confirmed to Telegram, not yet answered) are answered
by the next start in webhook mode, in their chat's order, and the other way round."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from bot.telegram import WebhookConfig, webhook_secret
from intake.service import IntakeService
from storage.models import ProcessedEvent
from tests.bot.conftest import Running, inbox_ids
from tests.bot.test_webhook_inbox import _port
from tests.fakes.telegram_server import TOKEN, FakeTelegram, webhook_post

LINES = ["/start", "en", "yes", "yes"]  # language, then the first consents, typed


def _updates(fake: FakeTelegram, user: int) -> list[dict[str, Any]]:
    """The updates Telegram would have for these lines (taken, not delivered)."""
    taken: list[dict[str, Any]] = []
    fake.webhook_delivery = taken.append
    for line in LINES:
        fake.send_text(user, line, "en")
    fake.webhook_delivery = None
    return taken


def _raw(update: dict[str, Any]) -> bytes:
    return json.dumps(update, ensure_ascii=False, separators=(",", ":")).encode()


def _events(service: IntakeService) -> int:
    with service.db.transaction() as session:
        return session.query(ProcessedEvent).filter(ProcessedEvent.channel == "telegram").count()


def _settled(fake: FakeTelegram, service: IntakeService, events: int) -> None:
    fake.wait_for(
        lambda: _events(service) == events and not inbox_ids(service.db.engine), timeout=30
    )
    time.sleep(0.3)


def _texts(fake: FakeTelegram, user: int) -> list[str]:
    return [m.get("text", "") for m in fake.sent(user)]


def test_a_webhook_start_answers_what_a_polling_run_left(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    port = _port()
    left, live = 700_400_001, 700_400_002
    held = _updates(fake, left)
    # What the poller does with a getUpdates batch before confirming it (bot.telegram._flow):
    # stored, sealed, without a chat tag; then the polling run died.
    service.inbox_put("telegram", [(str(u["update_id"]), _raw(u)) for u in reversed(held)])
    assert inbox_ids(service.db.engine) == {u["update_id"] for u in held}
    url = f"http://127.0.0.1:{port}/telegram/hook"
    bot = start_bot(service, webhook=WebhookConfig(url, "127.0.0.1", port))
    _settled(fake, service, len(LINES))
    assert bot.channel._intake is not None and bot.channel._intake.handled == len(LINES)
    # The same lines from a reporter talking to the webhook worker now: the same answers,
    # so the held ones were answered in their order, once each.
    secret = webhook_secret(bot.channel.settings)
    for update in _updates(fake, live):
        assert webhook_post(url, update, secret) == 200
        fake.wait_for(lambda: not inbox_ids(service.db.engine), timeout=20)
    _settled(fake, service, 2 * len(LINES))
    assert _texts(fake, left) == _texts(fake, live) and len(_texts(fake, left)) >= len(LINES)


def test_a_polling_start_answers_what_a_webhook_worker_left(
    service: IntakeService, fake: FakeTelegram, start_bot: Callable[..., Running]
) -> None:
    left, live = 700_400_011, 700_400_012
    held = _updates(fake, left)
    bot_id = TOKEN.split(":", 1)[0]
    # What a webhook worker does before its 200 (bot.telegram._webhook): stored, sealed, with the
    # chat's tag and the update id as its order; then the worker died.
    tag = service.inbox_tag("telegram", str(left))
    service.inbox_put_ordered(
        "telegram",
        [
            (str(u["update_id"]), _raw(u), tag, u["update_id"], f"{bot_id}:{u['update_id']}")
            for u in held
        ],
    )
    assert inbox_ids(service.db.engine) == {u["update_id"] for u in held}
    start_bot(service)  # polling
    _settled(fake, service, len(LINES))
    for n, line in enumerate(LINES, start=1):  # a reporter polling now
        fake.send_text(live, line, "en")
        _settled(fake, service, len(LINES) + n)
    assert _texts(fake, left) == _texts(fake, live) and len(_texts(fake, left)) >= len(LINES)
