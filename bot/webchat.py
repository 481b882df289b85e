"""The web chat channel (`sanad run webchat`): the same IntakeService as every other channel,
as plain HTML forms that work with JavaScript off (Tor Browser's "Safest" level).

Page structure (contracts.md): each page shows the bot's messages and, for a question, one
`<form method="post" data-field data-kind>`; options are submit buttons `name="answer"`, a
multi question checkboxes, free text a textarea, files an `<input type="file" name="file">`;
after submission an element carries `data-case-ref` and `data-receipt`; quick exit is a form
with `data-action="quick-exit"` on every page.

What the browser holds: one cookie, the session token (HttpOnly, SameSite=Strict, no expiry
date, so closing Tor Browser forgets it). The token is random, with a MAC under a key derived
from the home's pepper, so only this server mints tokens and every host of a home accepts
them; the service turns it into the keyed user handle drafts use, as it does chat ids. No
third-party resources, `Cache-Control: no-store`, a CSP without scripts.

Exactly once: every rendered form carries a fresh nonce, MACed to the session; the event id
is derived from the two. A form sent twice (a double click, a resubmission after a network
error or a server crash) is the same event, which the service answers as a replay and never
stores twice. The browser gets its answer only after the service committed, so nothing is
confirmed early and no inbox is needed; the answer page is kept in memory only (POST, then a
redirect to GET /), and re-created from the sealed draft after a restart or on another host.

Rate limits without IP addresses (they are all the same over Tor): a per-session budget of
messages, and a server-wide budget of new conversations.

Files stream from the request body into the attachment encryption (`IntakeService.file`) in
a worker thread: nothing of an upload is spooled to disk, unlike a framework's form parser.

Nothing here logs what a reporter wrote nor their token.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import queue
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot.commands import parse_command
from bot.webchat_settings import MAX_TEXT_CHARS, WebchatSettings
from flows import Reply
from intake import Incoming, IntakeService, Outcome

__all__ = [
    "CHANNEL",
    "COOKIE",
    "CSP",
    "HEADERS",
    "HERE",
    "MAX_FIELD_BYTES",
    "QUESTION_KINDS",
    "Bucket",
    "Tokens",
    "WebChat",
    "create_app",
    "session_key",
]

log = logging.getLogger("sanad.webchat")

CHANNEL = "webchat"
COOKIE = "sanad_chat"
HERE = Path(__file__).parent
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; media-src 'self'; "
    "script-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
MAX_FIELD_BYTES = MAX_TEXT_CHARS * 4
QUESTION_KINDS = frozenset({"choice", "multi", "text", "date", "bool", "files"})


class Bucket:
    """A token bucket: `burst` at once, refilled at `per_minute`."""

    def __init__(self, per_minute: float, burst: float, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.clock = per_minute / 60.0, burst, clock
        self.level, self.at = burst, clock()

    def take(self) -> bool:
        now = self.clock()
        self.level = min(self.burst, self.level + (now - self.at) * self.rate)
        self.at = now
        if self.level < 1:
            return False
        self.level -= 1
        return True


class Tokens:
    """Session tokens and per-form nonces, MACed under a key derived from the pepper."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _mac(self, label: str, text: str, size: int = 32) -> str:
        return hmac.new(self._key, f"{label}:{text}".encode(), hashlib.sha256).hexdigest()[:size]

    def issue(self) -> str:
        sid = secrets.token_urlsafe(24)
        return f"{sid}.{self._mac('session', sid)}"

    def session_of(self, cookie: str | None) -> str | None:
        if not cookie or len(cookie) > 120 or cookie.count(".") != 1:
            return None
        sid, mac = cookie.split(".")
        return sid if hmac.compare_digest(mac, self._mac("session", sid)) else None

    def form(self, sid: str) -> str:
        nonce = secrets.token_urlsafe(12)
        return f"{nonce}.{self._mac('form:' + sid, nonce, 24)}"

    def event_of(self, sid: str, form: str | None) -> str | None:
        """The event id a form stands for (the same for the same form sent twice), or None
        for a form of another session or none at all (which also stops cross-site posts)."""
        if not form or len(form) > 80 or form.count(".") != 1:
            return None
        nonce, mac = form.split(".")
        if not hmac.compare_digest(mac, self._mac("form:" + sid, nonce, 24)):
            return None
        return "w" + self._mac("event:" + sid, nonce)


def session_key(pepper: bytes) -> bytes:
    return hmac.new(pepper, b"sanad/v1/webchat-session", hashlib.sha256).digest()


@dataclass
class _Upload:
    """A file part on its way into the service (a worker thread seals it as it arrives)."""

    chunks: queue.Queue[bytes | None]
    future: asyncio.Future[Outcome]
    received: int = 0


