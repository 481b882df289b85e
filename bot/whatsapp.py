"""The WhatsApp channel: the official Cloud API through pywa, in front of the same
IntakeService as every other channel.

Webhook (`POST /whatsapp`): the body's `X-Hub-Signature-256` (HMAC-SHA256 under the app
secret) is checked first; a body without a valid one is refused (401) and never parsed.
Each message is then stored, sealed, in the channel inbox (storage.inbox, as Telegram's
webhook mode) with its chat's keyed tag and its WhatsApp message id as the event id; only then
is 200 sent. A chat's held messages are handled in order by whoever holds the chat's lock
(storage.chatlock), each let go of once answered: a crash redelivers from the inbox, a
redelivery by WhatsApp of a message already answered is not answered again (the service's
processed-event ids), exactly as for Telegram. `GET /whatsapp` answers Meta's verification
challenge with `SANAD_WHATSAPP_VERIFY_TOKEN`.

Options become interactive reply buttons (up to three short ones) or a list (up to ten);
others, and multi-choice questions, are numbered text, answered with the numbers. Media are
fetched from the Cloud API's media URL as a stream straight into the attachment encryption.
Caseworker replies go out as text inside WhatsApp's 24-hour customer-service window; after it
only an approved template may be sent, so a template (`SANAD_WHATSAPP_TEMPLATE`, parameter:
the case reference only, never the reply) tells the reporter a message waits, and the message
itself is delivered when they write back. The window is known from the messages this process
received (memory only, no timestamps of anyone's messages are stored): after a restart it
counts as closed until the reporter writes, so the worst case is a template too many, never a
message Meta refuses.

What WhatsApp and Meta can see is said to reporters at the start (catalogue `wa.privacy`):
the phone number, when and how often they write to us, and everything sent through Meta's
servers is end-to-end encrypted only up to Meta's Cloud API host, which decrypts it for us;
we cannot delete their copy of the chat.

Nothing here logs what a reporter wrote nor their phone number.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import os
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from bot.commands import parse_command
from core import ConfigurationError
from flows import Reply
from intake import Incoming, IntakeService, Outcome

__all__ = [
    "CHANNEL",
    "MAX_BODY",
    "MAX_TEXT",
    "MEDIA_TYPES",
    "WINDOW_SECONDS",
    "OutMessage",
    "WhatsAppChannel",
    "WhatsAppSettings",
    "WhatsAppSetupError",
    "messages_of",
    "render",
    "signature_ok",
]

log = logging.getLogger("sanad.whatsapp")

CHANNEL = "whatsapp"
MAX_BODY = 512 * 1024
MAX_TEXT = 4096
WINDOW_SECONDS = 24 * 3600
MEDIA_TYPES = ("image", "audio", "video", "document", "voice", "sticker")


class WhatsAppSetupError(ConfigurationError):
    """The channel cannot start: one sentence a person can act on."""


@dataclass(frozen=True)
class WhatsAppSettings:
    token: str = field(repr=False)
    phone_id: str
    app_secret: str = field(repr=False)
    verify_token: str = field(repr=False)
    api_url: str | None = None  # a Graph API base such as http://127.0.0.1:9000/v23.0
    template: str = "sanad_reply"  # approved template: "a message about report {{1}}"
    outbox_interval: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WhatsAppSettings:
        env = os.environ if env is None else env
        get = {
            k: (env.get(f"SANAD_WHATSAPP_{k}") or "").strip()
            for k in ("TOKEN", "PHONE_ID", "APP_SECRET", "VERIFY_TOKEN", "API_URL", "TEMPLATE")
        }
        missing = [
            f"SANAD_WHATSAPP_{k}"
            for k in ("TOKEN", "PHONE_ID", "APP_SECRET", "VERIFY_TOKEN")
            if not get[k]
        ]
        if missing:
            raise WhatsAppSetupError(
                f"set {', '.join(missing)} (Meta's app dashboard, "
                "WhatsApp → API setup; README, WhatsApp)"
            )
        if not get["PHONE_ID"].isdigit():
            raise WhatsAppSetupError(
                "SANAD_WHATSAPP_PHONE_ID is the phone number's numeric ID, not the phone number"
            )
        if get["API_URL"] and not get["API_URL"].startswith(("http://", "https://")):
            raise WhatsAppSetupError(
                "SANAD_WHATSAPP_API_URL must look like https://graph.facebook.com/v23.0"
            )
        return cls(
            token=get["TOKEN"],
            phone_id=get["PHONE_ID"],
            app_secret=get["APP_SECRET"],
            verify_token=get["VERIFY_TOKEN"],
            api_url=get["API_URL"] or None,
            template=get["TEMPLATE"] or "sanad_reply",
        )


def signature_ok(app_secret: str, body: bytes, header: str | None) -> bool:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body (pywa's check)."""
    from pywa.utils import webhook_updates_validator

    if not header or not header.startswith("sha256="):
        return False
    return webhook_updates_validator(app_secret, body, header)


