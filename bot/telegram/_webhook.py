"""Webhook mode without loss or reordering: store first, answer Telegram, then handle per chat.

python-telegram-bot's own webhook server (`Updater.start_webhook`, tornado) answers Telegram's
POST with 200 once the update is in `Application.update_queue`, before anything is stored: a
crash in that window loses the message, and with two workers behind a load balancer two
updates of one chat can be handled at the same time and answered out of order.

Here (tornado, as PTB's server, with PTB's checks: the secret header, `application/json`):
1. a POST is screened (bot.telegram._guard, as getUpdates answers are), parsed, and stored, sealed,
   in the channel inbox (service.inbox_put_ordered) with its chat's keyed tag and the
   update id as its order; only then is 200 sent. If the database cannot take it, 500, and
   Telegram delivers it again.
2. the chat's updates are handled by whoever holds the chat's lock (storage.chatlock: a
   PostgreSQL advisory lock across workers, an in-process lock on SQLite): that worker takes
   every update of the chat the inbox holds, in update-id order, hands each to
   `Application.process_update`, and lets the inbox go of it before the next one, all under
   the lock. A worker that gets the lock after another finds nothing left to do.
3. on start, every chat the inbox still holds is handled the same way (a crash, a restart).

Order across workers. Telegram numbers updates in order (update_id) and, with setWebhook's
`max_connections` (1-100, default 40), keeps up to that many POSTs in flight at once: with 1
it sends the next update only after the previous one's 200, a total order at the price of
throughput; with more, two updates of one chat can reach two workers at the same instant.
Then whichever worker gets the chat's lock first takes every held update of the chat in
update-id order, but only once it has seen them for a short settle (`SETTLE`, 100 ms): an
earlier update whose store on the other worker is a few milliseconds behind is in the inbox
by then and is handled first. The settle holds the chat's lock, not a worker slot. Only an
earlier update stored more than the settle after a later one (a stalled connection) can
still come second; `max_connections=1` rules even that out (docs/deploy.md).

A crash after the commit but before the replies went out leaves the update in the inbox; the
next holder of the chat's lock (a restart, or the other worker on the chat's next message)
replays it and the service hands back the committed replies, which are sent then.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import tornado.httpserver
import tornado.web
from telegram import Update

from bot.telegram._flow import RETRY_WAIT, chat_key, resend_delay
from bot.telegram._guard import screen_updates

__all__ = ["WebhookIntake", "WebhookServer"]

log = logging.getLogger("sanad.telegram")

MAX_BODY = 1024 * 1024  # an update is a few kilobytes; files are fetched separately
# A chat's held update is handled no sooner than this after the lock holder first saw it, so
# an earlier update of the chat that another worker received at the same instant is stored
# (and handled first) by then.
SETTLE = 0.1


class _Unsent(Exception):
    """An update was handled but its reply could not be sent: it stays held."""


class _Inbox(Protocol):
    def inbox_tag(self, channel: str, chat: str) -> str: ...
    def inbox_put_ordered(
        self, channel: str, updates: list[tuple[str, bytes, str, int, str]]
    ) -> int: ...
    def inbox_of_chat(self, channel: str, chat_tag: str) -> list[tuple[str, bytes]]: ...
    def inbox_held(self, channel: str, chat_tag: str) -> list[str]: ...
    def inbox_chats(self, channel: str) -> list[str]: ...
    def inbox_adopt(self, channel: str, order_of: Callable[[bytes], tuple[str, int]]) -> int: ...
    def inbox_done(self, channel: str, event_ids: list[str]) -> None: ...


class _Locks(Protocol):
    def hold(self, tag: str) -> contextlib.AbstractAsyncContextManager[None]: ...
    def dispose(self) -> None: ...


class WebhookIntake:
    """What a POST does (`receive`) and how a chat's held updates are handled (`_drain`)."""

    def __init__(
        self,
        channel: str,
        service: _Inbox,
        locks: _Locks,
        bot: Any,
        process: Callable[[Update], Awaitable[None]],
        workers: int,
        event_id: Callable[[int], str],
        settle: float = SETTLE,
        unsent: Callable[[Update], bool] | None = None,
        retry_wait: float = RETRY_WAIT,
    ) -> None:
        self.channel = channel
        self.retry_wait = retry_wait  # scales the pauses of `resend_delay`
        # Whether the update just handled left its reply unsent (Telegram unreachable after
        # the Pacer's tries): it then stays held and the chat is handled again after a pause.
        self.unsent = unsent or (lambda update: False)
        self._attempts: dict[str, int] = {}
        self.resent = 0
        self.settle = settle
        self.service = service
        self.locks = locks
        self.bot = bot
        self.process = process
        self.event_id = event_id  # update id → the service's event id (the bot's id in it)
        self._stopping = False
        self._work = asyncio.Semaphore(workers)
        # Chats holding their lock at once (settling or handled): each holds a connection of
        # the lock's pool (ChatLocks: `workers + 2`, as many again on overflow), so never more
        # than that pool has; a wait for a pooled connection would block a thread of the
        # default executor, which the stores and the handling need too.
        self._holding = asyncio.Semaphore(2 * workers)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self.handled = 0
        self.restored = 0

    async def receive(self, body: bytes) -> int:
        """Store one POSTed update; the HTTP status to answer (200 only once it is stored)."""
        try:
            item = json.loads(body.decode("utf-8"))
        except (ValueError, RecursionError):
            log.warning("telegram webhook body refused reason=not_json")
            return 400
        screened, _ = screen_updates([item])
        if not screened:  # no usable update id: nothing Telegram could redeliver either
            return 200
        raw = screened[0]
        try:
            update = Update.de_json(raw, self.bot)
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:
            log.warning("telegram webhook update refused reason=unparsable")
            return 200
        key = chat_key(update)
        tag = self.service.inbox_tag(self.channel, "none" if key is None else str(key))
        data = json.dumps(raw, ensure_ascii=False, separators=(",", ":")).encode()
        try:
            await asyncio.to_thread(
                self.service.inbox_put_ordered,
                self.channel,
                [
                    (
                        str(update.update_id),
                        data,
                        tag,
                        update.update_id,
                        self.event_id(update.update_id),
                    )
                ],
            )
        except Exception as exc:
            log.error("inbox unavailable (%s); Telegram will deliver again", type(exc).__name__)
            return 500
        self.schedule(tag)
        return 200

    async def restore(self) -> int:
        """Handle whatever the inbox holds (after a crash or a stop): every held chat, with
        the updates a polling run left (adopted into their chats' order first)."""
        adopted = await asyncio.to_thread(self.service.inbox_adopt, self.channel, self._order_of)
        if adopted:
            log.info("%d update(s) held by a polling run are handled here", adopted)
        tags = await asyncio.to_thread(self.service.inbox_chats, self.channel)
        for tag in tags:
            self.schedule(tag)
        if tags:
            log.info("handling the held updates of %d chat(s) left from the last run", len(tags))
        self.restored += len(tags)
        return len(tags)

    def _order_of(self, raw: bytes) -> tuple[str, int]:
        """A held update's chat (as `receive` tags it) and its update id."""
        try:
            update = Update.de_json(json.loads(raw), self.bot)
        except (ValueError, TypeError, KeyError):
            update = None
        if update is None:  # handled (and let go) like any unparsable held update
            return "none", 0
        key = chat_key(update)
        return ("none" if key is None else str(key)), update.update_id

    def schedule(self, tag: str) -> None:
        self._again.add(tag)
        if tag not in self._tasks:
            self._tasks[tag] = asyncio.create_task(self._drain(tag), name="sanad-webhook-chat")

    async def _drain(self, tag: str) -> None:
        try:
            async with self._holding, self.locks.hold(tag):
                seen: set[str] = set()
                while True:
                    self._again.discard(tag)
                    held = await asyncio.to_thread(self.service.inbox_held, self.channel, tag)
                    if not held and tag not in self._again:
                        return
                    fresh = set(held) - seen
                    if fresh and self.settle:
                        # First sight of these: an earlier update of the chat that another
                        # worker received at the same instant may still be being stored.
                        seen |= fresh
                        await asyncio.sleep(self.settle)
                        continue
                    if not held:
                        continue
                    # Opened only now, once (a look above opens nothing), in update order.
                    settled = set(held)  # one stored since the look waits for the next round
                    rows = [
                        row
                        for row in await asyncio.to_thread(
                            self.service.inbox_of_chat, self.channel, tag
                        )
                        if row[0] in settled
                    ]
                    async with self._work:
                        for event_id, raw in rows:
                            await self._handle(tag, event_id, raw)
        except _Unsent:  # held, with the chat's later updates behind it, in order
            self._again_later(tag)
        except Exception as exc:  # the rows stay held: the next message or start retries
            log.error("webhook chat handling failed error=%s", type(exc).__name__)
        finally:
            self._tasks.pop(tag, None)
            # An update came while the lock was being let go: handle it now.
            if tag in self._again and not self._stopping:
                self.schedule(tag)

    async def _handle(self, tag: str, event_id: str, raw: bytes) -> None:
        try:
            update = Update.de_json(json.loads(raw), self.bot)
        except (ValueError, TypeError, KeyError):
            update = None
        if update is not None:
            await self.process(update)
            if self.unsent(update):
                raise _Unsent
            self.handled += 1
        await asyncio.to_thread(self.service.inbox_done, self.channel, [event_id])
        self._attempts.pop(tag, None)

    def _again_later(self, tag: str) -> None:
        # Counted per chat: the first held update is the one that failed.
        attempt = self._attempts.get(tag, 0) + 1
        delay = resend_delay(attempt, self.retry_wait)
        if delay is None or self._stopping:
            self._attempts.pop(tag, None)
            log.error(
                "reply still not sent; the chat's next message or the next start handles it again"
            )
            return
        self._attempts[tag] = attempt
        self.resent += 1
        log.warning("reply not sent; the chat is handled again in %.0fs", delay)
        asyncio.get_running_loop().call_later(delay, self._resume, tag)

    def _resume(self, tag: str) -> None:
        if not self._stopping:
            self.schedule(tag)

    async def idle(self, timeout: float = 10) -> None:
        """Wait until no chat is being handled (a clean stop)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def stop(self, timeout: float = 10) -> None:
        self._stopping = True
        await self.idle(timeout)
        for task in list(self._tasks.values()):
            task.cancel()
        await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)
        await asyncio.to_thread(self.locks.dispose)


class _Handler(tornado.web.RequestHandler):
    def initialize(self, intake: WebhookIntake, secret: str) -> None:
        self.intake = intake
        self.secret = secret

    def compute_etag(self) -> None:
        return None

    async def post(self) -> None:
        given = self.request.headers.get("X-Telegram-Bot-Api-Secret-Token") or ""
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            log.warning("telegram webhook refused reason=secret")
            self.set_status(403)
            return
        ctype = (self.request.headers.get("Content-Type") or "").split(";")[0].strip()
        if ctype != "application/json":
            self.set_status(403)
            return
        self.set_status(await self.intake.receive(self.request.body))

    def log_exception(self, *args: Any, **kwargs: Any) -> None:  # never log a body
        log.error("telegram webhook request failed")


class _Health(tornado.web.RequestHandler):
    """`/healthz` (alive) and `/readyz` (database answers, schema current), as on the
    dashboard (web/health.py): no login, nothing about cases."""

    def initialize(self, db: Any, ready: bool) -> None:
        self.db, self.ready = db, ready

    async def get(self) -> None:
        if not self.ready:
            self.write({"ok": True})
            return
        from storage import readiness

        state = await asyncio.to_thread(readiness, self.db)
        self.set_status(200 if state.ready else 503)
        self.write(state.to_json())


class WebhookServer:
    """The HTTP endpoint Telegram (or the TLS proxy in front) posts to, with the health
    endpoints a load balancer asks."""

    def __init__(self, intake: WebhookIntake, secret: str, path: str, db: Any = None) -> None:
        handlers: list[Any] = [
            (f"/{path.lstrip('/')}", _Handler, {"intake": intake, "secret": secret})
        ]
        if db is not None:
            handlers += [
                ("/healthz", _Health, {"db": db, "ready": False}),
                ("/readyz", _Health, {"db": db, "ready": True}),
            ]
        app = tornado.web.Application(handlers, log_function=lambda handler: None)
        self._server = tornado.httpserver.HTTPServer(app, max_body_size=MAX_BODY, xheaders=False)

    def listen(self, host: str, port: int) -> None:
        self._server.listen(port, address=host, reuse_port=False)

    async def stop(self) -> None:
        self._server.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self._server.close_all_connections(), timeout=5)
