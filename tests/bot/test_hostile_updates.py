"""Hostile updates through the real libraries and the loopback fakes: a malformed, oversized or
wrongly typed update never stops a channel, is counted, and gets a short bilingual refusal
where a reply is possible; neither its content nor the chat id reaches a log."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
from telegram import Bot, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot._update_guard import MAX_TEXT_CHARS, REFUSED_KEY, TOO_LONG_KEY, bilingual
from bot.redact import redact_library_logs
from bot.telegram import TelegramChannel
from bot.telegram._flow import PerChatProcessor, Poller
from bot.telegram._guard import GuardedRequest, RefusalHandler
from flows import load_flowset
from intake.service import IntakeService
from tests.bot.conftest import Running, answered_in, tg_settings
from tests.bot.signal_harness import Reporter as SignalReporter
from tests.bot.signal_harness import run, signal_bot
from tests.fakes.telegram_server import TOKEN, FakeTelegram

SECRET = "SECRET-testimony-4f1c"
CHAT = 4242
FLOWS = load_flowset()


def _message(fake: FakeTelegram, chat: int, **fields: Any) -> dict[str, Any]:
    return {
        "message_id": 1,
        "date": 1_790_000_000,
        "chat": {"id": chat, "type": "private"},
        "from": {"id": chat, "is_bot": False, "first_name": "R"},
        **fields,
    }


def _poison(fake: FakeTelegram) -> list[int]:
    """Three updates python-telegram-bot cannot or should not take as they are."""
    no_sender_name = _message(fake, CHAT, text=f"{SECRET} no name")
    del no_sender_name["from"]["first_name"]  # the library's parser raises on it
    return [
        fake.push_update({"message": _message(fake, CHAT, text=SECRET + "x" * MAX_TEXT_CHARS)}),
        fake.push_update({"message": no_sender_name}),
        fake.push_update({"message": {"text": SECRET}}),  # no chat, no id, no date
    ]


def _leaks(records: list[logging.LogRecord]) -> list[str]:
    """Records a running bot keeps (ours at any level; the libraries' from WARNING, as
    `sanad run` sets them) that quote the reporter's words or their chat id."""
    out = []
    for record in records:
        if not record.name.startswith("sanad") and record.levelno < logging.WARNING:
            continue
        text = record.getMessage() + str(record.exc_info or "") + str(record.exc_text or "")
        if SECRET in text or str(CHAT) in text:
            out.append(f"{record.name}: {text[:120]}")
    return out


@pytest.fixture
def fake() -> Any:
    server = FakeTelegram().start()
    yield server
    server.stop()


def test_the_library_alone_fails_on_a_poisoned_batch_and_logs_it_whole(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """Why the guard exists: one bad update makes getUpdates raise, every time, and the
    library logs the reporters' words. (If this stops failing, the library changed.)"""
    _poison(fake)

    async def poll() -> None:
        async with Bot(TOKEN, base_url=fake.base_url) as bot:
            await bot.get_updates(timeout=0)

    caplog.set_level(logging.DEBUG)
    with pytest.raises((TelegramError, TypeError, KeyError)):
        asyncio.run(poll())
    assert _leaks(caplog.records)


def test_guarded_getupdates_hands_stubs_for_refused_updates(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    ids = _poison(fake)
    good = fake.send_text(CHAT, "hello")
    request = GuardedRequest(connection_pool_size=1)

    async def poll() -> tuple[Update, ...]:
        async with Bot(TOKEN, base_url=fake.base_url, get_updates_request=request) as bot:
            return await bot.get_updates(timeout=0)

    caplog.set_level(logging.DEBUG)
    updates = asyncio.run(poll())
    assert [u.update_id for u in updates] == [*ids, good]  # each one can be confirmed
    assert [u.message for u in updates[:3]] == [None, None, None]
    assert updates[3].message is not None and updates[3].message.text == "hello"
    assert request.refused == 3
    assert not _leaks(caplog.records)
    refused = [r.getMessage() for r in caplog.records if r.name == "sanad.telegram"]
    assert refused == [
        f"telegram update refused reason=too_long:message.text update_id={ids[0]}",
        f"telegram update refused reason=unparseable:TypeError update_id={ids[1]}",
        f"telegram update refused reason=missing:message.message_id update_id={ids[2]}",
    ]


def test_a_polling_bot_answers_refusals_in_both_languages_and_goes_on(
    fake: FakeTelegram, caplog: pytest.LogCaptureFixture
) -> None:
    """The wiring the Telegram channel needs (bot/telegram/_guard.py), on a real Application with
    the channel's own Poller and per-chat processor."""
    caplog.set_level(logging.DEBUG)
    request = GuardedRequest(connection_pool_size=1)
    pollers: list[Poller] = []
    processor = PerChatProcessor(2, on_done=lambda u: pollers[0].done(u))
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(fake.base_url)
        .get_updates_request(request)
        .concurrent_updates(processor)
        .updater(None)
        .build()
    )

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "got it")

    app.add_handler(RefusalHandler(FLOWS.text), group=-1)
    app.add_handler(MessageHandler(filters.TEXT, echo))

    async def scenario() -> None:
        async with app:
            await app.start()
            inbox = MemoryInbox()
            poller = Poller(app.bot, app.update_queue, timeout=1, inbox=inbox)
            pollers.append(poller)
            await poller.start()
            ids = _poison(fake)
            last = fake.send_text(CHAT, "hello")
            # Confirmed, and answered: the inbox let go of everything, refusals included.
            await asyncio.to_thread(
                fake.wait_for, lambda: fake.confirmed_offset > last and not inbox.held
            )
            assert min(ids) < last
            await poller.stop()
            await app.stop()

    asyncio.run(scenario())
    texts = [m["text"] for m in fake.sent(CHAT)]
    # A stub has no chat, so it is not ordered with the chat's real updates.
    assert sorted(texts) == sorted(
        [bilingual(FLOWS.text, TOO_LONG_KEY), bilingual(FLOWS.text, REFUSED_KEY), "got it"]
    )
    assert request.refused >= 3 and not _leaks(caplog.records)  # re-screened if redelivered


