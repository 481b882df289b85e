"""Telegram's webhook delivery for the loopback fake, with a load balancer in front of workers.

Telegram POSTs each update (JSON, with the `X-Telegram-Bot-Api-Secret-Token` header) to the one
URL given in setWebhook, over up to `max_connections` (default 40) parallel connections, and
delivers an update again when the POST failed. Several bot workers behind that URL sit behind a
load balancer; `WebhookDispatcher` plays both parts: each delivery goes to the worker with the
fewest deliveries in flight (ties in turn), and a connection error, a timeout or a 5xx answer
is retried after a growing pause (possibly on the other worker, as a load balancer would).
A 4xx answer (a wrong secret, say) is not retried: it is counted in `refused`. A kept-alive
connection the worker closed while it was idle (a worker stopped or killed) is found dead on
its next POST, as HTTP clients find it: that POST is made again at once on a new connection
(counted in `reconnects`, not `retries`), and only if that fails too does the pause begin.

Use with the fake: `fake.webhook_delivery = WebhookDispatcher(urls, secret).start().submit`.
Threads and `http.client` only (keep-alive connections), like the fake itself.
"""

from __future__ import annotations

import http.client
import json
import queue
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

__all__ = ["WebhookDispatcher"]

_Item = tuple[dict[str, Any], int]  # the update and its attempt number


class WebhookDispatcher:
    def __init__(
        self,
        urls: Sequence[str],
        secret: str | None,
        connections: int = 40,
        timeout: float = 10.0,
        max_attempts: int = 8,
    ) -> None:
        if not urls:
            raise ValueError("a webhook dispatcher needs at least one URL")
        self.urls = list(urls)
        self.secret = secret
        self.timeout = timeout
        self.max_attempts = max_attempts
        self._queue: queue.Queue[_Item | None] = queue.Queue()
        self._lock = threading.Lock()
        self._busy = [0] * len(self.urls)
        self._turn = 0
        self.delivered = [0] * len(self.urls)  # 2xx answers, per URL
        self.accepted: set[int] = set()  # update ids some worker answered 2xx
        self.retries = 0  # deliveries made again after a connection error, timeout or 5xx
        self.reconnects = 0  # POSTs made again at once: a kept-alive connection was found dead
        self.refused: list[int] = []  # update ids answered 4xx (not retried)
        self.lost: list[int] = []  # update ids given up after max_attempts
        self._threads = [
            threading.Thread(target=self._run, name=f"fake-webhook-{n}", daemon=True)
            for n in range(max(1, connections))
        ]

    def start(self) -> WebhookDispatcher:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=self.timeout + 1)

    def submit(self, update: dict[str, Any]) -> None:
        """Deliver this update (called by the fake for every pushed update)."""
        self._queue.put((update, 1))

    def _pick(self) -> int:
        with self._lock:
            count = len(self.urls)
            order = [(self._turn + k) % count for k in range(count)]
            index = min(order, key=lambda i: self._busy[i])
            self._turn = (index + 1) % count
            self._busy[index] += 1
            return index

    def _run(self) -> None:
        conns: dict[int, http.client.HTTPConnection] = {}
        while True:
            item = self._queue.get()
            if item is None:
                for conn in conns.values():
                    conn.close()
                return
            update, attempt = item
            index = self._pick()
            try:
                status = self._post(conns, index, update)
            finally:
                with self._lock:
                    self._busy[index] -= 1
            uid = int(update.get("update_id", 0))
            if 200 <= status < 300:
                with self._lock:
                    self.delivered[index] += 1
                    self.accepted.add(uid)
            elif 400 <= status < 500:
                with self._lock:
                    self.refused.append(uid)
            elif attempt >= self.max_attempts:
                with self._lock:
                    self.lost.append(uid)
            else:  # 0 (no answer) or 5xx: again, later
                with self._lock:
                    self.retries += 1
                delay = min(0.1 * 2 ** (attempt - 1), 5.0)
                timer = threading.Timer(delay, self._queue.put, args=((update, attempt + 1),))
                timer.daemon = True
                timer.start()

    def _post(
        self, conns: dict[int, http.client.HTTPConnection], index: int, update: dict[str, Any]
    ) -> int:
        """One POST on this thread's keep-alive connection to that URL; 0 if no answer. A
        reused connection the worker had closed (no answer at all, or reset) is replaced by a
        new one and the POST made once more, at once."""
        reused = index in conns
        status, closed = self._post_once(conns, index, update)
        if closed and reused:
            with self._lock:
                self.reconnects += 1
            status, _ = self._post_once(conns, index, update)
        return status

    def _post_once(
        self, conns: dict[int, http.client.HTTPConnection], index: int, update: dict[str, Any]
    ) -> tuple[int, bool]:
        """The status (0 if no answer), and whether the worker had closed the connection."""
        parts = urlsplit(self.urls[index])
        conn = conns.get(index)
        if conn is None:
            conn = http.client.HTTPConnection(
                parts.hostname or "127.0.0.1", parts.port or 80, timeout=self.timeout
            )
            conns[index] = conn
        headers = {"Content-Type": "application/json"}
        if self.secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.secret
        try:
            conn.request("POST", parts.path or "/", json.dumps(update).encode(), headers)
            response = conn.getresponse()
            response.read()
            if response.will_close:
                conn.close()
                del conns[index]
            return int(response.status), False
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            del conns[index]
            # closed by the worker, not timed out: what a dead kept-alive connection gives
            closed = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
            return 0, isinstance(exc, closed)
