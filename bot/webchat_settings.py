"""Web chat settings (`sanad run webchat`): one frozen object built from the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from core import ConfigurationError

__all__ = ["MAX_TEXT_CHARS", "WebchatSettings", "WebchatSetupError"]

MAX_TEXT_CHARS = 20_000  # one answer typed into the page


class WebchatSetupError(ConfigurationError):
    """The web chat cannot start: the message is one sentence a person can act on."""


@dataclass(frozen=True)
class WebchatSettings:
    # Per-session budget (no IP addresses: over Tor every visitor has the same one):
    # `session_burst` messages at once, then one every 60/`session_per_minute` seconds.
    session_per_minute: float = 20.0
    session_burst: float = 40.0
    # New conversations across the whole server: a flood of fresh sessions cannot fill the
    # database; beyond it a page asks to try again in a minute.
    new_per_minute: float = 60.0
    new_burst: float = 120.0
    secure_cookie: bool = False  # behind a TLS proxy: the cookie gets `Secure`
    exit_url: str | None = None  # quick exit leaves to this page (default: a neutral one here)
    max_sessions: int = 20_000  # live page caches and budgets kept in memory

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebchatSettings:
        env = os.environ if env is None else env

        def number(name: str, default: float, minimum: float = 0.1) -> float:
            raw = (env.get(name) or "").strip()
            try:
                value = float(raw) if raw else default
            except ValueError as exc:
                raise WebchatSetupError(f"{name} must be a number, not '{raw}'") from exc
            if value < minimum:
                raise WebchatSetupError(f"{name} must be at least {minimum:g}")
            return value

        secure = (env.get("SANAD_WEBCHAT_SECURE_COOKIE") or "").strip().lower()
        if secure not in ("", "0", "1", "true", "false", "yes", "no"):
            raise WebchatSetupError("SANAD_WEBCHAT_SECURE_COOKIE must be 1 or 0")
        exit_url = (env.get("SANAD_WEBCHAT_EXIT_URL") or "").strip() or None
        if exit_url and not exit_url.startswith(("https://", "http://", "/")):
            raise WebchatSetupError(
                "SANAD_WEBCHAT_EXIT_URL must be an https:// address or a path such as /about"
            )
        return cls(
            session_per_minute=number("SANAD_WEBCHAT_SESSION_PER_MINUTE", 20.0),
            session_burst=number("SANAD_WEBCHAT_SESSION_BURST", 40.0, minimum=1),
            new_per_minute=number("SANAD_WEBCHAT_NEW_PER_MINUTE", 60.0),
            new_burst=number("SANAD_WEBCHAT_NEW_BURST", 120.0, minimum=1),
            secure_cookie=secure in ("1", "true", "yes"),
            exit_url=exit_url,
        )
