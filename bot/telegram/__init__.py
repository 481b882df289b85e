"""The Telegram channel: python-telegram-bot in front of the same IntakeService as the console.

Updates become service calls (text, option ids from buttons, slash commands, files); replies
become messages sent with `protect_content`, choices as inline keyboards. Service calls are
synchronous (SQLAlchemy), so they run in worker threads; `_flow` keeps each chat in order
and paces sending.

What a crash does (polling): each update is stored, sealed, in the channel inbox
(storage.inbox) before it is confirmed to Telegram, and leaves it only once it was handled and
answered; the next start handles whatever is left there first.
- Killed before the service committed: the update is simply handled on restart.
- Killed after the commit, before the replies were sent: the service recognises the event id,
  stores nothing again (no answer or report twice) and hands back the committed replies, sealed
  at commit time, which are sent then (a report's receipt included).
- Killed after the replies went out but before the inbox let go of the update (a window of
  about `Poller.flush_interval`): the same replay, so the reporter may see an answer twice.
Webhook mode (bot.telegram._webhook): the POST is answered 200 only once the update is held, sealed,
in the same inbox; a chat's held updates are then handled in order by one worker at a time (a
per-chat lock, across workers on PostgreSQL), and each start handles what the inbox holds. The
crash cases are those of polling; a redelivery of an update already answered is not answered
again.

Nothing here logs what a reporter wrote, nor a chat or user id: update ids at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.exc import IntegrityError
from telegram import BotCommand, Update
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    Defaults,
    MessageHandler,
    filters,
)

from bot.commands import parse_command
from bot.telegram import _render as render
from bot.telegram._flow import Pacer, PerChatProcessor, Poller
from bot.telegram._guard import GuardedRequest, RefusalHandler
from bot.telegram._settings import (
    TelegramSettings,
    TelegramSetupError,
    WebhookConfig,
    webhook_secret,
)
from bot.telegram._webhook import WebhookIntake, WebhookServer
from flows import Reply
from intake import Incoming, IntakeService, Outcome
from jobs import Runner
from storage import DeliveryDeferred, outbox_jobs

__all__ = [
    "TelegramChannel",
    "TelegramSettings",
    "TelegramSetupError",
    "WebhookConfig",
    "webhook_secret",
]

log = logging.getLogger("sanad.telegram")

CHANNEL = "telegram"
CHUNK = 64 * 1024
MENU = ("start", "help", "skip", "back", "lang", "voice", "status", "delete", "exit")
ALLOWED_TYPES = ("image/", "audio/", "video/", "application/pdf", "text/plain")


def _chunks(data: bytearray) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK):
        yield bytes(view[start : start + CHUNK])


class _ServiceInbox:
    """The poller's inbox (bot.telegram._flow.Inbox) in the service's database, sealed."""

    def __init__(self, service: IntakeService) -> None:
        self.service = service

    async def put(self, updates: list[tuple[str, bytes]]) -> None:
        await asyncio.to_thread(self.service.inbox_put, CHANNEL, updates)

    async def pending(self) -> list[tuple[str, bytes]]:
        return await asyncio.to_thread(self.service.inbox_pending, CHANNEL)

    async def done(self, event_ids: list[str]) -> None:
        await asyncio.to_thread(self.service.inbox_done, CHANNEL, event_ids)


FILE_TRIES = 3  # a file the bot could not fetch is asked again of the reporter after these


class TelegramChannel:
    """Build with a service and settings; `await start()` … `await stop()` (or `run()`)."""

    def __init__(
        self,
        service: IntakeService,
        settings: TelegramSettings,
        webhook: WebhookConfig | None = None,
        outbox_interval: float = 2.0,
        jobs: Runner | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.webhook = webhook
        self.outbox_interval = outbox_interval
        # The process's job runner (jobs.channel_runner): it delivers the outbox (a queue of
        # this channel on PostgreSQL, in-process on SQLite). Without one, a loop here.
        self.jobs = jobs
        self._langs: dict[int, str] = {}  # chat → language of the last reply (memory only)
        # Updates whose reply could not be sent (Telegram unreachable after the Pacer's
        # tries): kept held and handled again, which replays the committed answer.
        self._unsent: set[int] = set()
        self._poller: Poller | None = None
        self._intake: WebhookIntake | None = None
        self._server: WebhookServer | None = None
        self._outbox_task: asyncio.Task[None] | None = None
        self.processor = PerChatProcessor(settings.workers, on_done=self._done)
        from bot import voice

        # Spoken questions (/voice), where espeak-ng and ffmpeg are installed.
        self.speaker = (
            voice.speaker_for(service.settings.home, service.flows.catalog)
            if voice.check() is None
            else None
        )
        service.voice_available = self.speaker is not None
        self.pacer = Pacer(
            settings.chat_rate,
            settings.chat_burst,
            settings.global_rate,
            retry_wait=settings.retry_wait,
        )
        builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = (
            ApplicationBuilder()
            .token(settings.token)
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .defaults(Defaults(protect_content=True))
            .concurrent_updates(self.processor)
            .rate_limiter(self.pacer)
            .connection_pool_size(max(8, settings.workers * 2))
            .pool_timeout(30.0)
        )
        # getUpdates answers are screened before the library parses them (bot.telegram._guard): a
        # malformed update is refused, confirmed and answered, instead of stopping polling.
        builder = builder.get_updates_request(GuardedRequest(connection_pool_size=1))
        # Neither mode uses PTB's Updater: polling has the Poller, webhooks bot.telegram._webhook.
        builder = builder.updater(None)
        self.app: Application[Any, Any, Any, Any, Any, Any] = builder.build()
        self.app.add_handler(RefusalHandler(lambda lang, key: self._t(lang, key)), group=-1)
        self.app.add_handler(CallbackQueryHandler(self._on_callback))
        self.app.add_handler(MessageHandler(filters.COMMAND, self._on_command))
        self.app.add_handler(
            MessageHandler(
                filters.PHOTO
                | filters.VOICE
                | filters.AUDIO
                | filters.VIDEO
                | filters.VIDEO_NOTE
                | filters.Document.ALL,
                self._on_file,
            )
        )
        self.app.add_handler(MessageHandler(filters.TEXT, self._on_text))
        self.app.add_handler(MessageHandler(filters.ALL, self._on_other))
        self.app.add_error_handler(self._on_error)

    # ---- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        host = urlsplit(self.settings.base_url).netloc or "the Telegram API"
        try:
            await self.app.initialize()  # getMe
        except InvalidToken as exc:
            raise TelegramSetupError("the Telegram token was refused") from exc
        except NetworkError as exc:
            raise TelegramSetupError(f"the Telegram API at {host} could not be reached") from exc
        try:
            await self._set_menu()
            if self.webhook is None:
                await self.app.bot.delete_webhook()
                self._poller = Poller(
                    self.app.bot,
                    self.app.update_queue,
                    timeout=self.settings.poll_timeout,
                    allowed_updates=["message", "callback_query"],
                    inbox=_ServiceInbox(self.service),
                    retry_wait=self.settings.retry_wait,
                )
                await self._poller.start()
            else:
                await self._start_webhook(self.webhook)
        except InvalidToken as exc:
            raise TelegramSetupError("the Telegram token was refused") from exc
        except NetworkError as exc:
            raise TelegramSetupError(f"the Telegram API at {host} could not be reached") from exc
        await self.app.start()
        if self._intake is not None:
            await self._intake.restore()
        if self.jobs is not None:
            self.jobs.consume_outbox(
                CHANNEL, self, asyncio.get_running_loop(), clock=self.service.clock
            )
            await asyncio.to_thread(self.jobs.start)
        elif self.outbox_interval > 0:
            self._outbox_task = asyncio.create_task(self._outbox_loop(), name="sanad-outbox")
        log.info("telegram channel started mode=%s", "webhook" if self.webhook else "polling")

    async def _start_webhook(self, webhook: WebhookConfig) -> None:
        secret = webhook_secret(self.settings)
        bot_id = self.settings.token.split(":", 1)[0]
        self._intake = WebhookIntake(
            CHANNEL,
            self.service,
            self.service.chat_locks(size=self.settings.workers + 2),
            self.app.bot,
            self.app.process_update,
            self.settings.workers,
            event_id=lambda uid: f"{bot_id}:{uid}",
            unsent=self._was_unsent,
            retry_wait=self.settings.retry_wait,
        )
        self._server = WebhookServer(
            self._intake, secret, urlsplit(webhook.url).path, db=self.service.db
        )
        try:
            self._server.listen(webhook.listen, webhook.port)
        except OSError as exc:
            raise TelegramSetupError(
                f"cannot listen on {webhook.listen}:{webhook.port} ({exc.strerror})"
            ) from exc
        await self.app.bot.set_webhook(
            webhook.url, secret_token=secret, allowed_updates=["message", "callback_query"]
        )

    async def stop(self) -> None:
        if self.jobs is not None:  # its outbox jobs run on this loop: stop it while it runs
            await asyncio.to_thread(self.jobs.stop)
        if self._server is not None:
            await self._server.stop()
        if self._intake is not None:
            await self._intake.stop()
        if self._outbox_task is not None:
            self._outbox_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._outbox_task
        if self._poller is not None:
            await self._poller.stop()
        if self.app.updater is not None and self.app.updater.running:
            await self.app.updater.stop()
        if self.app.running:
            await self.app.stop()
        if self._poller is not None:
            await self._poller.drain()
        await self.app.shutdown()
        log.info("telegram channel stopped")

    async def run(self, stop: asyncio.Event, on_ready: Callable[[], None] | None = None) -> None:
        await self.start()
        if on_ready is not None:
            on_ready()
        try:
            while not stop.is_set():
                if self._poller is not None and self._poller.fatal is not None:
                    raise TelegramSetupError("the Telegram token was refused")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=0.5)
        finally:
            await self.stop()

    async def _set_menu(self) -> None:
        for lang in ("en", "ar"):
            commands = [BotCommand(name, self._t(lang, f"tg.cmd.{name}")) for name in MENU]
            await self.app.bot.set_my_commands(
                commands, language_code=None if lang == "en" else lang
            )

    def _done(self, update: object) -> None:
        if self._poller is None:
            return
        if self._was_unsent(update):
            self._poller.again(update)
        else:
            self._poller.done(update)

    def _was_unsent(self, update: object) -> bool:
        uid = getattr(update, "update_id", None)
        if uid in self._unsent:
            self._unsent.discard(uid)
            return True
        return False

    # ---- helpers ---------------------------------------------------------------------------

    def _t(self, lang: str, key: str, **values: Any) -> str:
        text = self.service.flows.text(lang, key)
        return text.format(**values) if values else text

    def _src(self, update: Update) -> Incoming:
        """The event key names the bot (its id, from the token) as well as the update id:
        update ids of another bot, or after Telegram restarts its counter, meet no record of
        this bot's (review finding 13)."""
        user = update.effective_user
        chat = update.effective_chat
        assert user is not None and chat is not None
        bot_id = self.settings.token.split(":", 1)[0]
        return Incoming(CHANNEL, str(user.id), f"{bot_id}:{update.update_id}", route=str(chat.id))

    def _lang(self, update: Update) -> str:
        chat = update.effective_chat
        if chat is not None and chat.id in self._langs:
            return self._langs[chat.id]
        user = update.effective_user
        code = (user.language_code or "") if user else ""
        return "en" if code.startswith("en") else "ar"

    @staticmethod
    async def _call(fn: Callable[..., Outcome], *args: Any) -> Outcome | None:
        """The service call, in a worker thread. None: another worker is handling this very
        update right now (two webhook workers got it at once; the service's processed-event
        insert lost the race), so this one stays silent."""
        try:
            return await asyncio.to_thread(fn, *args)
        except IntegrityError as exc:
            if "processed_events" not in str(exc.statement or ""):
                raise
            log.info("update handled by another worker")
            return None

    async def _track(self, src: Incoming, refs: list[tuple[int, str]]) -> None:
        """Remember message ids (both directions) so quick exit and cleaning can delete them."""
        if refs:
            await asyncio.to_thread(
                self.service.track_many, src, [(str(mid), direction) for mid, direction in refs]
            )

    async def _send(
        self, chat_id: int, text: str, keyboard: list[list[dict[str, str]]] | None = None
    ) -> int:
        message = await self.app.bot.send_message(
            chat_id, text, reply_markup=render.markup(keyboard), protect_content=True
        )
        return message.message_id

    async def _say(
        self, update: Update, src: Incoming, key: str, incoming: int | None, **values: Any
    ) -> None:
        """A channel-local message (from the catalogue), tracked with the reporter's one."""
        chat = update.effective_chat
        assert chat is not None
        sent = await self._send(chat.id, self._t(self._lang(update), key, **values))
        refs = [(incoming, "in")] if incoming is not None else []
        await self._track(src, [*refs, (sent, "out")])

    async def _deliver(
        self, update: Update, src: Incoming, outcome: Outcome | None, incoming: int | None
    ) -> None:
        """Send the replies; track the reporter's message and ours after the first reply went
        out (tracking is off the reply's critical path)."""
        chat = update.effective_chat
        assert chat is not None
        if outcome is None:
            return
        # A replay means the update was still held in the inbox, unanswered (a crash after
        # the commit): the committed answer is sent now. (A webhook redelivered after it was
        # answered never gets here: the inbox does not take it again.)
        if not outcome.replies and not outcome.erased and src.event_id is not None:
            # Already handled before a crash or a redelivery: show where the reporter is.
            retry = Incoming(src.channel, src.user_id, None, src.route)
            outcome = await asyncio.to_thread(self.service.open, retry)
        lang = outcome.replies[-1].lang if outcome.replies else self._lang(update)
        refs: list[tuple[int, str]] = []
        if outcome.erased:
            failed = await self._erase(chat.id, src, [incoming] if incoming else [])
            sent = await self._send_replies(chat.id, outcome.replies)
            if failed:
                sent.append(await self._send(chat.id, self._t(lang, "tg.clean_partial", n=failed)))
            await self._track(src, [(m, "out") for m in sent])
            return
        if incoming is not None:
            refs.append((incoming, "in"))
        sent = await self._send_replies(chat.id, outcome.replies)
        if outcome.voice:
            sent += await self._send_voice(chat.id, outcome.replies)
        if outcome.finished and outcome.case_ref:
            sent.append(
                await self._send(
                    chat.id,
                    self._t(lang, "tg.clean_offer"),
                    [[{"text": self._t(lang, "tg.clean_button"), "callback_data": render.CLEAN}]],
                )
            )
        await self._track(src, refs + [(m, "out") for m in sent])

    async def _send_replies(self, chat_id: int, replies: list[Reply]) -> list[int]:
        sent = []
        if len(self._langs) > 50_000:  # a hint only: forget it rather than grow for ever
            self._langs.clear()
        for reply in replies:
            self._langs[chat_id] = reply.lang
            for out in render.render(reply, self._t(reply.lang, "tg.multi_done")):
                sent.append(await self._send(chat_id, out.text, out.keyboard))
        return sent

    async def _send_voice(self, chat_id: int, replies: list[Reply]) -> list[int]:
        """/voice: the question also as a voice note (bot.voice; OGG/Opus, as Telegram's
        own voice messages), tracked like every other message so quick exit deletes it."""
        question = next((r for r in reversed(replies) if r.kind not in ("info", "receipt")), None)
        if question is None or self.speaker is None:
            return []
        from bot.voice import VoiceUnavailable

        try:
            note = await asyncio.to_thread(self.speaker.note, question)
        except VoiceUnavailable:
            return []
        message = await self.app.bot.send_voice(
            chat_id, note.data, duration=max(1, round(note.seconds)), protect_content=True
        )
        return [message.message_id]

    async def _erase(self, chat_id: int, src: Incoming, extra: list[int]) -> int:
        """Delete the conversation's messages from the chat; return how many could not be."""
        pairs = await asyncio.to_thread(self.service.messages_of, src)
        ids = sorted({int(ref) for ref, _ in pairs if str(ref).isdigit()} | set(extra))
        failed = 0
        for start in range(0, len(ids), 100):
            batch = ids[start : start + 100]
            try:
                await self.app.bot.delete_messages(chat_id, batch)
            except (BadRequest, Forbidden):
                for mid in batch:  # find out which ones, one by one
                    try:
                        await self.app.bot.delete_message(chat_id, mid)
                    except BadRequest as exc:
                        if "not found" not in exc.message.lower():  # else: already gone
                            failed += 1
                    except Forbidden:
                        failed += 1
        await asyncio.to_thread(self.service.forget_messages, src)
        return failed

    # ---- handlers --------------------------------------------------------------------------

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        src = self._src(update)
        outcome = await self._call(self.service.text, src, message.text or "")
        await self._deliver(update, src, outcome, message.message_id)

    async def _on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        src = self._src(update)
        parsed = parse_command(message.text or "")
        if parsed is None:
            outcome = await self._call(self.service.text, src, message.text or "")
        elif parsed[0] == "start":
            outcome = await self._call(self.service.open, src)
        else:
            outcome = await self._call(self.service.command, src, *parsed)
        await self._deliver(update, src, outcome, message.message_id)

    async def _on_other(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is None or update.effective_user is None or update.effective_chat is None:
            return
        await self._say(update, self._src(update), "tg.unsupported", message.message_id)

    async def _on_file(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None
        src = self._src(update)
        mid = message.message_id
        attachment: Any
        if message.photo:
            attachment, name, ctype = message.photo[-1], f"photo-{mid}.jpg", "image/jpeg"
        elif message.voice:
            attachment, name = message.voice, f"voice-{mid}.ogg"
            ctype = message.voice.mime_type or "audio/ogg"
        elif message.audio:
            attachment, name = message.audio, message.audio.file_name or f"audio-{mid}"
            ctype = message.audio.mime_type or "audio/mpeg"
        elif message.video:
            attachment, name = message.video, message.video.file_name or f"video-{mid}.mp4"
            ctype = message.video.mime_type or "video/mp4"
        elif message.video_note:
            attachment, name, ctype = message.video_note, f"video-{mid}.mp4", "video/mp4"
        else:
            assert message.document is not None
            attachment = message.document
            name = message.document.file_name or f"document-{mid}"
            ctype = message.document.mime_type or "application/octet-stream"
        if not ctype.startswith(ALLOWED_TYPES):
            await self._say(update, src, "tg.file_type", mid)
            return
        limit = self.settings.max_file_bytes
        too_big = {"mb": max(1, limit // (1024 * 1024))}
        if (attachment.file_size or 0) > limit:
            await self._say(update, src, "tg.file_too_big", mid, **too_big)
            return
        # In memory only (at most the 20 MB Telegram lets a bot download), then streamed in
        # chunks into the attachment encryption: never written to disk in clear.
        for attempt in range(FILE_TRIES):
            try:
                tg_file = await attachment.get_file()
                if (tg_file.file_size or 0) > limit:
                    await self._say(update, src, "tg.file_too_big", mid, **too_big)
                    return
                data = await tg_file.download_as_bytearray()
                break
            except NetworkError as exc:  # not BadRequest (a NetworkError too): that is final
                if isinstance(exc, BadRequest):
                    raise
                if attempt + 1 == FILE_TRIES:
                    # Said to the reporter, who can send it again, instead of silence (the
                    # 2,000-reporter run left two reporters waiting after a photo).
                    log.warning(
                        "file download failed %d times (%s)", FILE_TRIES, type(exc).__name__
                    )
                    await self._say(update, src, "tg.file_failed", mid)
                    return
                # getting a file again is harmless
                await asyncio.sleep(self.settings.retry_wait * 2**attempt)
        try:
            if len(data) > limit:
                await self._say(update, src, "tg.file_too_big", mid, **too_big)
                return
            outcome = await self._call(self.service.file, src, name, ctype, _chunks(data))
        finally:
            data[:] = bytes(len(data))
            del data
        await self._deliver(update, src, outcome, mid)

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat = update.effective_chat
        assert query is not None and chat is not None
        data = query.data or ""
        # Stop the button's spinner while the answer is being worked out, not before.
        answered = asyncio.create_task(self._answer_query(query))
        try:
            await self._on_button(update, data)
        finally:
            await answered

    @staticmethod
    async def _answer_query(query: Any) -> None:
        with contextlib.suppress(TelegramError):
            await query.answer()

    async def _on_button(self, update: Update, data: str) -> None:
        query = update.callback_query
        chat = update.effective_chat
        assert query is not None and chat is not None
        src = self._src(update)
        if data == render.CLEAN:
            failed = await self._erase(chat.id, src, [])
            await self._say(
                update, src, "tg.clean_partial" if failed else "tg.cleaned", None, n=failed
            )
            return
        message = query.message
        if data.startswith(render.MULTI_PREFIX) and data != render.MULTI_DONE:
            keyboard = render.toggle(render.keyboard_of(message), data)
            if message is not None:
                with contextlib.suppress(BadRequest):
                    await self.app.bot.edit_message_reply_markup(
                        chat.id, message.message_id, reply_markup=render.markup(keyboard)
                    )
            return
        if data == render.MULTI_DONE:
            text = render.selection(render.keyboard_of(message))
        else:
            text = data[1:] if data.startswith("#") else data
        outcome = await self._call(self.service.text, src, text)
        await self._deliver(update, src, outcome, None)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        uid = getattr(update, "update_id", None)
        error = context.error
        log.error("update failed update_id=%s error=%s", uid, type(error).__name__)
        if (
            isinstance(error, NetworkError)
            and not isinstance(error, BadRequest)
            and isinstance(uid, int)
        ):
            # Sending failed (BadRequest is final): handled again later (`_done`, the webhook
            # intake), so the reporter is not left without the next question.
            self._unsent.add(uid)
            return
        if (
            isinstance(update, Update)
            and update.effective_chat is not None
            and not isinstance(error, TelegramError)
        ):
            with contextlib.suppress(TelegramError):
                await self.app.bot.send_message(
                    update.effective_chat.id,
                    self._t(self._lang(update), "tg.error"),
                    protect_content=True,
                )

    # ---- caseworkers' messages -------------------------------------------------------------

    async def _outbox_loop(self) -> None:
        while True:
            try:
                await self.deliver_outbox()
            except Exception as exc:  # keep delivering; never log contents
                log.error("outbox delivery failed error=%s", type(exc).__name__)
            await asyncio.sleep(self.outbox_interval)

    async def deliver_outbox(self) -> int:
        """Send the due caseworker messages (only cases with consent_followup have a route),
        each as the job engine's task would (`deliver_message`); how many were delivered.
        The in-process path (SQLite), and what tests call."""
        delivered = 0
        for message_id in await asyncio.to_thread(self.service.outbox_due, CHANNEL):
            with contextlib.suppress(DeliveryDeferred):  # retried after its backoff
                delivered += await self.deliver_message(message_id) == outbox_jobs.SENT
        return delivered

    def schedule_checkins(self) -> int:
        """Queue the safety check-ins come due (the job engine's sweep calls it)."""
        return self.service.schedule_checkins()

    async def deliver_message(self, message_id: str) -> str:
        """Deliver one outbox message (the job engine's task; its argument is the id only).
        SENT, FAILED (for good) or SKIPPED (nothing to send); DeliveryDeferred when the
        engine should run it again later (the send failed, or another worker holds it)."""
        item, wait = await asyncio.to_thread(self.service.take_outbox, CHANNEL, message_id)
        if item is None:
            if wait is not None:
                raise DeliveryDeferred(wait)
            return outbox_jobs.SKIPPED
        src = Incoming(CHANNEL, str(item.route), None, route=str(item.route))
        try:
            sent = await self._send_replies(int(item.route), list(item.replies))
        except (TelegramError, ValueError) as exc:
            log.warning("outbox item not delivered error=%s", type(exc).__name__)
            wait = await asyncio.to_thread(self.service.outbox_failed, item.id)
            if wait is None:
                log.error("outbox item failed for good after its last try")
                return outbox_jobs.FAILED
            raise DeliveryDeferred(wait) from None
        await asyncio.to_thread(self.service.outbox_sent, item.id)
        await self._track(src, [(m, "out") for m in sent])
        return outbox_jobs.SENT