def test_the_telegram_channel_keeps_polling_after_a_malformed_update(
    service: IntakeService, fake: FakeTelegram
) -> None:
    fake.answered = answered_in(service.db.engine)
    bot = Running(TelegramChannel(service, tg_settings(fake), None, outbox_interval=0))
    try:
        _poison(fake)
        last = fake.send_text(CHAT, "/start")
        fake.wait_answered(last, timeout=10)
        texts = [m["text"] for m in fake.sent(CHAT)]
        assert bilingual(FLOWS.text, TOO_LONG_KEY) in texts
        assert any("Sanad" in t for t in texts)
    finally:
        _stop_even_if_the_poller_died(bot)


class MemoryInbox:
    """The poller's inbox kept in memory (the bot's own is sealed in the database)."""

    def __init__(self) -> None:
        self.held: dict[str, bytes] = {}

    async def put(self, updates: list[tuple[str, bytes]]) -> None:
        for event_id, raw in updates:
            self.held.setdefault(event_id, raw)

    async def pending(self) -> list[tuple[str, bytes]]:
        return list(self.held.items())

    async def done(self, event_ids: list[str]) -> None:
        for event_id in event_ids:
            self.held.pop(event_id, None)


def _stop_even_if_the_poller_died(bot: Running) -> None:
    """Without the guard the poller's task ends with the parse error, which its stop()
    raises again; the application is then stopped by hand so no task outlives the loop."""
    app = bot.channel.app
    try:
        bot.call(bot.channel.stop())
    except Exception:
        if app.running:
            bot.call(app.stop())
        bot.call(app.shutdown())
    finally:
        bot.loop.call_soon_threadsafe(bot.loop.stop)
        bot.thread.join(timeout=10)
        bot.loop.close()


def test_library_log_records_reach_stderr_without_content(fake: FakeTelegram) -> None:
    """`sanad run` installs this: python-telegram-bot's CRITICAL record of a batch it could not
    parse keeps its template and loses the data."""
    _poison(fake)
    stream = io.StringIO()
    handler = redact_library_logs(stream)
    try:

        async def poll() -> None:
            async with Bot(TOKEN, base_url=fake.base_url) as bot:
                await bot.get_updates(timeout=0)

        with pytest.raises((TelegramError, TypeError, KeyError)):
            asyncio.run(poll())
        logging.getLogger("sanad.test").warning("kept whole: %s", "count=3")
    finally:
        logging.getLogger().removeHandler(handler)
    out = stream.getvalue()
    assert "Error while parsing updates" in out and "[details withheld]" in out
    assert "kept whole: count=3" in out
    assert SECRET not in out and str(CHAT) not in out


# ---- Signal --------------------------------------------------------------------------------


async def _until(predicate: Callable[[], bool], timeout: float = 10.0) -> None:
    async def poll() -> None:
        while not predicate():
            await asyncio.sleep(0.01)

    await asyncio.wait_for(poll(), timeout)


def test_hostile_signal_frames_are_refused_and_the_channel_goes_on(
    service: IntakeService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)

    async def scenario() -> dict[str, Any]:
        async with signal_bot(service) as (server, channel):
            r = SignalReporter.new(server, channel)
            long = r.frame(SECRET + "x" * MAX_TEXT_CHARS)
            typed = r.frame("hello")
            typed["envelope"]["dataMessage"]["message"] = {"text": SECRET}
            deep = "[" * 5000 + "]" * 5000
            nested = r.frame(SECRET)
            nested["envelope"]["dataMessage"]["quote"] = json.loads("[" * 60 + "]" * 60)
            attachments = r.frame(SECRET)
            attachments["envelope"]["dataMessage"]["attachments"] = "all of them"
            for frame in (long, typed, deep, "[]", nested, attachments):
                await server.push(frame)
            await _until(lambda: channel.stats.refused == 6 and len(server.sent_to(r.uuid)) >= 4)
            refusals = [b["message"] for b in server.sent_to(r.uuid)]
            texts = await r.say("hello")
            return {
                "refusals": refusals,
                "texts": texts,
                "refused": channel.stats.refused,
                "connections": server.receive_connections,
            }

    out = run(scenario)
    too_long, refused = (bilingual(FLOWS.text, k) for k in (TOO_LONG_KEY, REFUSED_KEY))
    # The deep and the non-object frames name no sender: counted, not answered.
    assert out["refusals"] == [too_long, refused, refused, refused]
    assert out["connections"] == 1 and out["refused"] == 6
    assert out["texts"] and out["texts"][-1].endswith("2. English")
    assert not _leaks(caplog.records)
