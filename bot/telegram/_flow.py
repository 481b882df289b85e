"""Traffic control for the Telegram channel: per-chat ordering, pacing, and crash-safe polling.

- `PerChatProcessor` (a PTB update processor): updates of one chat run strictly in order, one at
  a time; different chats run concurrently. The global limit is taken *inside* the chat's turn,
  so a chat flooding the bot holds at most one worker and cannot starve the others.
- `Pacer` (a PTB rate limiter): every outgoing API call waits for a token of its chat's bucket
  (about one message a second, bursts allowed) and of the global bucket (about 30/s), and a
  429 answer is waited out (`retry_after`) and retried.
- `Poller`: getUpdates whose updates are held, sealed, in the channel inbox (storage.inbox)
  before they are confirmed, and leave it only once handled and answered. PTB's own Updater
  confirms an update on the next poll, before the handler has run; a crash then loses it. Here
  a restart after a crash at any point handles what the inbox still holds, and the service's
  persisted event id makes a second handling a replay of the committed answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from telegram import Update
from telegram.error import (
    BadRequest,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import BaseRateLimiter, BaseUpdateProcessor

__all__ = [
    "CHAT_PACED",
    "GLOBAL_PACED",
    "RESEND_AFTER",
    "RESENT",
    "RETRY_WAIT",
    "Inbox",
    "Pacer",
    "PerChatProcessor",
    "Poller",
    "chat_key",
    "resend_delay",
]

log = logging.getLogger("sanad.telegram")

# Messages shown in a chat count against its ~1/s limit; deletions only against the global one
# (quick exit must not be slowed down by the chat's pacing).
CHAT_PACED = frozenset(
    {"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto", "sendDocument"}
)
GLOBAL_PACED = CHAT_PACED | {"deleteMessage", "deleteMessages"}
# Calls tried again after a network failure (see Pacer.process_request).
RESENT = CHAT_PACED | {"deleteMessage", "deleteMessages", "answerCallbackQuery"}
# The time base of trying Telegram again (seconds; TelegramSettings.retry_wait): a call that
# failed on the network is made again after 1, 2, 4 times it (the Pacer), a file download too.
RETRY_WAIT = 0.5
# When a reply still could not be sent after the Pacer's own tries, its update stays held in
# the inbox and is handled again after these pauses (seconds, at the default RETRY_WAIT; they
# scale with it): the service replays the committed answer, so the reporter gets the next
# question once Telegram answers again. After the last one the update waits in the inbox for
# the chat's next message or the next start.
RESEND_AFTER = (2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 60.0, 60.0, 60.0, 60.0)


def resend_delay(attempt: int, retry_wait: float = RETRY_WAIT) -> float | None:
    """The pause before handling an unanswered update again (attempt 1, 2, …), or None."""
    if 0 < attempt <= len(RESEND_AFTER):
        return RESEND_AFTER[attempt - 1] * retry_wait / RETRY_WAIT
    return None


def chat_key(update: object) -> int | None:
    if isinstance(update, Update) and update.effective_chat is not None:
        return update.effective_chat.id
    if isinstance(update, Update) and update.effective_user is not None:
        return update.effective_user.id
    return None


class PerChatProcessor(BaseUpdateProcessor):
    """One queue per chat, a shared bound on the work in progress."""

    def __init__(
        self, workers: int, on_done: Callable[[object], None] | None = None, max_backlog: int = 50
    ) -> None:
        # PTB's own semaphore is taken before do_process_update; make it never bind, and
        # bound the real work inside each chat's turn instead.
        super().__init__(max_concurrent_updates=1_000_000)
        self._work = asyncio.Semaphore(workers)
        self._chats: dict[int | None, tuple[asyncio.Lock, int]] = {}
        self._on_done = on_done
        self._max_backlog = max_backlog

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = chat_key(update)
        lock, waiting = self._chats.get(key) or (asyncio.Lock(), 0)
        if waiting >= self._max_backlog:
            # A chat sending faster than anyone types: drop, so it cannot hold the offset.
            if isinstance(coroutine, Coroutine):
                coroutine.close()
            log.warning("flood: update dropped update_id=%s", getattr(update, "update_id", "?"))
            self._finish(update)
            return
        self._chats[key] = (lock, waiting + 1)
        try:
            async with lock, self._work:
                await coroutine
        finally:
            lock, waiting = self._chats[key]
            if waiting <= 1:
                del self._chats[key]
            else:
                self._chats[key] = (lock, waiting - 1)
            self._finish(update)

    def _finish(self, update: object) -> None:
        if self._on_done is not None:
            self._on_done(update)

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None


class _Bucket:
    def __init__(self, rate: float, burst: float) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.stamp = time.monotonic()
        self.lock = asyncio.Lock()

    async def take(self) -> None:
        async with self.lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class Pacer(BaseRateLimiter[None]):
    """Per-chat and global token buckets; 429 answers are waited out and retried."""

    def __init__(
        self,
        chat_rate: float = 1.0,
        chat_burst: float = 20,
        global_rate: float = 30.0,
        max_retries: int = 3,
        retry_wait: float = RETRY_WAIT,
    ) -> None:
        self.chat_rate, self.chat_burst = chat_rate, chat_burst
        self.global_rate = global_rate
        self.max_retries = max_retries
        self.retry_wait = retry_wait  # the first pause after a network failure; doubled after
        self._global = _Bucket(global_rate, global_rate) if global_rate > 0 else None
        self._chats: dict[str, tuple[_Bucket, float]] = {}
        self.retries = 0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    def _chat(self, chat: str) -> _Bucket:
        now = time.monotonic()
        if len(self._chats) > 10_000:  # forget idle chats (their buckets are full again)
            idle = 2 * self.chat_burst / self.chat_rate
            self._chats = {k: v for k, v in self._chats.items() if now - v[1] < idle}
        bucket = (
            self._chats[chat][0]
            if chat in self._chats
            else _Bucket(self.chat_rate, self.chat_burst)
        )
        self._chats[chat] = (bucket, now)
        return bucket

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Any:
        chat = data.get("chat_id")
        if endpoint in CHAT_PACED and chat is not None and self.chat_rate > 0:
            await self._chat(str(chat)).take()
        if endpoint in GLOBAL_PACED and self._global is not None:
            await self._global.take()
        attempt = 0
        while True:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                attempt += 1
                if attempt > self.max_retries:
                    raise
                self.retries += 1
                wait = getattr(exc, "_retry_after", None)
                seconds = wait.total_seconds() if wait is not None else 1.0
                log.info("429 from Telegram on %s: waiting %.1fs", endpoint, seconds)
                await asyncio.sleep(seconds)
            except NetworkError as exc:  # includes TimedOut; not BadRequest or Forbidden
                # A reply whose sending failed is never sent again by anyone (the answer is
                # already committed): try again, accepting that a message whose answer was
                # lost in a timeout may arrive twice, which is better than a reporter left
                # without the next question.
                attempt += 1
                if (
                    isinstance(exc, BadRequest)
                    or endpoint not in RESENT
                    or attempt > self.max_retries
                ):
                    raise  # BadRequest is a NetworkError in python-telegram-bot: final
                self.retries += 1
                log.warning("%s failed (%s): trying again", endpoint, type(exc).__name__)
                await asyncio.sleep(self.retry_wait * 2 ** (attempt - 1))


class Inbox(Protocol):
    """Where the poller holds updates between receiving and answering them (storage.inbox)."""

    async def put(self, updates: list[tuple[str, bytes]]) -> None: ...
    async def pending(self) -> list[tuple[str, bytes]]: ...
    async def done(self, event_ids: list[str]) -> None: ...


class Poller:
    """Long polling that never loses an update a crash interrupted.

    Each batch from getUpdates is first stored, sealed, in the `inbox`, then handed to the
    handlers, and the next getUpdates confirms it at once, so polling goes straight back to
    waiting for Telegram (an update is handled the moment it arrives). Finished updates leave
    the inbox in small batches; on start, whatever is left there (a crash) is handled first.
    """

    def __init__(
        self,
        bot: Any,
        queue: asyncio.Queue[object],
        timeout: int = 10,
        allowed_updates: list[str] | None = None,
        *,
        inbox: Inbox,
        retry_wait: float = RETRY_WAIT,
    ) -> None:
        self.bot = bot
        self.retry_wait = retry_wait  # scales the pauses of `resend_delay`
        self.queue = queue
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self.inbox = inbox
        self._inflight: set[int] = set()
        self._highest: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._finished: list[str] = []
        self._finished_event = asyncio.Event()
        self.fatal: BaseException | None = None
        self.flush_interval = 0.05
        self.restored = 0
        self.resent = 0
        self._attempts: dict[int, int] = {}

    def again(self, update: object) -> None:
        """The update's reply could not be sent: keep it held and hand it to the handlers
        again after a pause (`resend_delay`); the service replays its committed answer."""
        uid = getattr(update, "update_id", None)
        if uid is None:
            return
        attempt = self._attempts.get(uid, 0) + 1
        delay = resend_delay(attempt, self.retry_wait)
        if delay is None:  # left in the inbox: the next start handles it
            self._attempts.pop(uid, None)
            self._inflight.discard(uid)
            log.error("reply still not sent update_id=%s; left for the next start", uid)
            return
        self._attempts[uid] = attempt
        self.resent += 1
        log.warning("reply not sent update_id=%s; handling it again in %.0fs", uid, delay)
        asyncio.get_running_loop().call_later(delay, self.queue.put_nowait, update)

    def done(self, update: object) -> None:
        uid = getattr(update, "update_id", None)
        if uid is not None:
            self._attempts.pop(uid, None)
            self._inflight.discard(uid)
            self._finished.append(str(uid))
            self._finished_event.set()

    def offset(self) -> int | None:
        return None if self._highest is None else self._highest + 1

    async def start(self) -> None:
        await self._restore()
        self._flusher = asyncio.create_task(self._flush_loop(), name="sanad-inbox-flush")
        self._task = asyncio.create_task(self._loop(), name="sanad-telegram-poller")

    async def _restore(self) -> None:
        for event_id, raw in await self.inbox.pending():
            try:
                update = Update.de_json(json.loads(raw), self.bot)
            except (ValueError, TypeError, KeyError):
                update = None
            if update is None:
                await self.inbox.done([event_id])
                continue
            self._inflight.add(update.update_id)
            self._highest = max(self._highest or 0, update.update_id)
            await self.queue.put(update)
            self.restored += 1
        if self.restored:
            log.info("handling %d update(s) left from the last run", self.restored)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _flush_loop(self) -> None:
        while True:
            await self._finished_event.wait()
            await asyncio.sleep(self.flush_interval)  # gather a batch: one transaction
            await self._flush()

    async def _flush(self) -> None:
        self._finished_event.clear()
        batch, self._finished = self._finished, []
        if not batch:
            return
        try:
            await self.inbox.done(batch)
        except Exception as exc:
            log.warning("inbox cleanup failed (%s); will retry", type(exc).__name__)
            self._finished = batch + self._finished
            await asyncio.sleep(1.0)
            self._finished_event.set()

    async def _loop(self) -> None:
        backoff = 0.5
        while True:
            try:
                updates = await self.bot.get_updates(
                    offset=self.offset(),
                    timeout=self.timeout,
                    allowed_updates=self.allowed_updates,
                    read_timeout=self.timeout + 10,
                )
                backoff = 0.5
            except InvalidToken as exc:
                self.fatal = exc
                log.error("the Telegram token was refused; polling stopped")
                return
            except (TimedOut, NetworkError, TelegramError) as exc:
                # Anything else Telegram answers (a 5xx, a conflict) is waited out: polling
                # must never end on its own while the bot runs.
                log.warning("getUpdates failed (%s); retrying", type(exc).__name__)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30)
                continue
            fresh = [u for u in updates if self._highest is None or u.update_id > self._highest]
            if fresh:
                try:
                    await self.inbox.put([(str(u.update_id), _raw(u)) for u in fresh])
                except Exception as exc:
                    log.error(
                        "inbox unavailable (%s); updates left with Telegram", type(exc).__name__
                    )
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30)
                    continue
            for update in fresh:
                self._inflight.add(update.update_id)
                self._highest = update.update_id
                await self.queue.put(update)

    async def drain(self, timeout: float = 10) -> None:
        """Wait until everything received was handled, then confirm it to Telegram."""
        deadline = time.monotonic() + timeout
        while self._inflight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        if self._flusher is not None:
            self._flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._flusher
            self._flusher = None
        await self._flush()
        if self._highest is not None and not self._inflight:
            with contextlib.suppress(Exception):
                await self.bot.get_updates(
                    offset=self._highest + 1, timeout=0, allowed_updates=self.allowed_updates
                )


def _raw(update: Update) -> bytes:
    return json.dumps(update.to_dict(), ensure_ascii=False, separators=(",", ":")).encode()
