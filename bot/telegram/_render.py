"""Replies → Telegram messages: pure functions, no I/O (the adapter sends what these return).

Options become an inline keyboard whose `callback_data` is the option id (ASCII, <= 64 bytes);
an id that would not fit is sent as its position (`#3`), which the engine accepts as an answer
just like a typed number. `multi` questions get toggle buttons (`m:<id>`) and a Done button
(`m:.`): the selection lives in the keyboard itself, so nothing about it is stored anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows import Reply

__all__ = [
    "CHECK",
    "CLEAN",
    "MAX_CALLBACK",
    "MAX_TEXT",
    "MULTI_DONE",
    "MULTI_PREFIX",
    "OutMessage",
    "fits",
    "keyboard_for",
    "keyboard_of",
    "markup",
    "render",
    "selection",
    "split_text",
    "toggle",
]

MAX_TEXT = 4096
MAX_CALLBACK = 64
MULTI_PREFIX = "m:"
MULTI_DONE = "m:."
CLEAN = "tg:clean"
CHECK = "✅ "


@dataclass(frozen=True)
class OutMessage:
    text: str
    keyboard: list[list[dict[str, str]]] | None = None


def fits(data: str) -> bool:
    return data.isascii() and 0 < len(data.encode()) <= MAX_CALLBACK


def _callback(option_id: str, index: int, prefix: str = "") -> str:
    data = prefix + option_id
    return data if fits(data) else f"{prefix}#{index}"


def keyboard_for(reply: Reply, done_label: str) -> list[list[dict[str, str]]] | None:
    if not reply.options:
        return None
    if reply.kind == "multi":
        rows = [
            [{"text": label, "callback_data": _callback(oid, n, MULTI_PREFIX)}]
            for n, (oid, label) in enumerate(reply.options, start=1)
        ]
        rows.append([{"text": done_label, "callback_data": MULTI_DONE}])
        return rows
    buttons = [
        {"text": label, "callback_data": _callback(oid, n)}
        for n, (oid, label) in enumerate(reply.options, start=1)
    ]
    short = all(len(b["text"]) <= 14 for b in buttons) and len(buttons) <= 3
    return [buttons] if short else [[b] for b in buttons]


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut at paragraph, then line, then word boundaries; never more than `limit` characters."""
    text = text or "…"
    parts: list[str] = []
    while len(text) > limit:
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = text.rfind(sep, 0, limit)
            if cut > limit // 2:
                break
        if cut <= 0:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    parts.append(text)
    return [p for p in parts if p] or ["…"]


def render(reply: Reply, done_label: str) -> list[OutMessage]:
    """One reply → the messages to send; the keyboard rides on the last one."""
    text = reply.text
    if reply.kind == "receipt" and reply.extra.get("receipt"):
        code = reply.extra["receipt"]
        if code not in text:
            text = f"{text}\n\n{code}"
    chunks = split_text(text)
    keyboard = keyboard_for(reply, done_label)
    out = [OutMessage(c) for c in chunks[:-1]]
    out.append(OutMessage(chunks[-1], keyboard))
    return out


def markup(keyboard: list[list[dict[str, str]]] | None) -> Any:
    from telegram import InlineKeyboardButton, InlineKeyboardMarkup

    if not keyboard:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b["text"], callback_data=b["callback_data"]) for b in row]
            for row in keyboard
        ]
    )


def toggle(keyboard: list[list[dict[str, str]]], data: str) -> list[list[dict[str, str]]]:
    """Flip the check mark of one multi-choice button."""
    rows = []
    for row in keyboard:
        new_row = []
        for b in row:
            if b["callback_data"] == data:
                label = b["text"]
                label = label[len(CHECK) :] if label.startswith(CHECK) else CHECK + label
                b = {"text": label, "callback_data": data}
            new_row.append(b)
        rows.append(new_row)
    return rows


def selection(keyboard: list[list[dict[str, str]]]) -> str:
    """The answer a Done press stands for: the chosen ids (or positions), comma-separated."""
    chosen = []
    for row in keyboard:
        for b in row:
            data = b["callback_data"]
            if data.startswith(MULTI_PREFIX) and data != MULTI_DONE and b["text"].startswith(CHECK):
                chosen.append(data[len(MULTI_PREFIX) :].lstrip("#"))
    return ", ".join(chosen)


def keyboard_of(message: Any) -> list[list[dict[str, str]]]:
    """A PTB Message's inline keyboard as plain data."""
    rm = getattr(message, "reply_markup", None)
    if rm is None:
        return []
    return [
        [{"text": b.text, "callback_data": str(b.callback_data)} for b in row]
        for row in rm.inline_keyboard
    ]
