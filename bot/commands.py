"""Slash commands shared by every channel."""

from __future__ import annotations

__all__ = ["parse_command"]


def parse_command(text: str) -> tuple[str, str | None] | None:
    """("skip", None), ("lang", "ar"), ("status", "ABCD-…") for "/skip", "/lang ar", …; None for
    text that is not a slash command. Telegram's "/cmd@BotName" form is accepted."""
    stripped = text.strip()
    if not stripped.startswith("/") or len(stripped) < 2:
        return None
    head, _, arg = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()
    return name, (arg.strip() or None)
