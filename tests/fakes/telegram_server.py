"""A small loopback Telegram Bot API server that speaks what python-telegram-bot 22.8 sends.

Threaded stdlib HTTP server (no event loop of its own), so it can serve a PTB client running in
the test's loop or in a subprocess. Calls are `POST /bot<TOKEN>/<method>` with form-encoded
bodies (non-string values JSON-encoded), answered `{"ok": true, "result": ...}`; files are
`GET /file/bot<TOKEN>/<file_path>`. Every call is recorded (method + decoded params).

Tests inject updates (`send_text`, `press`, `send_photo`, `send_voice`, `send_document`), make
a method answer 429 (`fail_next`), hold a method until released (`hold`), and read what the
bot sent (`sent`, `calls_of`, `chat_messages`). Updates wait for getUpdates, or, when
`webhook_delivery` is set (e.g. `telegram_webhook.WebhookDispatcher.submit`), are pushed to it.
`record_calls=False` keeps `calls` empty (long load runs).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote

from tests.fakes import POLL_SECONDS

TOKEN = "123456:TEST-token-for-the-loopback-fake"
BOT_ID = 123456
_JSON_PARAMS = {
    "reply_markup",
    "message_ids",
    "commands",
    "allowed_updates",
    "scope",
    "entities",
    "link_preview_options",
    "reply_parameters",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Failure:
    status: int
    retry_after: int | None
    description: str


class FakeTelegram:
    def __init__(self, token: str = TOKEN, record_calls: bool = True) -> None:
        self.token = token
        self.record_calls = record_calls
        self.calls: list[Call] = []
        self._lock = threading.Condition()
        self._updates: list[dict[str, Any]] = []
        self._next_update = 1000
        self._next_message: dict[int, int] = {}
        self._next_query = 1
        self.files: dict[str, bytes] = {}
        self.chat_messages: dict[int, dict[int, dict[str, Any]]] = {}  # chat → id → message
        self.deleted: dict[int, set[int]] = {}
        self.undeletable: set[int] = set()  # message ids deleteMessages will refuse
        self.webhook: dict[str, Any] | None = None
        self._failures: dict[str, list[_Failure]] = {}
        self._holds: dict[str, threading.Event] = {}
        self.held: dict[str, threading.Event] = {}  # set when a held call arrived
        self.confirmed_offset = 0
        self.on_call: Any = None  # optional hook(method, params), called in the server thread
        # Whether the bot has finished with an update it confirmed: a bot that confirms on
        # receipt (its own inbox) tells tests through this predicate (see tests/bot/conftest).
        self.answered: Any = lambda update_id: True
        self.webhook_delivery: Any = None  # optional deliver(update): then no getUpdates queue
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.handle_error = lambda request, address: None  # type: ignore[method-assign]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_SECONDS,), daemon=True
        )

    # ---- life cycle ------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    def start(self) -> FakeTelegram:
        self._thread.start()
        return self

    def stop(self) -> None:
        for event in self._holds.values():
            event.set()
        with self._lock:
            self._lock.notify_all()
        self._server.shutdown()
        self._server.server_close()

    # ---- what tests inject -----------------------------------------------------------------

    def _user(self, user_id: int, lang: str | None) -> dict[str, Any]:
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": "R"}
        if lang:
            user["language_code"] = lang
        return user

    def _message(self, user_id: int, lang: str | None, **extra: Any) -> dict[str, Any]:
        with self._lock:
            mid = self._new_message_id(user_id)
        msg = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private"},
            "from": self._user(user_id, lang),
            **extra,
        }
        with self._lock:
            self.chat_messages.setdefault(user_id, {})[mid] = {**msg, "by": "user"}
        return msg

    def push_update(self, body: dict[str, Any]) -> int:
        deliver = self.webhook_delivery
        with self._lock:
            if "update_id" not in body:
                self._next_update += 1
            update = {"update_id": self._next_update, **body}
            if deliver is None:
                self._updates.append(update)
                self._lock.notify_all()
        if deliver is not None:
            deliver(update)
        return int(update["update_id"])

    def send_text(self, user_id: int, text: str, lang: str | None = None) -> int:
        msg = self._message(user_id, lang, text=text)
        if text.startswith("/"):
            cmd = text.split()[0]
            msg["entities"] = [{"type": "bot_command", "offset": 0, "length": len(cmd)}]
        return self.push_update({"message": msg})

    def press(
        self, user_id: int, data: str, message_id: int | None = None, lang: str | None = None
    ) -> int:
        """Press an inline button on a bot message (by default the newest with a keyboard)."""
        with self._lock:
            msgs = self.chat_messages.get(user_id, {})
            if message_id is None:
                message_id = max(
                    i for i, m in msgs.items() if m["by"] == "bot" and m.get("reply_markup")
                )
            bot_msg = {k: v for k, v in msgs[message_id].items() if k != "by"}
            qid = str(self._next_query)
            self._next_query += 1
        query = {
            "id": qid,
            "from": self._user(user_id, lang),
            "chat_instance": "ci",
            "data": data,
            "message": bot_msg,
        }
        return self.push_update({"callback_query": query})

    def add_file(self, data: bytes, path: str) -> str:
        file_id = f"F{len(self.files) + 1}-{path.replace('/', '_')}"
        self.files[file_id] = data
        self._file_paths = getattr(self, "_file_paths", {})
        self._file_paths[file_id] = path
        return file_id

    def send_photo(self, user_id: int, data: bytes, size: int | None = None) -> int:
        fid = self.add_file(data, f"photos/file_{len(self.files)}.jpg")
        photo = [
            {
                "file_id": fid,
                "file_unique_id": fid + "u",
                "width": 90,
                "height": 90,
                "file_size": len(data) if size is None else size,
            }
        ]
        return self.push_update({"message": self._message(user_id, None, photo=photo)})

    def send_voice(self, user_id: int, data: bytes, duration: int = 3) -> int:
        fid = self.add_file(data, f"voice/file_{len(self.files)}.oga")
        voice = {
            "file_id": fid,
            "file_unique_id": fid + "u",
            "duration": duration,
            "mime_type": "audio/ogg",
            "file_size": len(data),
        }
        return self.push_update({"message": self._message(user_id, None, voice=voice)})

    def send_document(
        self, user_id: int, data: bytes, name: str, mime: str, size: int | None = None
    ) -> int:
        fid = self.add_file(data, f"documents/file_{len(self.files)}")
        doc = {
            "file_id": fid,
            "file_unique_id": fid + "u",
            "file_name": name,
            "mime_type": mime,
            "file_size": len(data) if size is None else size,
        }
        return self.push_update({"message": self._message(user_id, None, document=doc)})

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        description: str = "Too Many Requests: retry later",
        times: int = 1,
    ) -> None:
        with self._lock:
            self._failures.setdefault(method, []).extend(
                [_Failure(status, retry_after, description)] * times
            )

    def hold(self, method: str) -> threading.Event:
        """Make `method` wait (unanswered) until the returned event is set."""
        release = threading.Event()
        self._holds[method] = release
        self.held[method] = threading.Event()
        return release

    def release(self, method: str) -> None:
        """Stop holding `method` and let any waiting call through."""
        event = self._holds.pop(method, None)
        if event is not None:
            event.set()

    # ---- what tests read -------------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Params of every sendMessage (to one chat, if given), in order."""
        return [
            c.params
            for c in self.calls_of("sendMessage")
            if chat_id is None or int(c.params["chat_id"]) == chat_id
        ]

    def wait_for(self, predicate: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.005)
        raise AssertionError("the fake Telegram server did not see what the test waited for")

    def wait_answered(self, update_id: int, timeout: float = 10.0) -> None:
        """Until the bot has confirmed `update_id` and finished with it."""
        self.wait_for(
            lambda: self.confirmed_offset > update_id and self.answered(update_id), timeout
        )

    def visible(self, chat_id: int) -> dict[int, dict[str, Any]]:
        """Messages still shown in the chat (not deleted)."""
        with self._lock:
            gone = self.deleted.get(chat_id, set())
            return {i: m for i, m in self.chat_messages.get(chat_id, {}).items() if i not in gone}

    # ---- the API ---------------------------------------------------------------------------

    def _new_message_id(self, chat_id: int) -> int:
        self._next_message[chat_id] = self._next_message.get(chat_id, 0) + 1
        return self._next_message[chat_id]

    def _bot_user(self) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Sanad", "username": "sanad_test_bot"}

    def api(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            if self.record_calls:
                self.calls.append(Call(method, params))
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure is not None:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": failure.status,
                "description": failure.description,
            }
            if failure.retry_after is not None:
                body["parameters"] = {"retry_after": failure.retry_after}
            return failure.status, body
        release = self._holds.get(method)
        if release is not None:
            self.held[method].set()
            release.wait(timeout=60)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        result = handler(params)
        if self.on_call is not None:
            self.on_call(method, params)
        if isinstance(result, tuple):
            return result
        return 200, {"ok": True, "result": result}

    def _m_getMe(self, p: dict[str, Any]) -> Any:
        return self._bot_user()

    def _m_deleteWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = None
        return True

    def _m_setWebhook(self, p: dict[str, Any]) -> Any:
        self.webhook = dict(p)
        return True

    def _m_setMyCommands(self, p: dict[str, Any]) -> Any:
        return True

    def _m_getUpdates(self, p: dict[str, Any]) -> Any:
        if self.webhook:
            return 409, {
                "ok": False,
                "error_code": 409,
                "description": "Conflict: can't use getUpdates while webhook is active",
            }
        offset = int(p.get("offset") or 0)
        timeout = float(p.get("timeout") or 0)
        limit = int(p.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self._lock:
            if offset:
                self.confirmed_offset = max(self.confirmed_offset, offset)
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while True:
                ready = [u for u in self._updates if u["update_id"] >= offset][:limit]
                left = deadline - time.monotonic()
                if ready or left <= 0:
                    return ready
                self._lock.wait(timeout=min(left, 0.5))

    def _m_sendMessage(self, p: dict[str, Any]) -> Any:
        chat_id = int(p["chat_id"])
        with self._lock:
            mid = self._new_message_id(chat_id)
            msg: dict[str, Any] = {
                "message_id": mid,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": self._bot_user(),
                "text": p.get("text", ""),
            }
            if p.get("reply_markup"):
                msg["reply_markup"] = p["reply_markup"]
            self.chat_messages.setdefault(chat_id, {})[mid] = {**msg, "by": "bot"}
        return msg

    def _m_sendVoice(self, p: dict[str, Any]) -> Any:
        chat_id = int(p["chat_id"])
        data = p.get("voice")
        if not isinstance(data, bytes):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: there is no voice in the request",
            }
        with self._lock:
            mid = self._new_message_id(chat_id)
            msg: dict[str, Any] = {
                "message_id": mid,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": self._bot_user(),
                "voice": {
                    "file_id": f"voice-{chat_id}-{mid}",
                    "file_unique_id": f"v{mid}",
                    "duration": int(p.get("duration") or 1),
                    "mime_type": "audio/ogg",
                    "file_size": len(data),
                },
            }
            self.chat_messages.setdefault(chat_id, {})[mid] = {**msg, "by": "bot", "data": data}
        return msg

    def _m_editMessageText(self, p: dict[str, Any]) -> Any:
        chat_id, mid = int(p["chat_id"]), int(p["message_id"])
        with self._lock:
            msg = self.chat_messages.get(chat_id, {}).get(mid)
            if msg is None or mid in self.deleted.get(chat_id, set()):
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message to edit not found",
                }
            msg["text"] = p.get("text", msg.get("text"))
            if "reply_markup" in p:
                msg["reply_markup"] = p["reply_markup"]
            else:
                msg.pop("reply_markup", None)
            return {k: v for k, v in msg.items() if k != "by"}

    def _m_editMessageReplyMarkup(self, p: dict[str, Any]) -> Any:
        chat_id, mid = int(p["chat_id"]), int(p["message_id"])
        with self._lock:
            msg = self.chat_messages.get(chat_id, {}).get(mid)
            if msg is None:
                return 400, {
                    "ok": False,
                    "error_code": 400,
                    "description": "Bad Request: message to edit not found",
                }
            if p.get("reply_markup"):
                msg["reply_markup"] = p["reply_markup"]
            else:
                msg.pop("reply_markup", None)
            return {k: v for k, v in msg.items() if k != "by"}

    def _m_answerCallbackQuery(self, p: dict[str, Any]) -> Any:
        return True

    def _delete(self, chat_id: int, ids: list[int]) -> bool:
        with self._lock:
            known = self.chat_messages.get(chat_id, {})
            gone = self.deleted.setdefault(chat_id, set())
            ok = [i for i in ids if i in known and i not in gone and i not in self.undeletable]
            gone.update(ok)
            return len(ok) == len(ids)

    def _m_deleteMessage(self, p: dict[str, Any]) -> Any:
        chat_id, mid = int(p["chat_id"]), int(p["message_id"])
        if mid in self.deleted.get(chat_id, set()) or mid not in self.chat_messages.get(
            chat_id, {}
        ):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message to delete not found",
            }
        if not self._delete(chat_id, [mid]):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message can't be deleted",
            }
        return True

    def _m_deleteMessages(self, p: dict[str, Any]) -> Any:
        ids = [int(i) for i in p["message_ids"]]
        if not 1 <= len(ids) <= 100:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: too many messages to delete",
            }
        # Messages that are gone already are skipped. One that cannot be deleted (older than
        # 48 hours: `undeletable`) fails the call after the others were deleted — a modelling
        # choice: the bot then retries one by one to count what stayed, and its text tells the
        # reporter to delete the chat if anything is still visible.
        if not self._delete(int(p["chat_id"]), ids) and self.undeletable & set(ids):
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: message can't be deleted",
            }
        return True

    def _m_getFile(self, p: dict[str, Any]) -> Any:
        fid = p["file_id"]
        if fid not in self.files:
            return 400, {
                "ok": False,
                "error_code": 400,
                "description": "Bad Request: invalid file_id",
            }
        return {
            "file_id": fid,
            "file_unique_id": fid + "u",
            "file_size": len(self.files[fid]),
            "file_path": self._file_paths[fid],
        }

    def download(self, path: str) -> bytes | None:
        for fid, fpath in getattr(self, "_file_paths", {}).items():
            if fpath == path:
                return self.files[fid]
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for
            # the client's delayed ACK (~40 ms on Linux) on every keep-alive answer. Real servers
            # do not behave like that, so neither does the fake.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _reply(self, status: int, body: bytes, ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                prefix = f"/file/bot{fake.token}/"
                path = unquote(self.path)  # PTB percent-encodes the token's colon here
                if not path.startswith(prefix):
                    self._reply(404, b"{}")
                    return
                data = fake.download(path[len(prefix) :])
                if data is None:
                    self._reply(404, b"{}")
                else:
                    self._reply(200, data, "application/octet-stream")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                if len(raw) < length:
                    # The client died mid-request (a test SIGKILLs the bot): like a real
                    # server, act on nothing half-received.
                    self.close_connection = True
                    return
                parts = self.path.split("/")
                if len(parts) != 3 or not parts[1].startswith("bot"):
                    self._reply(404, b'{"ok":false,"error_code":404,"description":"Not Found"}')
                    return
                if parts[1][3:] != fake.token:
                    self._reply(401, b'{"ok":false,"error_code":401,"description":"Unauthorized"}')
                    return
                params = _decode(raw, self.headers.get("Content-Type", ""))
                status, body = fake.api(parts[2], params)
                self._reply(status, json.dumps(body).encode())

        return Handler


def _decode(raw: bytes, ctype: str) -> dict[str, Any]:
    if not raw:
        return {}
    if ctype.startswith("application/json"):
        return dict(json.loads(raw))
    if ctype.startswith("multipart/form-data"):  # an uploaded file (sendVoice, sendPhoto)
        from email.parser import BytesParser
        from email.policy import HTTP

        message = BytesParser(policy=HTTP).parsebytes(
            b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + raw
        )
        parts: dict[str, Any] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                parts[str(name)] = payload
            else:
                parts[str(name)] = payload.decode("utf-8")
        return parts
    out: dict[str, Any] = {}
    for key, values in parse_qs(raw.decode("utf-8"), keep_blank_values=True).items():
        value: Any = values[-1]
        if key in _JSON_PARAMS or (value[:1] in "[{" and value[-1:] in "]}"):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        elif value in ("true", "false"):
            value = value == "true"
        out[key] = value
    return out


def webhook_post(url: str, update: dict[str, Any], secret: str | None) -> int:
    """POST one update to a webhook the way Telegram does; return the HTTP status."""
    import urllib.error
    import urllib.request

    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    req = urllib.request.Request(
        url, data=json.dumps(update).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
