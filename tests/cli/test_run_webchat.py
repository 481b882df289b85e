"""`sanad run webchat` as operators start it: a real process on the loopback serving the
first question, and a bad setting stopping it with one sentence and exit code 2."""

from __future__ import annotations

import socket
import subprocess
import time

import httpx

from tests import preloaded_sanad
from tests.cli.conftest import sanad


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_serves_the_first_question(home_env: dict[str, str]) -> None:
    port = _free_port()
    proc = preloaded_sanad.PreloadedProcess(
        ["run", "webchat", "--port", str(port)],
        home_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
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
    out = sanad(
        {**home_env, "SANAD_WEBCHAT_SESSION_PER_MINUTE": "fast"}, "run", "webchat", check=False
    )
    assert out.returncode == 2
    assert (
        out.stderr.strip() == "sanad: SANAD_WEBCHAT_SESSION_PER_MINUTE must be a number, not 'fast'"
    )


def test_run_whatsapp_answers_metas_verification(home_env: dict[str, str]) -> None:
    port = _free_port()
    env = {
        **home_env,
        "SANAD_WHATSAPP_TOKEN": "EAAtoken",
        "SANAD_WHATSAPP_PHONE_ID": "1065",
        "SANAD_WHATSAPP_APP_SECRET": "secret",
        "SANAD_WHATSAPP_VERIFY_TOKEN": "verify-me",
        "SANAD_WHATSAPP_API_URL": "http://127.0.0.1:9/v23.0",
    }
    proc = preloaded_sanad.PreloadedProcess(
        ["run", "whatsapp", "--port", str(port)],
        env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline, answer = time.monotonic() + 60, None
        params = {
            "hub.mode": "subscribe",
            "hub.verify_token": "verify-me",
            "hub.challenge": "424242",
        }
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/whatsapp", params=params, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert answer is not None and answer.status_code == 200 and answer.text == "424242"
        unsigned = httpx.post(f"http://127.0.0.1:{port}/whatsapp", content=b"{}")
        assert unsigned.status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_run_whatsapp_without_settings_is_one_sentence(home_env: dict[str, str]) -> None:
    out = sanad(home_env, "run", "whatsapp", check=False)
    assert out.returncode == 2 and out.stderr.startswith("sanad: set SANAD_WHATSAPP_TOKEN")
