"""`sanad run webchat` as operators start it: a real process on the loopback serving the
first question, and a bad setting stopping it with one sentence and exit code 2."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from tests.cli.conftest import sanad


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_serves_the_first_question(home_env: dict[str, str]) -> None:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "run", "webchat", "--port",
                             str(port)], env=home_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline, page = time.monotonic() + 60, None
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                page = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert page is not None, proc.stderr.read() if proc.stderr else ""
        assert page.status_code == 200
        assert 'data-field="language"' in page.text and 'data-action="quick-exit"' in page.text
        assert "server" not in {k.lower() for k in page.headers}  # no version banner
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        if proc.stderr:
            proc.stderr.close()


def test_a_bad_setting_is_one_sentence(home_env: dict[str, str]) -> None:
    out = sanad({**home_env, "SANAD_WEBCHAT_SESSION_PER_MINUTE": "fast"}, "run", "webchat",
                check=False)
    assert out.returncode == 2
    assert out.stderr.strip() == "sanad: SANAD_WEBCHAT_SESSION_PER_MINUTE must be a number, " \
                                 "not 'fast'"
