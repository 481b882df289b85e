"""Hostile-input guard for what the messaging platforms send us: pure functions, no I/O.

A platform update is parsed by a library we do not control (python-telegram-bot's
`Update.de_json`, signalbot's pydantic models) and then read by our handlers. Neither library
checks the types of the fields we read, and both log the whole raw update when parsing fails
(which would put a reporter's words in the log). So every raw update is checked here first:

- `check_telegram_update(data)` for one element of a getUpdates answer or a webhook body;
- `check_signal_frame(raw)` for one frame of signal-cli-rest-api's receive socket.

Each returns None (go ahead) or a `Refusal`: a short ASCII reason that is safe to log (it never
holds content), whom a reply may go to (`reply_to`, or None when no reply is possible), and the
catalogue key of the reply. `bilingual(text, key)` builds that reply in Arabic and English,
since a malformed update does not tell us the reporter's language.

Limits: an update is refused when its JSON is larger than `MAX_UPDATE_BYTES`, nested deeper
than `MAX_DEPTH`, or carries more than `MAX_TEXT_CHARS` characters of text (Telegram's own
limit is 4,096; Signal sends longer texts as attachments). Bidi controls and zero-width
characters are *not* refused: Arabic text legitimately holds them, and the dashboard neutralises
them when it shows an answer (see docs/threat-model.md).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_TEXT_CHARS",
    "MAX_UPDATE_BYTES",
    "REFUSED_KEY",
    "TOO_LONG_KEY",
    "Refusal",
    "bilingual",
    "check_signal_frame",
    "check_telegram_update",
    "depth_of",
    "signal_reply_to",
]

MAX_UPDATE_BYTES = 256 * 1024
MAX_DEPTH = 24
MAX_TEXT_CHARS = 10_000
REFUSED_KEY = "guard.refused"  # "this message could not be read, please send it again"
TOO_LONG_KEY = "guard.too_long"  # "this message is too long, please send it in parts"

_FILE_KINDS = ("document", "photo", "voice", "audio", "video", "video_note")
_E164 = re.compile(r"\+[1-9][0-9]{5,16}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(frozen=True)
class Refusal:
    """Why an update was not handled. `reason` is safe to log; `reply_to` (a Telegram chat id
    or a Signal recipient) is not: never log it."""

    reason: str
    reply_to: int | str | None = None
    key: str = REFUSED_KEY

    def __repr__(self) -> str:  # keep the recipient out of any accidental log line
        return f"Refusal({self.reason!r}, reply={'yes' if self.reply_to is not None else 'no'})"


class _Bad(Exception):
    """Internal: the first problem found, as a loggable reason."""

    def __init__(self, reason: str, key: str = REFUSED_KEY) -> None:
        super().__init__(reason)
        self.reason = reason
        self.key = key


def bilingual(text: Callable[[str, str], str], key: str) -> str:
    """The refusal in both languages (the update did not say which the reporter reads)."""
    return f"{text('ar', key)}\n\n{text('en', key)}"


def depth_of(value: object, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of JSON-like data, iteratively (no recursion to exhaust), capped at
    limit + 1."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if deepest > limit:
                return deepest
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _size_and_depth(data: object) -> None:
    if depth_of(data) > MAX_DEPTH:
        raise _Bad("too_deep")
    try:
        size = len(json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    except (TypeError, ValueError) as exc:
        raise _Bad("not_json") from exc
    if size > MAX_UPDATE_BYTES:
        raise _Bad("too_large", TOO_LONG_KEY)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _obj(
    parent: dict[str, Any], key: str, where: str, required: bool = False
) -> dict[str, Any] | None:
    value = parent.get(key)
    if value is None:
        if required:
            raise _Bad(f"missing:{where}.{key}")
        return None
    if not isinstance(value, dict):
        raise _Bad(f"type:{where}.{key}")
    return value


def _typed(
    parent: dict[str, Any],
    where: str,
    ints: tuple[str, ...] = (),
    strs: tuple[str, ...] = (),
    required: tuple[str, ...] = (),
) -> None:
    for key in required:
        if parent.get(key) is None:
            raise _Bad(f"missing:{where}.{key}")
    for key in ints:
        if key in parent and parent[key] is not None and not _is_int(parent[key]):
            raise _Bad(f"type:{where}.{key}")
    for key in strs:
        if key in parent and parent[key] is not None and not isinstance(parent[key], str):
            raise _Bad(f"type:{where}.{key}")


def _text(value: object, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise _Bad(f"type:{where}")
    if len(value) > MAX_TEXT_CHARS:
        raise _Bad(f"too_long:{where}", TOO_LONG_KEY)


# ---- Telegram ------------------------------------------------------------------------------


def _tg_chat_id(data: object) -> int | None:
    """The private chat to answer, if the raw update names one plainly (nothing parsed)."""
    if not isinstance(data, dict):
        return None
    for key in ("message", "edited_message"):
        message = data.get(key)
        if isinstance(message, dict):
            chat = message.get("chat")
            if isinstance(chat, dict) and _is_int(chat.get("id")) and chat.get("type") == "private":
                return int(chat["id"])
    query = data.get("callback_query")
    if isinstance(query, dict):
        user = query.get("from")
        if isinstance(user, dict) and _is_int(user.get("id")):
            return int(user["id"])  # a private chat's id is its user's id
    return None


def _tg_message(message: dict[str, Any], where: str) -> None:
    _typed(message, where, ints=("message_id", "date"), required=("message_id", "date"))
    chat = _obj(message, "chat", where, required=True)
    assert chat is not None
    _typed(chat, f"{where}.chat", ints=("id",), strs=("type",), required=("id", "type"))
    user = _obj(message, "from", where)
    if user is not None:
        _typed(
            user,
            f"{where}.from",
            ints=("id",),
            strs=("language_code", "first_name"),
            required=("id",),
        )
    _text(message.get("text"), f"{where}.text")
    _text(message.get("caption"), f"{where}.caption")
    for kind in _FILE_KINDS:
        value = message.get(kind)
        if value is None:
            continue
        items = value if kind == "photo" else [value]
        if not isinstance(items, list) or len(items) > 32:
            raise _Bad(f"type:{where}.{kind}")
        for item in items:
            if not isinstance(item, dict):
                raise _Bad(f"type:{where}.{kind}")
            _typed(
                item,
                f"{where}.{kind}",
                ints=("file_size",),
                strs=("file_id", "file_unique_id", "mime_type", "file_name"),
                required=("file_id",),
            )


def _tg_structure(data: dict[str, Any]) -> None:
    if not _is_int(data.get("update_id")) or data["update_id"] < 0:
        raise _Bad("type:update_id")
    for key in ("message", "edited_message"):
        message = _obj(data, key, "update")
        if message is not None:
            _tg_message(message, key)
    query = _obj(data, "callback_query", "update")
    if query is not None:
        _typed(query, "callback_query", strs=("id", "data", "chat_instance"), required=("id",))
        user = _obj(query, "from", "callback_query", required=True)
        assert user is not None
        _typed(user, "callback_query.from", ints=("id",), strs=("language_code",), required=("id",))
        data_field = query.get("data")
        if isinstance(data_field, str) and len(data_field.encode("utf-8", "replace")) > 64:
            raise _Bad("too_long:callback_query.data")  # Telegram allows 1-64 bytes
        inner = _obj(query, "message", "callback_query")
        if inner is not None and inner.get("date") != 0:  # date 0: an inaccessible message
            _tg_message(inner, "callback_query.message")


def check_telegram_update(data: object) -> Refusal | None:
    """None if python-telegram-bot can parse `data` and our handlers can read it safely."""
    from telegram import Update  # the library's parser is the final word; it does no I/O

    try:
        if not isinstance(data, dict):
            raise _Bad("not_an_object")
        _size_and_depth(data)
        _tg_structure(data)
        try:
            Update.de_json(copy.deepcopy(data), None)
        except Exception as exc:  # any failure of the library's parser is a refusal
            raise _Bad(f"unparseable:{type(exc).__name__}") from exc
    except _Bad as bad:
        return Refusal(bad.reason, _tg_chat_id(data), bad.key)
    return None


# ---- Signal --------------------------------------------------------------------------------


def _signal_sender(envelope: object) -> str | None:
    if not isinstance(envelope, dict):
        return None
    uuid, number = envelope.get("sourceUuid"), envelope.get("sourceNumber")
    if isinstance(uuid, str) and _UUID.fullmatch(uuid):
        return uuid
    if isinstance(number, str) and _E164.fullmatch(number):
        return number
    return None


def signal_reply_to(raw: str | bytes) -> str | None:
    """The sender of a frame, when it names one plainly (a UUID or an E.164 number)."""
    if len(raw) > MAX_UPDATE_BYTES:
        return None
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        return None
    return _signal_sender(frame.get("envelope")) if isinstance(frame, dict) else None


def check_signal_frame(raw: str | bytes) -> Refusal | None:
    """None if the frame is an envelope signalbot can be given; receipts, typing and other
    envelopes without a data message pass (signalbot skips them)."""
    envelope: object = None
    try:
        if len(raw) > MAX_UPDATE_BYTES:
            raise _Bad("too_large", TOO_LONG_KEY)
        try:
            frame = json.loads(raw)
        except (ValueError, RecursionError) as exc:  # nesting beyond the decoder's limit
            raise _Bad("not_json") from exc
        if not isinstance(frame, dict):
            raise _Bad("not_an_object")
        envelope = frame.get("envelope")  # whom to answer, even if the rest is refused
        if depth_of(frame) > MAX_DEPTH:
            raise _Bad("too_deep")
        envelope = _obj(frame, "envelope", "frame", required=True)
        assert isinstance(envelope, dict)
        _typed(
            envelope,
            "envelope",
            ints=("timestamp", "sourceDevice"),
            strs=("source", "sourceNumber", "sourceUuid", "sourceName"),
        )
        data = _obj(envelope, "dataMessage", "envelope")
        if data is None:
            return None
        _typed(data, "dataMessage", ints=("timestamp", "expiresInSeconds"), required=("timestamp",))
        _text(data.get("message"), "dataMessage.message")
        attachments = data.get("attachments")
        if attachments is not None:
            if not isinstance(attachments, list) or len(attachments) > 32:
                raise _Bad("type:dataMessage.attachments")
            for item in attachments:
                if not isinstance(item, dict):
                    raise _Bad("type:dataMessage.attachments")
                _typed(
                    item,
                    "dataMessage.attachments",
                    ints=("size",),
                    strs=("contentType", "filename", "id"),
                )
    except _Bad as bad:
        return Refusal(bad.reason, _signal_sender(envelope), bad.key)
    return None
