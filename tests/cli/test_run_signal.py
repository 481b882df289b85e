"""`sanad run signal`: the real command against the loopback
signal-cli-rest-api, and one clear sentence when the service cannot be used."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest

from tests import preloaded_sanad
from tests.fakes.signal_server import FakeSignalServer

from .conftest import TIMEOUT, sanad

pytestmark = pytest.mark.slow
T = TypeVar("T")
NUMBER = "+12025550100"
REPORTER = "6f1b0c1e-3a52-4f4e-9a57-2c7d2d0c9f11"


class ThreadedFake:
    """The fake server on its own event loop in a thread, so a subprocess can talk to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = FakeSignalServer(NUMBER)
        self.call(self.server.start())

    def call(self, coro: Any, timeout: float = TIMEOUT) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def until(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        self.call(self.server.wait_for(predicate, timeout), timeout + 1)

    def close(self) -> None:
        self.call(self.server.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(TIMEOUT)
        self.loop.close()


@pytest.fixture
def fake() -> Iterator[ThreadedFake]:
    threaded = ThreadedFake()
    yield threaded
    threaded.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serves_a_reporter_and_stops_cleanly(home_env: dict[str, str], fake: ThreadedFake) -> None:
    env = {**home_env, "SANAD_SIGNAL_SERVICE": fake.server.service, "SANAD_SIGNAL_NUMBER": NUMBER}
    proc = preloaded_sanad.PreloadedProcess(
        ["run", "signal"], env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        fake.until(lambda: fake.server.receive_connections > 0)
        fake.call(fake.server.push(fake.server.frame(REPORTER, "hello")))
        fake.until(lambda: len(fake.server.sent_to(REPORTER)) >= 1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and REPORTER not in err + out
    assert fake.server.sent_to(REPORTER)[0]["message"].endswith("1. العربية\n2. English")
    assert fake.server.record.contacts == [{"recipient": REPORTER, "expiration_in_seconds": 86400}]


def test_unreachable_service_is_one_sentence_and_exit_2(home_env: dict[str, str]) -> None:
    env = {
        **home_env,
        "SANAD_SIGNAL_SERVICE": f"127.0.0.1:{_free_port()}",
        "SANAD_SIGNAL_NUMBER": NUMBER,
    }
    started = time.monotonic()
    proc = sanad(env, "run", "signal", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("sanad: the Signal service at 127.0.0.1:")
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr
    assert time.monotonic() - started < 30


def test_bad_settings_are_one_sentence_and_exit_2(home_env: dict[str, str]) -> None:
    env = {
        **home_env,
        "SANAD_SIGNAL_SERVICE": "http://127.0.0.1:8080",
        "SANAD_SIGNAL_NUMBER": NUMBER,
    }  # every value is checked in tests/bot too
    proc = sanad(env, "run", "signal", check=False)
    assert proc.returncode == 2
    assert proc.stderr.startswith("sanad: SANAD_SIGNAL_SERVICE must be host:port")
    assert len(proc.stderr.strip().splitlines()) == 1


def test_a_service_in_the_wrong_mode_is_refused(
    home_env: dict[str, str], fake: ThreadedFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes import signal_server

    monkeypatch.setitem(signal_server.ABOUT, "mode", "normal")
    env = {**home_env, "SANAD_SIGNAL_SERVICE": fake.server.service, "SANAD_SIGNAL_NUMBER": NUMBER}
    proc = sanad(env, "run", "signal", check=False)
    assert proc.returncode == 2
    assert "json-rpc" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
