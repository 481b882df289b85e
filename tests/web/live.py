"""The dashboard as `sanad web` serves it: uvicorn on 127.0.0.1 with its lifespan (so the
session sweeper runs), in a thread, for tests that need real HTTP and real concurrency."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL."""
    import uvicorn

    # Made as uvicorn makes its own (getaddrinfo's TCP protocol number, not 0): asyncio sets
    # TCP_NODELAY only on such sockets' connections. Without it a kept-alive connection's
    # response (headers and body written apart) waits out the client's delayed ACK, 40 ms.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="none", access_log=False)
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not srv.started and time.time() < deadline:
        time.sleep(0.02)
    assert srv.started, "the dashboard did not start"
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)
        sock.close()


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def login(client: httpx.Client, user: str, passphrase: str, code: str) -> httpx.Response:
    page = client.get("/login")
    return client.post(
        "/login",
        data={"username": user, "passphrase": passphrase, "totp": code, "csrf": csrf_of(page.text)},
    )


def wait_until(condition: Any, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return bool(condition())
