"""A loopback fake of the WhatsApp Cloud API (Graph API) speaking its real JSON, for tests.

Served: `POST /v{V}/{PHONE_ID}/messages` (text, interactive buttons and lists, audio by media
id, templates), `POST /v{V}/{PHONE_ID}/media` (multipart upload), `GET /v{V}/{MEDIA_ID}` (the
media URL object) and `GET /media/{MEDIA_ID}` (the bytes, with the bearer token), all with the
`Authorization: Bearer TOKEN` check. `webhook_body()` builds the webhook POST WhatsApp sends
(object `whatsapp_business_account`, entry → changes → value → messages), `sign()` its
`X-Hub-Signature-256`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes import POLL_SECONDS

TOKEN = "EAAtesttoken"
PHONE_ID = "106540352242922"
WABA_ID = "102290129340398"
APP_SECRET = "0123456789abcdef0123456789abcdef"
VERSION = "23.0"


@dataclass
class Sent:
    to: str
    type: str
    body: dict[str, Any]

    @property
    def text(self) -> str:
        if self.type == "text":
            return str(self.body["text"]["body"])
        if self.type == "interactive":
            return str(self.body["interactive"]["body"]["text"])
        return ""

    def option_ids(self) -> list[str]:
        if self.type != "interactive":
            return []
        action = self.body["interactive"]["action"]
        if "buttons" in action:
            return [b["reply"]["id"] for b in action["buttons"]]
        return [r["id"] for s in action["sections"] for r in s["rows"]]


class FakeCloudAPI:
    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.uploads: dict[str, tuple[str, bytes]] = {}  # media id -> (mime, bytes)
        self.media: dict[str, tuple[str, bytes]] = {}  # what reporters "sent"
        self.unauthorised = 0
        self._n = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_SECONDS,), daemon=True
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v{VERSION}"

    def start(self) -> FakeCloudAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, prefix: str) -> str:
        with self._lock:
            self._n += 1
            return f"{prefix}{self._n:06d}"

    def add_media(self, data: bytes, mime: str) -> str:
        media_id = self._next("9100")
        self.media[media_id] = (mime, data)
        return media_id

    def sent_to(self, wa_id: str) -> list[Sent]:
        with self._lock:
            return [s for s in self.sent if s.to == wa_id]

    # ---- the webhook side ------------------------------------------------------------------

    def webhook_body(self, wa_id: str, message: dict[str, Any], name: str = "Reporter") -> bytes:
        msg = {
            "from": wa_id,
            "id": self._next("wamid.HBgL"),
            "timestamp": str(int(time.time())),
            **message,
        }
        return json.dumps(
            {
                "object": "whatsapp_business_account",
                "entry": [
                    {
                        "id": WABA_ID,
                        "changes": [
                            {
                                "field": "messages",
                                "value": {
                                    "messaging_product": "whatsapp",
                                    "metadata": {
                                        "display_phone_number": "15550001234",
                                        "phone_number_id": PHONE_ID,
                                    },
                                    "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                                    "messages": [msg],
                                },
                            }
                        ],
                    }
                ],
            }
        ).encode()

    @staticmethod
    def sign(body: bytes, secret: str = APP_SECRET) -> str:
        return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()

    # ---- the API side ----------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for
            # the client's delayed ACK (~40 ms on Linux) on every keep-alive answer. Real servers
            # do not behave like that, so neither does the fake (as the Telegram fake).
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any, ctype: str = "application/json") -> None:
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorised(self) -> bool:
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    fake.unauthorised += 1
                    self._reply(
                        401,
                        {
                            "error": {
                                "message": "Invalid OAuth access token.",
                                "type": "OAuthException",
                                "code": 190,
                            }
                        },
                    )
                    return False
                return True

            def do_GET(self) -> None:
                if not self._authorised():
                    return
                parts = self.path.split("?")[0].strip("/").split("/")
                if parts[0] == "media" and parts[1] in fake.media:
                    mime, data = fake.media[parts[1]]
                    self._reply(200, data, mime)
                    return
                if len(parts) == 2 and parts[1] in fake.media:
                    mime, data = fake.media[parts[1]]
                    self._reply(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "url": f"http://127.0.0.1:{fake.port}/media/{parts[1]}",
                            "mime_type": mime,
                            "sha256": hashlib.sha256(data).hexdigest(),
                            "file_size": len(data),
                            "id": parts[1],
                        },
                    )
                    return
                self._reply(
                    404,
                    {
                        "error": {
                            "message": "Unsupported get request",
                            "type": "GraphMethodException",
                            "code": 100,
                        }
                    },
                )

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self._authorised():
                    return
                parts = self.path.strip("/").split("/")
                if len(parts) == 3 and parts[1] == PHONE_ID and parts[2] == "media":
                    message = BytesParser(policy=HTTP).parsebytes(
                        b"Content-Type: "
                        + self.headers["Content-Type"].encode()
                        + b"\r\n\r\n"
                        + raw
                    )
                    data, mime = b"", "application/octet-stream"
                    for part in message.iter_parts():
                        if part.get_param("name", header="content-disposition") == "file":
                            data = part.get_payload(decode=True) or b""
                            mime = part.get_content_type()
                    media_id = fake._next("7700")
                    fake.uploads[media_id] = (mime, data)
                    self._reply(200, {"id": media_id})
                    return
                if len(parts) == 3 and parts[1] == PHONE_ID and parts[2] == "messages":
                    body = json.loads(raw)
                    if body.get("messaging_product") != "whatsapp" or "to" not in body:
                        self._reply(
                            400,
                            {
                                "error": {
                                    "message": "(#100) Invalid parameter",
                                    "type": "OAuthException",
                                    "code": 100,
                                }
                            },
                        )
                        return
                    if body.get("type") == "read" or body.get("status") == "read":
                        self._reply(200, {"success": True})
                        return
                    with fake._lock:
                        fake.sent.append(Sent(str(body["to"]), str(body.get("type", "text")), body))
                    self._reply(
                        200,
                        {
                            "messaging_product": "whatsapp",
                            "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                            "messages": [{"id": fake._next("wamid.OUT")}],
                        },
                    )
                    return
                self._reply(404, {"error": {"message": "Unknown path", "code": 100}})

        return Handler
