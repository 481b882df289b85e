"""A small Rasa server fake that speaks the real HTTP API (`POST /model/parse`, `GET /status`).

`answers` maps a (normalised) text to a ranking [(intent, confidence), ...]; other texts get
`nlu_fallback`, as Rasa's FallbackClassifier answers. `status` can be set to simulate errors.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.fakes import POLL_SECONDS


@dataclass
class FakeRasa:
    answers: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    status: int = 200
    seen: list[str] = field(default_factory=list)
    url: str = ""

    def parse(self, text: str) -> dict[str, object]:
        ranking = self.answers.get(text, [("nlu_fallback", 0.4), ("greet", 0.2)])
        return {
            "text": text,
            "intent": {"name": ranking[0][0], "confidence": ranking[0][1]},
            "entities": [],
            "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
        }


def _handler(fake: FakeRasa) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes; with Nagle's algorithm on, the body waits for
        # the client's delayed ACK (~40 ms on Linux) on every keep-alive answer. Real servers
        # do not behave like that, so neither does the fake.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # quiet
            return

        def _send(self, code: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/status":
                self._send(200, {"model_file": "fake.tar.gz", "num_active_training_jobs": 0})
            else:
                self._send(404, {"status": "failure"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if self.path != "/model/parse":
                self._send(404, {"status": "failure"})
                return
            fake.seen.append(str(body.get("text")))
            if fake.status != 200:
                self._send(fake.status, {"status": "failure", "message": "boom"})
                return
            self._send(200, fake.parse(str(body.get("text", ""))))

    return Handler


@contextmanager
def fake_rasa_server(fake: FakeRasa | None = None) -> Iterator[FakeRasa]:
    """Serve `fake` on 127.0.0.1 (a free port) for the duration of the block."""
    fake = fake or FakeRasa()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    server.daemon_threads = True  # kept-alive client connections must not block the close
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(POLL_SECONDS,), daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
