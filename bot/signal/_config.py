"""Settings of the Signal channel, and how a reply looks on Signal (no signalbot import)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from core import UnavailableError
from flows import Reply
from intake import SettingsError

__all__ = ["SignalConfig", "SignalUnavailable", "render_reply"]

_SERVICE = re.compile(r"^[A-Za-z0-9.\-]+:\d{1,5}$|^\[[0-9A-Fa-f:]+\]:\d{1,5}$")
_NUMBER = re.compile(r"^\+[1-9]\d{6,14}$")


class SignalUnavailable(UnavailableError):
    """The signal-cli-rest-api cannot be used; the message is one sentence for the operator."""


@dataclass(frozen=True)
class SignalConfig:
    service: str  # host:port of a signal-cli-rest-api in json-rpc mode, no scheme
    number: str  # the bot's own registered number
    disappear_seconds: int = 24 * 3600  # 0: leave the conversation's timer alone
    max_attachment_bytes: int = 20 * 1024 * 1024
    reconnect_min: float = 1.0
    reconnect_max: float = 60.0
    outbox_interval: float = 10.0
    startup_timeout: float = 15.0
    pending_per_sender: int = 50  # a flood from one reporter is cut here, others unaffected

    def __repr__(self) -> str:  # the bot's number stays out of logs and tracebacks
        return f"SignalConfig(service={self.service})"

    @classmethod
    def from_env(cls, env: Mapping[str, str], max_attachment_bytes: int) -> SignalConfig:
        service = (env.get("SANAD_SIGNAL_SERVICE") or "").strip()
        number = (env.get("SANAD_SIGNAL_NUMBER") or "").strip()
        if not service:
            raise SettingsError(
                "SANAD_SIGNAL_SERVICE is not set: give the host:port of the "
                "signal-cli-rest-api, e.g. 127.0.0.1:8080"
            )
        if "://" in service or not _SERVICE.match(service):
            raise SettingsError(
                "SANAD_SIGNAL_SERVICE must be host:port without a scheme, e.g. 127.0.0.1:8080"
            )
        if not _NUMBER.match(number):
            raise SettingsError(
                "SANAD_SIGNAL_NUMBER must be the bot's registered number in "
                "international form, e.g. +12025550123"
            )
        raw = env.get("SANAD_SIGNAL_DISAPPEAR_SECONDS") or str(24 * 3600)
        try:
            seconds = int(raw)
        except ValueError as exc:
            raise SettingsError(
                "SANAD_SIGNAL_DISAPPEAR_SECONDS must be a whole number of "
                "seconds (0 turns the timer off)"
            ) from exc
        if seconds < 0:
            raise SettingsError("SANAD_SIGNAL_DISAPPEAR_SECONDS cannot be negative")
        return cls(
            service=service,
            number=number,
            disappear_seconds=seconds,
            max_attachment_bytes=max_attachment_bytes,
        )


def render_reply(reply: Reply) -> str:
    """The reply's text, then its options as numbered lines ("1. Yes"): the number or the words
    typed back are an answer, as on the console."""
    if not reply.options:
        return reply.text
    lines = [reply.text, ""]
    lines += [f"{number}. {label}" for number, (_, label) in enumerate(reply.options, start=1)]
    return "\n".join(lines)
