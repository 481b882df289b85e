"""What `sanad config check` says about the issue-19 channels' settings: the web chat's
budgets and exit page (SANAD_WEBCHAT_*), WhatsApp (SANAD_WHATSAPP_*, when any is set), the
voice tools (espeak-ng, ffmpeg) and an onion service torrc kept in the home
(SANAD_HOME/config/torrc, written by `sanad onion torrc --out`, checked with tor itself)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Line", "TorProblem", "channel_lines", "check_torrc", "torrc_paths"]


@dataclass(frozen=True)
class Line:
    status: str  # ok | FAILED | warn
    name: str
    detail: str


def channel_lines(env: Mapping[str, str]) -> list[Line]:
    from bot import WebchatSettings, WebchatSetupError, WhatsAppSettings, WhatsAppSetupError, voice

    out: list[Line] = []
    try:
        chat = WebchatSettings.from_env(env)
        out.append(
            Line(
                "ok",
                "webchat",
                f"{chat.session_burst:g} messages per session at "
                f"once, {chat.new_per_minute:g} new conversations a minute"
                + (", Secure cookie" if chat.secure_cookie else ""),
            )
        )
    except WebchatSetupError as exc:
        out.append(Line("FAILED", "webchat", str(exc)))
    if any(k.startswith("SANAD_WHATSAPP_") and v for k, v in env.items()):
        try:
            wa = WhatsAppSettings.from_env(env)
            out.append(
                Line("ok", "whatsapp", f"phone number id {wa.phone_id}, template {wa.template}")
            )
        except WhatsAppSetupError as exc:
            out.append(Line("FAILED", "whatsapp", str(exc)))
    missing = voice.check()
    out.append(
        Line("warn", "voice", missing)
        if missing
        else Line("ok", "voice", "espeak-ng and ffmpeg: /voice makes Opus voice notes")
    )
    return out


def torrc_paths(home: Path) -> list[Path]:
    path = home / "config" / "torrc"
    return [path] if path.is_file() else []


@dataclass(frozen=True)
class TorProblem:
    file: str
    line: int | None
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}: {self.severity}: {self.message}"


def check_torrc(path: Path) -> list[TorProblem]:
    tor = shutil.which("tor")
    if tor is None:
        return [
            TorProblem(
                str(path),
                None,
                "tor is not installed here: not checked (apt-get install tor)",
                "warning",
            )
        ]
    proc = subprocess.run(  # noqa: S603
        [tor, "--verify-config", "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode == 0:
        return []
    said = [
        ln.split("] ", 1)[-1] for ln in proc.stdout.splitlines() if "[warn]" in ln or "[err]" in ln
    ]
    return [TorProblem(str(path), None, said[-1] if said else "tor refused the configuration")]
