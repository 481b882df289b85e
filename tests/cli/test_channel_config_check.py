"""`sanad config check` covers the web chat, WhatsApp, voice and onion service settings: good
values are reported ok, a bad one fails the check with one line naming the variable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli._onion import torrc_for
from tests.cli.conftest import home_of, sanad

WHATSAPP = {
    "SANAD_WHATSAPP_TOKEN": "EAAtoken",
    "SANAD_WHATSAPP_PHONE_ID": "106540352242922",
    "SANAD_WHATSAPP_APP_SECRET": "secret",
    "SANAD_WHATSAPP_VERIFY_TOKEN": "verify",
}


def test_good_channel_settings_pass(home_env: dict[str, str]) -> None:
    env = {**home_env, **WHATSAPP, "SANAD_WEBCHAT_SESSION_BURST": "30"}
    out = sanad(env, "config", "check")
    assert "ok     webchat    30 messages per session" in out.stdout
    assert "ok     whatsapp   phone number id 106540352242922" in out.stdout
    assert "voice" in out.stdout


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("SANAD_WEBCHAT_NEW_PER_MINUTE", "many", "SANAD_WEBCHAT_NEW_PER_MINUTE must be a number"),
        ("SANAD_WEBCHAT_EXIT_URL", "ftp://x", "SANAD_WEBCHAT_EXIT_URL must be"),
        ("SANAD_WHATSAPP_PHONE_ID", "+96170123456", "numeric ID"),
    ],
)
def test_a_bad_setting_fails_the_check(
    home_env: dict[str, str], name: str, value: str, said: str
) -> None:
    env = {**home_env, **WHATSAPP, name: value}
    out = sanad(env, "config", "check", check=False)
    assert out.returncode == 1
    assert said in out.stdout and "FAILED" in out.stdout
    assert "Traceback" not in out.stderr


@pytest.mark.skipif(
    shutil.which("tor") is None, reason="Debian's tor is not installed (apt-get install -y tor)"
)
def test_an_onion_torrc_in_the_home_is_checked_by_tor(
    home_env: dict[str, str], tmp_path: Path
) -> None:
    config = home_of(home_env) / "config"
    config.mkdir(exist_ok=True)
    good = torrc_for(tmp_path / "hs", 8090, data_dir=tmp_path / "data")
    (config / "torrc").write_text(good)
    out = sanad(home_env, "config", "check")
    assert f"ok     torrc      {config / 'torrc'}" in out.stdout
    (config / "torrc").write_text(good.replace("HiddenServicePort 80", "HiddenServicePort x"))
    out = sanad(home_env, "config", "check", check=False)
    assert out.returncode == 1 and "FAILED torrc" in out.stdout
