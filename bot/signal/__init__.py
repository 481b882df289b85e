"""The Signal channel: signalbot 2.x over a signal-cli-rest-api in json-rpc mode.

Incoming data messages become IntakeService calls (text, slash commands, attachments); replies
go back as text with numbered options, since Signal has no buttons. Per reporter, messages are
handled one at a time and in order, in a worker thread (the service is synchronous); different
reporters do not wait for each other.

Safety on the reporter's phone: a disappearing-messages timer is set for the conversation, the
bot's messages are remembered (as timestamps, through the service) and remotely deleted on quick
exit; Signal cannot delete what the reporter sent, and the reply says so. Logs name event kinds
and counts, never text, phone numbers or UUIDs.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from dataclasses import replace as dc_replace
from datetime import timedelta
from typing import Any

import aiohttp
from signalbot import (
    DataMessageContext,
    DataMessageHandler,
    EditMessage,
    SendMessage,
    SentMessage,
    SignalBot,
    SignalBotError,
    UpdateContact,
)

from bot._update_guard import Refusal, bilingual
from bot.commands import parse_command
from bot.signal._config import SignalConfig, SignalUnavailable, render_reply
from bot.signal._files import AttachmentPolicy, stream_chunks
from bot.signal._runtime import (
    ReceiveWatchdog,
    initialise,
    quiet_signalbot_logger,
    start_consumers,
    stop_pipeline,
)
from flows import Reply
from intake import Incoming, IntakeService, Outcome
from jobs import Runner
from storage import DeliveryDeferred, crypto, outbox_jobs

log = logging.getLogger("sanad.signal")

__all__ = ["SignalChannel", "SignalConfig", "SignalUnavailable", "render_reply"]

CHANNEL = "signal"
Job = Callable[[], Awaitable[None]]


@dataclass
class _Stats:
    handled: int = 0  # incoming messages finished (answered, ignored or failed)
    refused: int = 0  # frames refused unread (malformed, oversized, wrongly typed)
    delivered: int = 0  # outbox items delivered
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class SignalChannel:
    """One running Signal bot. `await start()`, then `await serve_forever()` or `await stop()`."""

    def __init__(
        self,
        config: SignalConfig,
        service: IntakeService,
        event_key: bytes,
        jobs: Runner | None = None,
    ) -> None:
        self.config = config
        self.service = service
        # The process's job runner (jobs.channel_runner): on PostgreSQL it consumes this
        # channel's outbox queue (`deliver_message`), on SQLite it runs `deliver_outbox`.
        self.jobs = jobs
        self._event_key = event_key  # keys the hash that turns (sender, timestamp) into an id
        self._policy = AttachmentPolicy(config.max_attachment_bytes)
        self._queues: dict[str, deque[Job]] = {}
        self._workers: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._recent: OrderedDict[str, None] = OrderedDict()  # event ids seen by this process
        self._timer_set: dict[str, float] = {}  # recipient -> when we last set the timer
        self._langs: OrderedDict[str, str] = OrderedDict()  # recipient -> last reply language
        self._outbox_busy: set[str] = set()
        self._session: aiohttp.ClientSession | None = None
        self.bot: SignalBot | None = None
        self.watchdog: ReceiveWatchdog | None = None
        self.stats = _Stats()
        from bot import voice

        # Spoken questions (/voice), where espeak-ng and ffmpeg are installed.
        self.speaker = (
            voice.speaker_for(service.settings.home, service.flows.catalog)
            if voice.check() is None
            else None
        )
        service.voice_available = self.speaker is not None

    def __repr__(self) -> str:
        return f"SignalChannel({self.config!r})"

    @property
    def _client(self) -> SignalBot:
        if self.bot is None:
            raise RuntimeError("the Signal channel is not started")
        return self.bot

    # ---- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=None, connect=10, sock_read=120)
        )
        try:
            await self._preflight()
            self.bot = SignalBot(
                {
                    "phone_number": self.config.number,
                    "signal_service": self.config.service,
                    "storage": {"type": "in-memory"},
                    "connection_mode": "http_only",
                    "download_attachments": False,  # streamed by us: see bot/signal/_files.py
                    "retry_interval": 1,
                }
            )
            quiet_signalbot_logger()
            self.bot.register(_Handler(self), contacts=True, groups=False)
            await asyncio.wait_for(initialise(self.bot), self.config.startup_timeout)
        except (
            TimeoutError,
            aiohttp.ClientError,
            OSError,
            RuntimeError,
            SignalBotError,
            ValueError,
        ) as exc:
            await self._close_clients()
            raise SignalUnavailable(self._unavailable(exc)) from exc
        except BaseException:
            await self._close_clients()
            raise
        await start_consumers(self.bot)
        self.watchdog = ReceiveWatchdog(
            self.bot, self.config.reconnect_min, self.config.reconnect_max, on_refusal=self.refuse
        )
        self._tasks = [asyncio.create_task(self.watchdog.run(), name="signal-receive")]
        if self.jobs is not None:
            self.jobs.consume_outbox(
                CHANNEL,
                self,
                asyncio.get_running_loop(),
                clock=self.service.clock,
                every=self.config.outbox_interval,
            )
            await asyncio.to_thread(self.jobs.start)
        else:
            self._tasks.append(asyncio.create_task(self._outbox_loop(), name="signal-outbox"))
        log.info("signal channel started")

    async def serve_forever(self) -> None:
        await asyncio.gather(*self._tasks)

    async def stop(self, drain_timeout: float = 10.0) -> None:
        if self.jobs is not None:  # its outbox jobs run on this loop: stop it while it runs
            await asyncio.to_thread(self.jobs.stop)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._workers:  # let reporters' messages in hand finish and be answered
            _, pending = await asyncio.wait(set(self._workers), timeout=drain_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self.bot is not None:
            await stop_pipeline(self.bot)
        await self._close_clients()
        log.info("signal channel stopped")

    async def _close_clients(self) -> None:
        if self.bot is not None:
            await self.bot.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _preflight(self) -> None:
        assert self._session is not None
        url = f"http://{self.config.service}/v1/health"
        async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
            if resp.status != 204:
                raise RuntimeError(f"its health check answered HTTP {resp.status}")

    def _unavailable(self, exc: BaseException) -> str:
        where = f"the Signal service at {self.config.service}"
        if isinstance(exc, TimeoutError):
            return f"{where} did not answer in time; is signal-cli-rest-api running?"
        if isinstance(exc, RuntimeError):
            return f"{where} cannot be used: {exc}"
        if isinstance(exc, SignalBotError | ValueError):  # e.g. /v1/about not understood
            return (
                f"{where} answered in a way signalbot does not understand "
                f"({type(exc).__name__}); is it signal-cli-rest-api 0.101 or newer?"
            )
        return (
            f"{where} cannot be reached; check SANAD_SIGNAL_SERVICE and that "
            "signal-cli-rest-api is running in json-rpc mode"
        )

    # ---- test and operations hooks ---------------------------------------------------------

    async def wait_handled(self, count: int, timeout: float = 10.0) -> None:
        """Until `count` incoming messages have been handled in all (tests, health checks)."""

        async def reached() -> None:
            while self.stats.handled < count:
                self.stats.changed.clear()
                await self.stats.changed.wait()

        await asyncio.wait_for(reached(), timeout)

    def _bump(self) -> None:
        self.stats.handled += 1
        self.stats.changed.set()

    # ---- per-reporter ordering -------------------------------------------------------------

    def _enqueue(self, key: str, job: Job) -> bool:
        """Run `job` after the jobs already queued for this reporter; False if over the cap."""
        queue = self._queues.get(key)
        if queue is None:
            queue = self._queues[key] = deque()
            task = asyncio.create_task(self._drain(key, queue))
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)
        elif len(queue) >= self.config.pending_per_sender:
            return False
        queue.append(job)
        return True

    async def _drain(self, key: str, queue: deque[Job]) -> None:
        try:
            while queue:
                await queue.popleft()()
        finally:
            self._queues.pop(key, None)

    # ---- incoming --------------------------------------------------------------------------

    def accept(self, message: Any) -> None:
        """Called by the signalbot handler for every private data message: queue it in order."""
        sender = message.source_uuid or message.source_number
        if sender is None or isinstance(message, EditMessage) or not message.is_private():
            log.info("signal message ignored (edit, group or no sender)")
            self._bump()
            return

        async def job() -> None:
            try:
                await self._handle(sender, message)
            except Exception as exc:  # keep serving; the type is all the log may say
                log.error("signal message failed (%s)", type(exc).__name__)
            finally:
                self._bump()

        if not self._enqueue(sender, job):
            log.warning("signal message dropped: too many waiting from one reporter")
            self._bump()

    def refuse(self, refusal: Refusal) -> None:
        """A frame the guard refused (bot/_update_guard.py): counted, and its sender, when
        known, told in both languages, in order with their other messages."""
        self.stats.refused += 1
        self.stats.changed.set()
        recipient = refusal.reply_to
        if not isinstance(recipient, str):
            return

        async def job() -> None:
            try:
                await self._ensure_timer(recipient, None)
                text = bilingual(self.service.flows.text, refusal.key)
                src = Incoming(CHANNEL, recipient, None, recipient)
                await self._send(src, recipient, [Reply(text, "info", "ar")])
            except Exception as exc:
                log.warning("signal refusal not sent (%s)", type(exc).__name__)

        if not self._enqueue(recipient, job):
            log.warning("signal refusal not sent: too many waiting from one reporter")

    def _event_id(self, sender: str, timestamp: int) -> str:
        """The envelope's timestamp and source, as a keyed hash: the processed-events table
        must not hold a UUID or phone number in clear."""
        # The bot's own number is part of it: another number on this home never meets the
        # records of this one (review finding 13).
        digest = crypto.user_handle(
            self._event_key, "signal-event", f"{self.config.number}|{sender}|{timestamp}"
        )
        return digest.hex()[:32]

    async def _handle(self, sender: str, message: Any) -> None:
        base = self._event_id(sender, message.timestamp)
        if base in self._recent:  # redelivered while we still remember it: not even download
            log.info("signal duplicate ignored")
            return
        self._remember(base)
        await self._ensure_timer(sender, message.expires_in_seconds)
        step = 0

        def src() -> Incoming:
            nonlocal step
            step += 1
            return Incoming(CHANNEL, sender, f"{base}:{step}", sender)

        outcomes: list[Outcome] = []
        try:
            for attachment in message.attachments or []:
                outcomes.append(await self._file(src(), sender, attachment))
            text = message.text or ""
            if text.strip() or not outcomes:
                outcomes.append(await self._text(src(), text))
        except Exception as exc:
            log.error("signal service call failed (%s)", type(exc).__name__)
            for outcome in outcomes:
                await self._deliver_outcome(sender, outcome)
            await self._send_keys(sender, ["signal.error.retry"])
            raise
        for outcome in outcomes:
            await self._deliver_outcome(sender, outcome)

    async def _text(self, src: Incoming, text: str) -> Outcome:
        command = parse_command(text)
        if command is None:
            return await asyncio.to_thread(self.service.text, src, text)
        name, arg = command
        return await asyncio.to_thread(self.service.command, src, name, arg)

    async def _file(self, src: Incoming, sender: str, attachment: Any) -> Outcome:
        att_id = attachment.local_filename
        verdict = self._policy.check(attachment.content_type, attachment.size)
        try:
            if att_id is None or not verdict.ok:
                reason = verdict.reason or "type"
                log.info("signal attachment refused (%s)", reason)
                return self._local(
                    sender,
                    f"signal.file.{reason}",
                    max_mb=f"{self.config.max_attachment_bytes / 2**20:.3g}",
                )
            name = self._policy.name_for(
                attachment.remote_filename, attachment.content_type, attachment.is_voice_note
            )
            assert self._session is not None
            url = f"http://{self.config.service}/v1/attachments/{att_id}"
            loop = asyncio.get_running_loop()
            async with self._session.get(url) as resp:
                resp.raise_for_status()
                outcome = await asyncio.to_thread(
                    self.service.file,
                    src,
                    name,
                    attachment.content_type or "",
                    stream_chunks(loop, resp),
                )
            log.info("signal attachment handled")
            return outcome
        finally:
            if att_id is not None:  # the REST API's clear copy goes, accepted or not
                await self._delete_remote_copy(attachment)

    async def _delete_remote_copy(self, attachment: Any) -> None:
        try:
            await self._client.attachments.delete(attachment)
        except Exception as exc:
            log.warning("signal attachment copy not deleted (%s)", type(exc).__name__)

    def _local(self, sender: str, key: str, **params: object) -> Outcome:
        lang = self._langs.get(sender, "ar")
        return Outcome([Reply(self.service.flows.text(lang, key, **params), "info", lang)])

    def _remember(self, event_id: str) -> None:
        self._recent[event_id] = None
        while len(self._recent) > 4096:
            self._recent.popitem(last=False)

    # ---- outgoing --------------------------------------------------------------------------

    async def _deliver_outcome(self, recipient: str, outcome: Outcome) -> None:
        if outcome.replayed:  # signal-cli does not redeliver after a crash: a repeat is a copy
            return
        src = Incoming(CHANNEL, recipient, None, recipient)
        replies = outcome.replies
        if outcome.erased:
            await self._erase(src, recipient)
            if replies:  # the quick-exit reply also says what Signal cannot delete
                last = replies[-1]
                note = self.service.flows.text(last.lang, "signal.exit.own_messages")
                replies = [*replies[:-1], dc_replace(last, text=f"{last.text}\n\n{note}")]
        await self._send(src, recipient, replies)
        if outcome.voice:
            await self._send_voice(src, recipient, replies)

    async def _send_voice(self, src: Incoming, recipient: str, replies: list[Reply]) -> None:
        """/voice: the question also as a voice note (OGG/Opus, as Signal records them),
        tracked so that quick exit deletes it with the rest."""
        import base64

        from bot.voice import VoiceUnavailable

        question = next((r for r in reversed(replies) if r.kind not in ("info", "receipt")), None)
        if question is None or self.speaker is None:
            return
        try:
            note = await asyncio.to_thread(self.speaker.note, question)
        except VoiceUnavailable:
            return
        data = base64.b64encode(note.data).decode("ascii")
        message = SendMessage(
            text="", base64_attachments=[f"data:audio/ogg;filename=question.ogg;base64,{data}"]
        )
        sent = await self._client.messages.send(message, recipient)
        try:
            await asyncio.to_thread(self.service.track, src, str(sent.timestamp), "out")
        except Exception as exc:
            log.error("signal voice note not tracked for deletion (%s)", type(exc).__name__)

    async def _send(self, src: Incoming, recipient: str, replies: list[Reply]) -> None:
        for reply in replies:
            self._note_lang(recipient, reply.lang)
            message = SendMessage(text=render_reply(reply))
            sent = await self._client.messages.send(message, recipient)
            try:  # a message we cannot remember must not stop the others being sent
                await asyncio.to_thread(self.service.track, src, str(sent.timestamp), "out")
            except Exception as exc:
                log.error("signal sent message not tracked for deletion (%s)", type(exc).__name__)

    async def _send_keys(self, recipient: str, keys: list[str]) -> None:
        lang = self._langs.get(recipient, "ar")
        src = Incoming(CHANNEL, recipient, None, recipient)
        await self._send(
            src,
            recipient,
            [Reply(self.service.flows.text(lang, key), "info", lang) for key in keys],
        )

    def _note_lang(self, recipient: str, lang: str) -> None:
        self._langs[recipient] = lang
        self._langs.move_to_end(recipient)
        while len(self._langs) > 4096:
            self._langs.popitem(last=False)

    async def _erase(self, src: Incoming, recipient: str) -> None:
        """Quick exit: remotely delete every message the bot sent in this conversation."""
        refs = await asyncio.to_thread(self.service.messages_of, src)
        failed = 0
        for ref, direction in refs:
            if direction != "out":
                continue  # Signal cannot delete what the reporter sent
            try:
                await self._client.messages.remote_delete(
                    SentMessage.model_construct(recipient=recipient, timestamp=int(ref))
                )
            except Exception as exc:
                failed += 1
                log.warning("signal remote delete failed (%s)", type(exc).__name__)
        await asyncio.to_thread(self.service.forget_messages, src)
        log.info(
            "signal conversation erased deleted=%d failed=%d",
            sum(d == "out" for _, d in refs) - failed,
            failed,
        )

    async def _ensure_timer(self, recipient: str, current: int | None) -> None:
        """Disappearing messages for this conversation, unless already on (a shorter timer the
        reporter chose is kept). Set before any reply, so the replies disappear too."""
        want = self.config.disappear_seconds
        if not want or (current is not None and 0 < current <= want):
            return
        now = time.monotonic()
        if now - self._timer_set.get(recipient, -1e9) < 60:
            return  # just set: the reporter's phone has not caught up yet
        try:
            await self._client.contacts.update(UpdateContact(expiration_in_seconds=want), recipient)
            self._timer_set[recipient] = now
            log.info("signal disappearing timer set")
        except Exception as exc:
            log.warning("signal disappearing timer not set (%s)", type(exc).__name__)
        if len(self._timer_set) > 4096:
            cutoff = now - 60
            self._timer_set = {k: v for k, v in self._timer_set.items() if v >= cutoff}

    # ---- caseworker replies waiting in the outbox --------------------------------------------

    async def _outbox_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.outbox_interval)
            await self.deliver_outbox()

    def schedule_checkins(self) -> int:
        """Queue the safety check-ins come due (the job engine's sweep calls it)."""
        return self.service.schedule_checkins()

    async def deliver_message(self, message_id: str) -> str:
        """The job engine's task for one outbox message (its argument is the id only): queued
        behind that reporter's own messages, as `deliver_outbox` does, and awaited. SENT,
        FAILED (for good) or SKIPPED; DeliveryDeferred to be run again later."""
        item, wait = await asyncio.to_thread(self.service.take_outbox, CHANNEL, message_id)
        if item is None:
            if wait is not None:
                raise DeliveryDeferred(wait)
            return outbox_jobs.SKIPPED
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        async def job() -> None:
            try:
                done.set_result(await self._deliver_item(item, deferrable=True))
            except BaseException as exc:
                done.set_exception(exc)
                if not isinstance(exc, DeliveryDeferred):
                    raise

        if not self._enqueue(item.route, job):  # that reporter's queue is full: later
            await asyncio.to_thread(self.service.outbox_release, item.id)
            raise DeliveryDeferred(timedelta(seconds=30))
        return await done

    async def deliver_outbox(self) -> int:
        """Queue every pending caseworker reply behind that reporter's own messages (the
        in-process path); how many were queued."""
        try:
            items = await asyncio.to_thread(self.service.pending_outbox, CHANNEL)
        except Exception as exc:
            log.error("signal outbox not read (%s)", type(exc).__name__)
            return 0
        queued = 0
        for item in items:
            if item.id in self._outbox_busy:
                continue
            self._outbox_busy.add(item.id)

            async def job(item: Any = item) -> None:
                try:
                    await self._deliver_item(item)
                finally:
                    self._outbox_busy.discard(item.id)

            if not self._enqueue(item.route, job):
                self._outbox_busy.discard(item.id)
            else:
                queued += 1
        return queued

    async def _deliver_item(self, item: Any, deferrable: bool = False) -> str:
        src = Incoming(CHANNEL, item.route, None, item.route)
        try:
            await self._ensure_timer(item.route, None)
            await self._send(src, item.route, item.replies)
        except Exception as exc:
            log.warning("signal outbox delivery failed (%s)", type(exc).__name__)
            wait = await asyncio.to_thread(self.service.outbox_failed, item.id)
            if wait is None:
                return outbox_jobs.FAILED
            if deferrable:  # a job: the engine tries again after the backoff
                raise DeliveryDeferred(wait) from None
            return outbox_jobs.RETRY
        await asyncio.to_thread(self.service.outbox_sent, item.id)
        self.stats.delivered += 1
        self.stats.changed.set()
        log.info("signal outbox item delivered")
        return outbox_jobs.SENT


class _Handler(DataMessageHandler):
    """Hands each private data message to the channel, which orders it per reporter."""

    def __init__(self, channel: SignalChannel) -> None:
        self.channel = channel

    async def handle_data_message(self, c: DataMessageContext) -> None:
        self.channel.accept(c.message)