def messages_of(payload: Any) -> list[dict[str, Any]]:
    """The messages of a webhook body (statuses and other fields are ignored)."""
    out: list[dict[str, Any]] = []
    if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
        return out
    for entry in payload.get("entry") or []:
        for change in (entry or {}).get("changes") or []:
            value = (change or {}).get("value") or {}
            if change.get("field") != "messages" or not isinstance(value, dict):
                continue
            for msg in value.get("messages") or []:
                if (
                    isinstance(msg, dict)
                    and isinstance(msg.get("id"), str)
                    and isinstance(msg.get("from"), str)
                    and len(msg["id"]) <= 200
                ):
                    out.append(msg)
    return out


@dataclass(frozen=True)
class OutMessage:
    """One message to send: text, and either buttons, a list, or a voice note."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[str, str], ...] = ()


def render(reply: Reply, list_button: str, numbers_hint: str) -> list[OutMessage]:
    """A reply → WhatsApp messages (pure). Button titles are at most 20 characters, list rows
    24 (the rest of a long label goes into the row's description by the sender)."""
    text = reply.text
    if (
        reply.kind == "receipt"
        and reply.extra.get("receipt")
        and reply.extra["receipt"] not in text
    ):
        text = f"{text}\n\n{reply.extra['receipt']}"
    chunks = [text[i : i + MAX_TEXT] for i in range(0, max(len(text), 1), MAX_TEXT)] or ["…"]
    head = [OutMessage(c) for c in chunks[:-1]]
    last = chunks[-1]
    options = reply.options
    if not options:
        return [*head, OutMessage(last)]
    if reply.kind != "multi" and len(options) <= 3 and all(len(lb) <= 20 for _, lb in options):
        return [*head, OutMessage(last, buttons=options)]
    if reply.kind != "multi" and len(options) <= 10:
        return [*head, OutMessage(last, rows=options)]
    # Arabic-Indic digits in Arabic (either digit set typed back is an answer).
    digits = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩") if reply.lang == "ar" else None
    numbered = "\n".join(
        f"{str(n).translate(digits) if digits else n}. {label}"
        for n, (_, label) in enumerate(options, start=1)
    )
    hint = f"\n\n{numbers_hint}" if reply.kind == "multi" else ""
    return [*head, OutMessage(f"{last}\n\n{numbered}{hint}"[:MAX_TEXT])]


class WhatsAppChannel:
    """The webhook app (`create_app`) and the senders, on one service and one pywa client."""

    def __init__(
        self,
        service: IntakeService,
        settings: WhatsAppSettings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        import httpx
        from pywa import WhatsApp

        self.service = service
        self.settings = settings
        self.clock = clock
        self._session = httpx.Client(timeout=30.0)
        self.wa = WhatsApp(
            phone_id=settings.phone_id,
            token=settings.token,
            session=self._session,
            app_secret=settings.app_secret,
            verify_token=settings.verify_token,
            validate_updates=True,
        )
        if settings.api_url:  # pywa sets the public Graph API as the base: a test's fake here
            self._session.base_url = settings.api_url.rstrip("/")
        from bot import voice

        self.speaker = (
            voice.speaker_for(service.settings.home, service.flows.catalog)
            if voice.check() is None
            else None
        )
        service.voice_available = self.speaker is not None
        self._locks = service.chat_locks(size=10)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._again: set[str] = set()
        self._seen: dict[str, float] = {}  # chat tag → last message time (the 24 h window)
        self._waiting: dict[str, Any] = {}  # outbox items told by template, not yet sent
        self._outbox_task: asyncio.Task[None] | None = None
        self._guard = threading.Lock()
        self.handled = 0

    def _t(self, lang: str, key: str, **values: Any) -> str:
        return self.service.flows.text(lang, key, **values)

    # ---- webhook ---------------------------------------------------------------------------

    async def verify(self, request: Request) -> Response:
        q = request.query_params
        if (
            q.get("hub.mode") == "subscribe"
            and q.get("hub.verify_token")
            and hmac.compare_digest(q["hub.verify_token"], self.settings.verify_token)
        ):
            return PlainTextResponse(q.get("hub.challenge", ""))
        return PlainTextResponse("", status_code=403)

    async def receive(self, request: Request) -> Response:
        body = b""
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY:
                return PlainTextResponse("", status_code=413)
        if not signature_ok(
            self.settings.app_secret, body, request.headers.get("x-hub-signature-256")
        ):
            log.warning("whatsapp webhook refused reason=signature")
            return PlainTextResponse("", status_code=401)
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return PlainTextResponse("", status_code=400)
        rows, tags = [], set()
        for n, msg in enumerate(messages_of(payload)):
            tag = self.service.inbox_tag(CHANNEL, msg["from"])
            try:
                seq = int(msg.get("timestamp") or 0) * 1000 + n
            except (TypeError, ValueError):
                seq = n
            event_id = f"wa:{msg['id']}"
            rows.append(
                (event_id, json.dumps(msg, ensure_ascii=False).encode(), tag, seq, event_id)
            )
            tags.add(tag)
        if rows:
            try:
                await asyncio.to_thread(self.service.inbox_put_ordered, CHANNEL, rows)
            except Exception as exc:  # WhatsApp retries a 500
                log.error("inbox unavailable (%s); WhatsApp will deliver again", type(exc).__name__)
                return PlainTextResponse("", status_code=500)
            for tag in tags:
                self.schedule(tag)
        return PlainTextResponse("", status_code=200)

    def schedule(self, tag: str) -> None:
        self._again.add(tag)
        if tag not in self._tasks:
            self._tasks[tag] = asyncio.create_task(self._drain(tag))

    async def restore(self) -> int:
        tags = await asyncio.to_thread(self.service.inbox_chats, CHANNEL)
        for tag in tags:
            self.schedule(tag)
        return len(tags)

    async def idle(self, timeout: float = 20) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while self._tasks:
                    await asyncio.gather(*list(self._tasks.values()), return_exceptions=True)

    async def _drain(self, tag: str) -> None:
        try:
            async with self._locks.hold(tag):
                while True:
                    self._again.discard(tag)
                    rows = await asyncio.to_thread(self.service.inbox_of_chat, CHANNEL, tag)
                    if not rows and tag not in self._again:
                        return
                    for event_id, raw in rows:
                        await asyncio.to_thread(self._handle, event_id, json.loads(raw), tag)
                        await asyncio.to_thread(self.service.inbox_done, CHANNEL, [event_id])
                        self.handled += 1
        except Exception as exc:  # the rows stay held: the next message or start retries
            log.error("whatsapp chat handling failed error=%s", type(exc).__name__)
        finally:
            self._tasks.pop(tag, None)
            if tag in self._again:
                self.schedule(tag)

    # ---- one message (worker thread) -------------------------------------------------------

    def _handle(self, event_id: str, msg: dict[str, Any], tag: str) -> None:
        wa_id = str(msg["from"])
        src = Incoming(CHANNEL, wa_id, event_id, route=wa_id)
        with self._guard:
            self._seen[tag] = self.clock()
        kind = msg.get("type")
        if kind == "text":
            line = str((msg.get("text") or {}).get("body") or "")[:MAX_TEXT]
            command = parse_command(line)
            outcome = (
                self.service.command(src, *command) if command else self.service.text(src, line)
            )
        elif kind == "interactive":
            inter = msg.get("interactive") or {}
            picked = (inter.get("button_reply") or inter.get("list_reply") or {}).get("id")
            outcome = self.service.text(src, str(picked or ""))
        elif kind == "button":  # a template's quick reply
            outcome = self.service.text(src, str((msg.get("button") or {}).get("text") or ""))
        elif kind in MEDIA_TYPES:
            outcome = self._media(src, msg, kind)
        else:
            outcome = self.service.open(Incoming(CHANNEL, wa_id, None, wa_id))
            outcome = Outcome(
                [
                    Reply(
                        self._t(self._lang(outcome), "wa.unsupported"), "info", self._lang(outcome)
                    ),
                    *outcome.replies,
                ]
            )
        if outcome.replayed and not outcome.replies:
            return
        self._deliver(wa_id, outcome)
        self._deliver_waiting(wa_id)

    def _media(self, src: Incoming, msg: dict[str, Any], kind: str) -> Outcome:
        media = msg.get(kind) or {}
        media_id = str(media.get("id") or "")
        mime = str(media.get("mime_type") or "application/octet-stream").split(";")[0][:100]
        name = str(media.get("filename") or f"{kind}.{mime.split('/')[-1][:8]}")
        try:
            url = self.wa.get_media_url(media_id).url
            chunks: Iterator[bytes] = self.wa.stream_media(url)
            return self.service.file(src, name, mime, chunks)
        except Exception as exc:  # the Cloud API failed: nothing half-stored stays
            log.error("whatsapp media could not be fetched (%s)", type(exc).__name__)
            lang = "ar"
            return Outcome([Reply(self._t(lang, "wa.media_failed"), "info", lang)])

    @staticmethod
    def _lang(outcome: Outcome) -> str:
        return outcome.replies[-1].lang if outcome.replies else "ar"

    def _deliver(self, to: str, outcome: Outcome) -> None:
        from pywa.types import Button, Section, SectionList, SectionRow

        replies = list(outcome.replies)
        lang = self._lang(outcome)
        # At the start of a conversation: what WhatsApp and Meta can see.
        for n, reply in enumerate(replies):
            if reply.text == self._t(reply.lang, "opening.safety"):
                replies.insert(n + 1, Reply(self._t(reply.lang, "wa.privacy"), "info", reply.lang))
                break
        if outcome.erased:  # we cannot delete the reporter's copy on WhatsApp: say so
            replies.append(Reply(self._t(lang, "wa.exit_note"), "info", lang))
        for reply in replies:
            for out in render(
                reply, self._t(reply.lang, "wa.list_button"), self._t(reply.lang, "wa.numbers_hint")
            ):
                if out.buttons:
                    self.wa.send_message(
                        to,
                        out.text,
                        buttons=[
                            Button(title=label[:20], callback_data=oid)
                            for oid, label in out.buttons
                        ],
                    )
                elif out.rows:
                    self.wa.send_message(
                        to,
                        out.text,
                        buttons=SectionList(
                            button_title=self._t(reply.lang, "wa.list_button")[:20],
                            sections=[
                                Section(
                                    title=self._t(reply.lang, "wa.list_section")[:24],
                                    rows=[
                                        SectionRow(
                                            title=label[:24],
                                            callback_data=oid,
                                            description=label[24:96] or None,
                                        )
                                        for oid, label in out.rows
                                    ],
                                )
                            ],
                        ),
                    )
                else:
                    self.wa.send_message(to, out.text)
        question = next((r for r in reversed(replies) if r.kind not in ("info", "receipt")), None)
        if outcome.voice and question is not None and self.speaker is not None:
            from bot.voice import VoiceUnavailable

            try:
                note = self.speaker.note(question)
                self.wa.send_voice(to, note.data, mime_type="audio/ogg")
            except VoiceUnavailable:
                pass

    # ---- caseworker replies ----------------------------------------------------------------

    def _in_window(self, wa_id: str) -> bool:
        tag = self.service.inbox_tag(CHANNEL, wa_id)
        with self._guard:
            seen = self._seen.get(tag)
        return seen is not None and self.clock() - seen < WINDOW_SECONDS - 60

    def deliver_outbox(self) -> int:
        """Send what caseworkers wrote: as text inside the 24-hour window, otherwise a
        template saying a message waits; the message itself goes out when the reporter
        writes back (`_deliver_waiting`). The item stays leased meanwhile; after a restart
        the lease runs out and the template is sent once more."""
        from pywa.types.templates import BodyText, TemplateLanguage

        done = 0
        for item in self.service.pending_outbox(CHANNEL):
            if self._in_window(item.route):
                done += self._send_item(item)
                continue
            with self._guard:
                notified = item.id in self._waiting
                self._waiting[item.id] = item
            if notified:
                continue
            lang = item.replies[0].lang if item.replies else "ar"
            self.wa.send_template(
                item.route,
                name=self.settings.template,
                language=TemplateLanguage.ARABIC if lang == "ar" else TemplateLanguage.ENGLISH,
                params=[BodyText.params(item.case_ref or "-")],  # type: ignore[arg-type]
            )
            log.info("whatsapp reply waits for the reporter; template sent")
        return done

    def _send_item(self, item: Any) -> int:
        self._deliver(item.route, Outcome(item.replies))
        self.service.outbox_sent(item.id)
        with self._guard:
            self._waiting.pop(item.id, None)
        return 1

    def _deliver_waiting(self, wa_id: str) -> None:
        """The reporter wrote: the 24-hour window is open, so waiting replies go out now."""
        with self._guard:
            mine = [i for i in self._waiting.values() if i.route == wa_id]
        for item in mine:
            self._send_item(item)

    async def _outbox_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.outbox_interval)
            try:
                await asyncio.to_thread(self.deliver_outbox)
            except Exception as exc:
                log.error("whatsapp outbox delivery failed (%s)", type(exc).__name__)

    async def _startup(self) -> None:
        await self.restore()
        if self.settings.outbox_interval > 0:
            self._outbox_task = asyncio.create_task(self._outbox_loop())

    async def _shutdown(self) -> None:
        if self._outbox_task is not None:
            self._outbox_task.cancel()
        await self.idle()
        await asyncio.to_thread(self._locks.dispose)
        self._session.close()

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self._startup()
        try:
            yield
        finally:
            await self._shutdown()

    def create_app(self, path: str = "/whatsapp") -> Starlette:
        return Starlette(
            routes=[
                Route(path, self.verify, methods=["GET"]),
                Route(path, self.receive, methods=["POST"]),
            ],
            lifespan=self.lifespan,
        )
