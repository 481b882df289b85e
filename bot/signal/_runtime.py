"""The parts of signalbot 2.x we drive by hand: start-up, the receive loop, its logger.

signalbot's own receive loop (`SignalBot.start`) ends for good when the WebSocket closes
cleanly, drops the connection on one malformed frame, treats a message the bot's account sent
from a linked device (a sync message) as if the other person had written it, prints tracebacks
(which can quote a frame) to stderr, and logs every raw frame and sent text at INFO. So the
channel starts signalbot's pipeline *without* its producer and runs its own: the same parse and
dispatch to the registered handlers, minus those four, with every frame screened first
(bot/_update_guard.py: a malformed, oversized or wrongly typed frame is refused and counted,
and its sender, when known, gets a short bilingual answer), under a watchdog that reconnects
with backoff and logs only exception types. Every use of a signalbot private name is in this
module, so an upgrade breaks in one place (and tests/bot/test_signal_channel.py notices).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING

from signalbot import UnknownMessageFormatError, parse

from bot._update_guard import Refusal, check_signal_frame, signal_reply_to
from bot.redact import Redact

if TYPE_CHECKING:
    from collections.abc import Callable

    from signalbot import SignalBot

    OnRefusal = Callable[[Refusal], None]

log = logging.getLogger("sanad.signal")

__all__ = [
    "ReceiveWatchdog",
    "initialise",
    "quiet_signalbot_logger",
    "receive",
    "start_consumers",
    "stop_pipeline",
]


_REDACT = Redact()  # signalbot's records: template only (bot/redact.py)


def quiet_signalbot_logger() -> None:
    """signalbot at WARNING, redacted, through the application's logging (each SignalBot()
    adds its own console handler, which would bypass both)."""
    # websockets logs whole frames at DEBUG: pinned too, whatever the root level is
    logging.getLogger("websockets").setLevel(logging.WARNING)
    logger = logging.getLogger("signalbot")
    logger.setLevel(logging.WARNING)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
    if _REDACT not in logger.filters:
        logger.addFilter(_REDACT)


async def initialise(bot: SignalBot) -> None:
    """Health, version and mode checks, groups, handlers (what `SignalBot.start` does first)."""
    await bot._async_init()


async def start_consumers(bot: SignalBot, consumers: int = 3) -> None:
    """signalbot's handler consumers, without its producer (the watchdog runs that)."""
    await bot._pipeline.start(producers=0, consumers=consumers)


async def stop_pipeline(bot: SignalBot) -> None:
    await bot._pipeline.stop()


class ReceiveWatchdog:
    """Runs signalbot's receive-and-dispatch loop and starts it again whenever it ends: after a
    clean close (which signalbot would not recover from) or an error, with exponential backoff
    that resets once a connection has stayed up for `stable_after` seconds."""

    def __init__(
        self,
        bot: SignalBot,
        min_delay: float = 1.0,
        max_delay: float = 60.0,
        stable_after: float = 60.0,
        on_refusal: OnRefusal | None = None,
    ) -> None:
        self._bot = bot
        self._on_refusal = on_refusal
        self.min_delay = min_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.restarts = 0

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self.min_delay
        while True:
            started = loop.time()
            try:
                await receive(self._bot, self._on_refusal)
                reason = "closed"
            except Exception as exc:  # any failure: reconnect; the type is enough to log
                reason = f"failed ({type(exc).__name__})"
            if loop.time() - started >= self.stable_after:
                delay = self.min_delay
            log.warning("signal receive connection %s; reconnecting in %.1f s", reason, delay)
            await asyncio.sleep(delay)
            delay = min(self.max_delay, delay * 2)
            self.restarts += 1


async def receive(bot: SignalBot, on_refusal: OnRefusal | None = None) -> None:
    """One receive connection: screen each frame (bot/_update_guard.py), parse it and hand it
    to the registered handlers, until the WebSocket closes. A frame that cannot be read is
    skipped and reported to `on_refusal`, never fatal to the connection."""
    pipeline = bot._pipeline
    async for raw in bot._signal.messages.receive():
        if _is_sync(raw):
            log.info("signal sync message ignored")
            continue
        refusal = check_signal_frame(raw)
        if refusal is None:
            try:
                message = await parse(bot._signal, raw)
            except UnknownMessageFormatError:
                continue  # receipts, calls, stories: nothing for the intake
            except Exception as exc:  # pydantic's ValidationError and anything else
                refusal = Refusal(f"unparseable:{type(exc).__name__}", signal_reply_to(raw))
        if refusal is not None:
            log.warning("signal frame refused (%s)", refusal.reason)
            if on_refusal is not None:
                on_refusal(refusal)
            continue
        await pipeline._process_updates(message)
        await pipeline._dispatch_to_handlers(message)


def _is_sync(raw: str) -> bool:
    """A message this account sent from another device: never the reporter's words."""
    try:
        envelope = json.loads(raw).get("envelope") or {}
    except (ValueError, AttributeError, RecursionError):  # the guard refuses it next
        return False
    return isinstance(envelope, dict) and envelope.get("syncMessage") is not None
