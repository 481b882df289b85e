"""Telegram channel settings: one frozen object built from the environment at start."""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from core import ConfigurationError

__all__ = [
    "PUBLIC_API",
    "TELEGRAM_FILE_LIMIT",
    "TelegramSettings",
    "TelegramSetupError",
    "WebhookConfig",
    "webhook_secret",
]

PUBLIC_API = "https://api.telegram.org/bot"
TELEGRAM_FILE_LIMIT = 20 * 1024 * 1024  # what a bot may download


class TelegramSetupError(ConfigurationError):
    """The bot cannot start: the message is one sentence a person can act on."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str = field(repr=False)
    base_url: str = PUBLIC_API
    chat_rate: float = 1.0  # messages per second per chat (0: no pacing)
    chat_burst: float = 20.0
    global_rate: float = 30.0  # messages per second overall (0: no pacing)
    poll_timeout: int = 10
    workers: int = 8
    max_file_bytes: int = TELEGRAM_FILE_LIMIT
    webhook_secret: str | None = field(default=None, repr=False)
    # Seconds: a call that failed on the network (a 5xx, a lost connection) is made again
    # after 1, 2, 4 times this; a reply still unsent is sent again after 4, 8, 16 … times it
    # (bot.telegram._flow.RESEND_AFTER at the default).
    retry_wait: float = 0.5

    @property
    def base_file_url(self) -> str:
        """PTB's base_file_url next to base_url: .../bot → .../file/bot."""
        base = self.base_url.rstrip("/")
        head, _, tail = base.rpartition("/")
        return f"{head}/file/{tail}"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, max_file_bytes: int = TELEGRAM_FILE_LIMIT
    ) -> TelegramSettings:
        env = os.environ if env is None else env
        token = (env.get("SANAD_TELEGRAM_TOKEN") or "").strip()
        if not token:
            raise TelegramSetupError("set SANAD_TELEGRAM_TOKEN to the bot's token from @BotFather")
        base = (env.get("SANAD_TELEGRAM_BASE_URL") or PUBLIC_API).strip()
        if not base.startswith(("http://", "https://")):
            raise TelegramSetupError(
                "SANAD_TELEGRAM_BASE_URL must look like http://127.0.0.1:8081/bot"
            )

        def number(name: str, default: float) -> float:
            raw = env.get(name)
            try:
                value = float(raw) if raw else default
            except ValueError as exc:
                raise TelegramSetupError(f"{name} must be a number, not '{raw}'") from exc
            if value < 0:
                raise TelegramSetupError(f"{name} must not be negative")
            return value

        return cls(
            token=token,
            base_url=base,
            chat_rate=number("SANAD_TELEGRAM_CHAT_RATE", 1.0),
            chat_burst=max(1.0, number("SANAD_TELEGRAM_CHAT_BURST", 20.0)),
            global_rate=number("SANAD_TELEGRAM_GLOBAL_RATE", 30.0),
            poll_timeout=int(number("SANAD_TELEGRAM_POLL_TIMEOUT", 10)),
            workers=max(1, int(number("SANAD_TELEGRAM_WORKERS", 8))),
            max_file_bytes=min(max_file_bytes, TELEGRAM_FILE_LIMIT),
            webhook_secret=env.get("SANAD_TELEGRAM_WEBHOOK_SECRET") or None,
            retry_wait=number("SANAD_TELEGRAM_RETRY_WAIT", 0.5),
        )


@dataclass(frozen=True)
class WebhookConfig:
    url: str
    listen: str = "127.0.0.1"
    port: int = 8443


def webhook_secret(settings: TelegramSettings) -> str:
    """The secret Telegram must send with every webhook POST. Every worker behind one URL
    derives the same one from the token (or takes SANAD_TELEGRAM_WEBHOOK_SECRET)."""
    if settings.webhook_secret:
        return settings.webhook_secret
    return hmac.new(
        settings.token.encode(), b"sanad telegram webhook secret", hashlib.sha256
    ).hexdigest()
