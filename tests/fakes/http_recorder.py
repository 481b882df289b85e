"""A tiny HTTP server on 127.0.0.1 that records every request and answers as told.

Stands in for the Telegram Bot API (`POST /bot<TOKEN>/sendMessage`, form body, `{"ok": true}`),
signal-cli-rest-api (`POST /v2/send`, JSON, 201) and webhook receivers. Set `status` (and
`body`) to make it fail; `hang` holds requests open to exercise timeouts.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.fakes import POLL_SECONDS


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class HttpRecorder:
    def __init__(self, status: int = 200, body: Any = None) -> None:
        self.status = status
        self.body: Any = {"ok": True, "result": {"message_id": 1}} if body is None else body
        self.requests: list[Recorded] = []
        self.hang = threading.Event()
        self.release = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length)
                recorder.requests.append(Recorded("POST", self.path, dict(self.headers), data))
                if recorder.hang.is_set():
                    recorder.release.wait(10)
                    return
                payload = json.dumps(recorder.body).encode("utf-8")
                self.send_response(recorder.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(POLL_SECONDS,), daemon=True
        )

    def __enter__(self) -> HttpRecorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(10)
