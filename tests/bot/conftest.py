"""Harness: the real python-telegram-bot client, in its own event-loop thread, against the
loopback Bot API fake; a Reporter drives one chat the way a person would (buttons, text, files).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.telegram import TelegramChannel, TelegramSettings, WebhookConfig
from intake.service import IntakeService
from tests.fakes.telegram_server import TOKEN, FakeTelegram


@pytest.fixture(autouse=True)
def _ptb_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """PTB 22's documented opt-in to timedelta time periods (as `sanad run telegram` sets):
    without it, PTB itself warns on every 429 it parses, and warnings are errors here."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
def fake() -> Iterator[FakeTelegram]:
    server = FakeTelegram().start()
    yield server
    server.stop()


def tg_settings(fake: FakeTelegram, **overrides: Any) -> TelegramSettings:
    values: dict[str, Any] = {
        "token": TOKEN,
        "base_url": fake.base_url,
        "chat_rate": 200.0,
        "chat_burst": 50.0,
        "global_rate": 0.0,
        "poll_timeout": 2,
    }
    values.update(overrides)
    return TelegramSettings(**values)


def inbox_ids(engine: Engine) -> set[int]:
    """Update ids the bot holds in its inbox: confirmed to Telegram, not yet finished."""
    with engine.connect() as conn:
        return {
            int(i)
            for i in conn.execute(
                text("SELECT event_id FROM channel_inbox WHERE channel = 'telegram'")
            ).scalars()
        }


def answered_in(engine: Engine) -> Callable[[int], bool]:
    return lambda update_id: update_id not in inbox_ids(engine)


class Running:
    """A TelegramChannel started in a background event loop."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(channel.start())

    def call(self, coro: Any, timeout: float = 20) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        if self.loop.is_closed():
            return
        try:
            self.call(self.channel.stop())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)
            self.loop.close()


@pytest.fixture
def start_bot(fake: FakeTelegram) -> Iterator[Callable[..., Running]]:
    running: list[Running] = []

    def start(
        service: IntakeService,
        webhook: WebhookConfig | None = None,
        jobs: Any = None,
        **overrides: Any,
    ) -> Running:
        # The outbox is delivered by the test (deliver_outbox), not by a background loop,
        # unless a job runner is given (jobs.channel_runner): then by its jobs.
        fake.answered = answered_in(service.db.engine)
        bot = Running(
            TelegramChannel(
                service, tg_settings(fake, **overrides), webhook, outbox_interval=0, jobs=jobs
            )
        )
        running.append(bot)
        return bot

    yield start
    for bot in running:
        bot.stop()


class Reporter:
    """One person in one private chat: acts, then waits until the bot has fully answered."""

    def __init__(
        self, fake: FakeTelegram, user_id: int, lang: str | None = None, timeout: float = 10.0
    ) -> None:
        self.fake = fake
        self.id = user_id
        self.lang = lang
        self.timeout = timeout
        self.replies: list[dict[str, Any]] = []

    def _act(self, push: Callable[[], int]) -> list[dict[str, Any]]:
        before = len(self.fake.sent(self.id))
        uid = push()
        self.fake.wait_answered(uid, self.timeout)
        self.replies = self.fake.sent(self.id)[before:]
        return self.replies

    def say(self, text: str) -> list[dict[str, Any]]:
        return self._act(lambda: self.fake.send_text(self.id, text, self.lang))

    def press(self, data: str) -> list[dict[str, Any]]:
        return self._act(lambda: self.fake.press(self.id, data, lang=self.lang))

    def photo(self, data: bytes) -> list[dict[str, Any]]:
        return self._act(lambda: self.fake.send_photo(self.id, data))

    def voice(self, data: bytes) -> list[dict[str, Any]]:
        return self._act(lambda: self.fake.send_voice(self.id, data))

    def buttons(self) -> list[str]:
        """callback_data of the last message with a keyboard among the latest replies."""
        for params in reversed(self.replies):
            markup = params.get("reply_markup")
            if markup:
                return [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
        return []

    def answer(self, line: str) -> list[dict[str, Any]]:
        """Press a button when the line is one of the offered option ids, else type it."""
        data = self.buttons()
        if line in data:
            return self.press(line)
        parts = [p.strip() for p in line.split(",")]
        if data and all(f"m:{p}" in data for p in parts):
            for p in parts:
                self.press(f"m:{p}")
            return self.press("m:.")
        return self.say(line)

    @property
    def last_text(self) -> str:
        return str(self.replies[-1]["text"]) if self.replies else ""