class _Parts:
    """A streamed multipart body: small fields collected, the file part handed on."""

    def __init__(self) -> None:
        self.fields: dict[str, list[str]] = {}
        self.name = ""
        self.filename: str | None = None
        self.content_type = "application/octet-stream"
        self._buf = bytearray()
        self._header_field = bytearray()
        self._header_value = bytearray()
        self._headers: dict[str, str] = {}
        self.file_started = False
        self.file_data: list[bytes] = []
        self.file_done = False
        self.too_big = False

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
            "on_header_field": self._hfield,
            "on_header_value": self._hvalue,
            "on_header_end": self._hend,
            "on_headers_finished": self._headers_done,
        }

    def _part_begin(self) -> None:
        self._headers, self._buf = {}, bytearray()
        self.name, self.filename = "", None

    def _hfield(self, data: bytes, start: int, end: int) -> None:
        self._header_field += data[start:end]

    def _hvalue(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _hend(self) -> None:
        self._headers[self._header_field.decode("latin-1").lower()] = self._header_value.decode(
            "utf-8", "replace"
        )
        self._header_field, self._header_value = bytearray(), bytearray()

    def _headers_done(self) -> None:
        from python_multipart.multipart import parse_options_header

        _, params = parse_options_header(self._headers.get("content-disposition", ""))
        self.name = params.get(b"name", b"").decode("utf-8", "replace")
        raw_name = params.get(b"filename")
        if self.name == "file" and raw_name is not None:
            self.filename = raw_name.decode("utf-8", "replace")
            self.content_type = (self._headers.get("content-type") or "application/octet-stream")[
                :100
            ]
            if self.filename:
                self.file_started = True

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        if self.filename is not None:
            if self.filename:
                self.file_data.append(bytes(data[start:end]))
            return
        if len(self._buf) + (end - start) > MAX_FIELD_BYTES:
            self.too_big = True
            return
        self._buf += data[start:end]

    def _part_end(self) -> None:
        if self.filename is not None:
            if self.filename:
                self.file_done = True
            return
        self.fields.setdefault(self.name, []).append(self._buf.decode("utf-8", "replace"))


class WebChat:
    """The ASGI application of the web chat, on one IntakeService."""

    def __init__(
        self,
        service: IntakeService,
        settings: WebchatSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.settings = settings or WebchatSettings()
        self.clock = clock
        self.tokens = Tokens(session_key(service._pepper))
        self._lock = threading.Lock()
        self._pages: OrderedDict[str, list[Reply]] = OrderedDict()  # memory only
        self._budgets: OrderedDict[str, Bucket] = OrderedDict()
        self._new = Bucket(self.settings.new_per_minute, self.settings.new_burst, clock)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "webchat_templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self._skippable = {
            s.field for s in service.flows.steps.values() if s.field and not s.required
        }
        from bot import voice

        # Spoken questions (/voice): an <audio> element, which plays with JavaScript off.
        self.speaker = (
            voice.speaker_for(service.settings.home, service.flows.catalog)
            if voice.check() is None
            else None
        )
        service.voice_available = self.speaker is not None
        self._voiced: set[str] = set()  # sessions that asked for voice (memory; the draft
        # keeps the choice sealed for a restart)

    # ---- memory --------------------------------------------------------------------------

    def _remember(self, sid: str, replies: list[Reply], voice: bool | None = None) -> None:
        with self._lock:
            if voice is not None:
                (self._voiced.add if voice else self._voiced.discard)(sid)
            self._pages[sid] = replies
            self._pages.move_to_end(sid)
            while len(self._pages) > self.settings.max_sessions:
                self._pages.popitem(last=False)

    def _recall(self, sid: str) -> list[Reply] | None:
        with self._lock:
            return self._pages.get(sid)

    def _forget(self, sid: str) -> None:
        with self._lock:
            self._pages.pop(sid, None)
            self._budgets.pop(sid, None)
            self._voiced.discard(sid)

    def _spend(self, sid: str) -> bool:
        with self._lock:
            bucket = self._budgets.get(sid)
            if bucket is None:
                bucket = Bucket(
                    self.settings.session_per_minute, self.settings.session_burst, self.clock
                )
                self._budgets[sid] = bucket
                while len(self._budgets) > self.settings.max_sessions:
                    self._budgets.popitem(last=False)
            self._budgets.move_to_end(sid)
            return bucket.take()

    def _fresh_allowed(self) -> bool:
        with self._lock:
            return self._new.take()

    # ---- rendering -------------------------------------------------------------------------

    def _t(self, lang: str, key: str, **values: Any) -> str:
        return self.service.flows.text(lang, key, **values)

    def _page(
        self,
        sid: str,
        replies: list[Reply],
        lang: str,
        status: int = 200,
        notice: str | None = None,
    ) -> Response:
        question = next((r for r in reversed(replies) if r.kind in QUESTION_KINDS), None)
        lang = replies[-1].lang if replies else lang
        html = self.env.get_template("chat.html").render(
            lang=lang,
            dir="rtl" if lang == "ar" else "ltr",
            replies=replies,
            question=question,
            form=self.tokens.form(sid),
            notice=notice,
            skippable=question is not None and question.field in self._skippable,
            audio=question is not None and self.speaker is not None and sid in self._voiced,
            can_speak=self.speaker is not None,
            t=lambda key, **kw: self._t(lang, key, **kw),
        )
        return self._respond(HTMLResponse(html, status_code=status))

    def _plain(self, lang: str, key: str, status: int) -> Response:
        html = self.env.get_template("notice.html").render(
            lang=lang,
            dir="rtl" if lang == "ar" else "ltr",
            text=self._t(lang, key),
            t=lambda k, **kw: self._t(lang, k, **kw),
        )
        return self._respond(HTMLResponse(html, status_code=status))

    def _respond(self, response: Response) -> Response:
        response.headers.update(HEADERS)
        return response

    def _set_cookie(self, response: Response, token: str) -> None:
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path="/",
            secure=self.settings.secure_cookie,
        )

    @staticmethod
    def _lang_of(request: Request) -> str:
        from caseworker import negotiate

        asked = request.query_params.get("lang")
        if asked in ("ar", "en"):
            return asked
        return negotiate(request.headers.get("accept-language"))

    # ---- routes ----------------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        sid = self.tokens.session_of(request.cookies.get(COOKIE))
        lang = self._lang_of(request)
        if sid is None:
            if not self._fresh_allowed():
                return self._plain(lang, "webchat.busy", 503)
            token = self.tokens.issue()
            sid = self.tokens.session_of(token)
            assert sid is not None
            # Only an explicit ?lang= skips the language question: Tor Browser sends
            # "en-US" whatever its user reads.
            asked = request.query_params.get("lang")
            outcome = await run_in_threadpool(
                self.service.open, Incoming(CHANNEL, sid), asked if asked in ("ar", "en") else None
            )
            self._remember(sid, outcome.replies, outcome.voice)
            response = self._page(sid, outcome.replies, lang)
            self._set_cookie(response, token)
            return response
        replies = self._recall(sid)
        if replies is None:  # a restart, or another host: the sealed draft says where we are
            outcome = await run_in_threadpool(self.service.open, Incoming(CHANNEL, sid))
            replies = outcome.replies
            self._remember(sid, replies, outcome.voice)
        return self._page(sid, replies, lang)

    async def answer(self, request: Request) -> Response:
        sid = self.tokens.session_of(request.cookies.get(COOKIE))
        lang = self._lang_of(request)
        if sid is None:  # no session (cookie gone or forged): start afresh
            return self._respond(RedirectResponse("/", status_code=303))
        previous = self._recall(sid) or []
        lang = previous[-1].lang if previous else lang
        if not self._spend(sid):
            return self._page(
                sid, previous, lang, status=429, notice=self._t(lang, "webchat.slow_down")
            )
        ctype = request.headers.get("content-type", "")
        if ctype.startswith("multipart/form-data"):
            outcome = await self._multipart(request, sid, lang)
        else:
            form = await request.form(max_files=0, max_fields=50, max_part_size=MAX_FIELD_BYTES)
            fields = {k: [str(v) for v in form.getlist(k)] for k in form.keys()}
            outcome = await self._dispatch(sid, fields, None)
        if isinstance(outcome, Response):
            return outcome
        if outcome.replies and not (outcome.replayed and previous):
            self._remember(sid, outcome.replies, None if outcome.replayed else outcome.voice)
        return self._respond(RedirectResponse("/", status_code=303))

    async def _dispatch(
        self, sid: str, fields: dict[str, list[str]], after_file: Outcome | None
    ) -> Outcome | Response:
        event = self.tokens.event_of(sid, _first(fields.get("t")))
        if event is None:
            lang = (self._recall(sid) or [Reply("", "info", "ar")])[-1].lang
            return self._plain(lang, "webchat.stale_form", 400)
        answers = [a for a in fields.get("answer", []) if a.strip()]
        if not answers:
            if after_file is not None:
                return after_file
            return Outcome(self._recall(sid) or [])
        if after_file is not None:
            event += ":a"  # the file was its own event; the button pressed with it is another
        src = Incoming(CHANNEL, sid, event)
        kind = (fields.get("kind") or [""])[0]
        if len(answers) > 1 or kind == "multi":
            line = ",".join(a.strip() for a in answers)
        else:
            line = answers[0][:MAX_TEXT_CHARS]
        command = parse_command(line)
        if command is not None:
            name, arg = command
            outcome = await run_in_threadpool(self.service.command, src, name, arg)
        else:
            outcome = await run_in_threadpool(self.service.text, src, line)
        if after_file is not None:
            outcome = Outcome(
                after_file.replies + outcome.replies,
                outcome.erased,
                outcome.finished,
                outcome.case_ref,
                outcome.replayed,
            )
        return outcome

    async def _multipart(self, request: Request, sid: str, lang: str) -> Outcome | Response:
        """Parse the body as it arrives; a file part streams into the service's sealing."""
        from python_multipart.multipart import MultipartParser, parse_options_header

        _, params = parse_options_header(request.headers.get("content-type", ""))
        boundary = params.get(b"boundary")
        if not boundary:
            return self._plain(lang, "webchat.stale_form", 400)
        limit = self.service.settings.max_attachment_bytes + 256 * 1024
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            return self._plain(lang, "webchat.too_big", 413)
        parts = _Parts()
        parser = MultipartParser(boundary, parts.callbacks())  # type: ignore[arg-type]
        upload: _Upload | None = None
        async for chunk in request.stream():
            parser.write(chunk)
            if parts.too_big:
                return self._plain(lang, "webchat.too_big", 413)
            if parts.file_started and upload is None:
                event = self.tokens.event_of(sid, _first(parts.fields.get("t")))
                if event is None:
                    return self._plain(lang, "webchat.stale_form", 400)
                chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=16)
                src = Incoming(CHANNEL, sid, event)
                upload = _Upload(
                    chunks,
                    asyncio.ensure_future(
                        run_in_threadpool(
                            self.service.file,
                            src,
                            parts.filename or "file",
                            parts.content_type,
                            _drain(chunks),
                        )
                    ),
                )
            if upload is not None:
                for data in parts.file_data:
                    await asyncio.to_thread(_put, upload, data)
                parts.file_data.clear()
                if parts.file_done:
                    await asyncio.to_thread(_put, upload, None)
        parser.finalize()
        after_file = None
        if upload is not None:
            if not parts.file_done:  # the body ended inside the file: nothing is kept
                await asyncio.to_thread(_put, upload, None)
            after_file = await upload.future
        return await self._dispatch(sid, parts.fields, after_file)

    async def quick_exit(self, request: Request) -> Response:
        """Erase the draft at once, forget the session, leave to a neutral page."""
        sid = self.tokens.session_of(request.cookies.get(COOKIE))
        if sid is not None:
            await run_in_threadpool(self.service.command, Incoming(CHANNEL, sid), "exit")
            self._forget(sid)
        response = RedirectResponse("/about", status_code=303)
        response.delete_cookie(
            COOKIE, path="/", httponly=True, samesite="strict", secure=self.settings.secure_cookie
        )
        response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
        return self._respond(response)

    async def spoken(self, request: Request) -> Response:
        """The current question as an OGG/Opus voice note (bot.voice), for the <audio>."""
        sid = self.tokens.session_of(request.cookies.get(COOKIE))
        replies = self._recall(sid) if sid else None
        question = next((r for r in reversed(replies or []) if r.kind in QUESTION_KINDS), None)
        if self.speaker is None or question is None or sid not in self._voiced:
            return self._respond(Response(status_code=404))
        from bot.voice import VoiceUnavailable

        try:
            note = await run_in_threadpool(self.speaker.note, question)
        except VoiceUnavailable:
            return self._respond(Response(status_code=503))
        return self._respond(Response(note.data, media_type="audio/ogg"))

    async def neutral(self, request: Request) -> Response:
        html = self.env.get_template("about.html").render(exit_url=self.settings.exit_url)
        return self._respond(HTMLResponse(html))

    def create_app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.home, methods=["GET"]),
                Route("/", self.answer, methods=["POST"]),
                Route("/exit", self.quick_exit, methods=["POST"]),
                Route("/about", self.neutral, methods=["GET"]),
                Route("/voice.ogg", self.spoken, methods=["GET"]),
                Mount("/static", StaticFiles(directory=HERE / "webchat_static"), name="static"),
            ]
        )


def _first(values: list[str] | None) -> str | None:
    return values[0] if values else None


def _put(upload: _Upload, item: bytes | None) -> None:
    """Hand a piece to the sealing thread; give up once it stopped reading (a refusal)."""
    if item is not None:
        upload.received += len(item)
    while not upload.future.done():
        try:
            upload.chunks.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


def _drain(chunks: queue.Queue[bytes | None]) -> Iterator[bytes]:
    while True:
        item = chunks.get()
        if item is None:
            return
        yield item


def create_app(service: IntakeService, settings: WebchatSettings | None = None) -> Starlette:
    return WebChat(service, settings).create_app()
