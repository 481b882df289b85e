"""Hostile input to the channels' update parsers, on the pure guard (bot/_update_guard.py):
random JSON and mutations of real updates never raise; what the guard lets through parses in
the library and has the types our handlers read; what it refuses says why in a loggable word
and, where a reply is possible, to whom."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot._update_guard import (
    MAX_DEPTH,
    MAX_TEXT_CHARS,
    REFUSED_KEY,
    TOO_LONG_KEY,
    Refusal,
    bilingual,
    check_signal_frame,
    check_telegram_update,
    depth_of,
)
from flows import load_flowset

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HOSTILE_TEXT = [
    "\u202eevil\u202c",
    "a\u200bb\u200c\u200d\ufeff",
    "\u2066x\u2069",
    "\x00",
    "\ud800",
    "ش" * 50,
    "x" * (MAX_TEXT_CHARS + 1),
    "",
]

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=40),
    st.sampled_from(HOSTILE_TEXT),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=30,
)


def tg_text_update(text: Any = "hello", chat: int = 4242) -> dict[str, Any]:
    return {
        "update_id": 1001,
        "message": {
            "message_id": 7,
            "date": 1_790_000_000,
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "R", "language_code": "ar"},
            "text": text,
        },
    }


def tg_photo_update() -> dict[str, Any]:
    update = tg_text_update()
    del update["message"]["text"]
    update["message"]["photo"] = [
        {"file_id": "F", "file_unique_id": "U", "width": 90, "height": 90, "file_size": 1234}
    ]
    return update


def tg_callback_update() -> dict[str, Any]:
    message = tg_text_update()["message"]
    message["from"] = {"id": 1, "is_bot": True, "first_name": "Sanad"}
    return {
        "update_id": 1002,
        "callback_query": {
            "id": "q1",
            "chat_instance": "ci",
            "data": "#yes",
            "message": message,
            "from": {"id": 4242, "is_bot": False, "first_name": "R"},
        },
    }


def signal_frame(text: Any = "hello", **data: Any) -> dict[str, Any]:
    uuid = "0b5d1c4e-8c5e-4b8a-9a51-7d1f2f0d9e11"
    return {
        "account": "+12025550100",
        "envelope": {
            "source": uuid,
            "sourceNumber": None,
            "sourceUuid": uuid,
            "sourceName": "S",
            "sourceDevice": 1,
            "timestamp": 1_790_000_000_000,
            "serverReceivedTimestamp": 1_790_000_000_000,
            "serverDeliveredTimestamp": 1_790_000_000_000,
            "dataMessage": {
                "timestamp": 1_790_000_000_000,
                "message": text,
                "expiresInSeconds": 0,
                "viewOnce": False,
                **data,
            },
        },
    }


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            out += _paths(child, (*prefix, index))
    return out


@st.composite
def mutated(draw: st.DrawFn, base: dict[str, Any]) -> dict[str, Any]:
    """A real update with a few fields removed or replaced by anything."""
    data = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent: Any = data
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()) and isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return data


def _assert_readable_telegram(data: dict[str, Any]) -> None:
    """What our handlers read from an update the guard let through has the right type."""
    update = Update.de_json(copy.deepcopy(data), None)
    assert update is not None and type(update.update_id) is int
    message = update.message or update.edited_message
    if message is not None:
        assert type(message.message_id) is int and type(message.chat.id) is int
        assert message.text is None or (
            isinstance(message.text, str) and len(message.text) <= MAX_TEXT_CHARS
        )
        assert message.from_user is None or type(message.from_user.id) is int
    if update.callback_query is not None:
        assert type(update.callback_query.from_user.id) is int
        assert update.callback_query.data is None or isinstance(update.callback_query.data, str)


# ---- Telegram ------------------------------------------------------------------------------


def test_real_updates_pass() -> None:
    for data in (
        tg_text_update(),
        tg_photo_update(),
        tg_callback_update(),
        tg_text_update("\u202eevil\u202c \u200b ما حدث"),
    ):
        assert check_telegram_update(data) is None
        _assert_readable_telegram(data)


@pytest.mark.parametrize(
    ("data", "reason", "reply_to", "key"),
    [
        (tg_text_update("x" * (MAX_TEXT_CHARS + 1)), "too_long:message.text", 4242, TOO_LONG_KEY),
        (tg_text_update(123), "type:message.text", 4242, REFUSED_KEY),
        ({"update_id": "1", "message": {}}, "type:update_id", None, REFUSED_KEY),
        (
            {"update_id": 5, "message": {"text": "hi"}},
            "missing:message.message_id",
            None,
            REFUSED_KEY,
        ),
        ({"update_id": 5, "message": []}, "type:update.message", None, REFUSED_KEY),
        ([tg_text_update()], "not_an_object", None, REFUSED_KEY),
        ("update", "not_an_object", None, REFUSED_KEY),
    ],
)
def test_malformed_updates_are_refused_with_a_reason(
    data: Any, reason: str, reply_to: int | None, key: str
) -> None:
    refusal = check_telegram_update(data)
    assert refusal == Refusal(reason, reply_to, key)
    assert "4242" not in repr(refusal)  # a refusal can be logged: it never shows the chat


def test_a_message_without_its_date_is_refused_by_the_library_parser() -> None:
    data = tg_text_update()
    data["message"]["chat"]["extra"] = {"nested": True}
    del data["message"]["from"]["first_name"]  # PTB's User needs it: its parser raises
    refusal = check_telegram_update(data)
    assert refusal is not None and refusal.reason.startswith("unparseable:")
    assert refusal.reply_to == 4242


def test_deeply_nested_and_oversized_updates_are_refused_without_recursion() -> None:
    deep: Any = "x"
    for _ in range(100_000):  # far deeper than Python's recursion limit
        deep = [deep]
    data = tg_text_update()
    data["message"]["entities"] = deep
    assert depth_of(deep) == MAX_DEPTH + 1
    assert check_telegram_update(data) == Refusal("too_deep", 4242, REFUSED_KEY)
    big = tg_text_update()
    big["message"]["entities"] = ["x" * 1000] * 400
    assert check_telegram_update(big) == Refusal("too_large", 4242, TOO_LONG_KEY)


@FUZZ
@given(json_values)
def test_any_json_is_refused_or_readable(data: Any) -> None:
    refusal = check_telegram_update(data)
    if refusal is None:
        _assert_readable_telegram(data)
    else:
        assert (refusal.reason.isascii() and refusal.reply_to is None) or isinstance(
            refusal.reply_to, int
        )


@FUZZ
@given(
    st.one_of(mutated(tg_text_update()), mutated(tg_photo_update()), mutated(tg_callback_update()))
)
def test_mutated_updates_are_refused_or_readable(data: dict[str, Any]) -> None:
    refusal = check_telegram_update(data)
    if refusal is None:
        _assert_readable_telegram(data)
    else:
        assert refusal.reason.isascii() and " " not in refusal.reason


# ---- Signal --------------------------------------------------------------------------------


def test_real_frames_pass_and_receipts_are_left_to_signalbot() -> None:
    assert check_signal_frame(json.dumps(signal_frame("\u202e مرحبا \u200b"))) is None
    receipt = signal_frame()
    del receipt["envelope"]["dataMessage"]
    receipt["envelope"]["receiptMessage"] = {"when": 1, "isDelivery": True}
    assert check_signal_frame(json.dumps(receipt)) is None


@pytest.mark.parametrize(
    ("raw", "reason", "reply"),
    [
        (
            json.dumps(signal_frame("x" * (MAX_TEXT_CHARS + 1))),
            "too_long:dataMessage.message",
            True,
        ),
        (json.dumps(signal_frame(["not", "text"])), "type:dataMessage.message", True),
        (json.dumps(signal_frame(attachments={"id": 1})), "type:dataMessage.attachments", True),
        (json.dumps(signal_frame(timestamp="soon")), "type:dataMessage.timestamp", True),
        (json.dumps({"envelope": "x"}), "type:frame.envelope", False),
        ("[1, 2, 3]", "not_an_object", False),
        ("not json at all", "not_json", False),
        (b"\xff\xfe", "not_json", False),
        ("[" * 10_000 + "]" * 10_000, "not_json", False),  # the decoder's own recursion limit
        ("x" * 300_000, "too_large", False),
    ],
)
def test_malformed_frames_are_refused_with_a_reason(
    raw: str | bytes, reason: str, reply: bool
) -> None:
    refusal = check_signal_frame(raw)
    assert refusal is not None and refusal.reason == reason
    assert (refusal.reply_to == "0b5d1c4e-8c5e-4b8a-9a51-7d1f2f0d9e11") is reply


@FUZZ
@given(
    st.one_of(
        json_values.map(json.dumps),
        mutated(signal_frame()).map(json.dumps),
        st.text(max_size=200),
        st.binary(max_size=200),
    )
)
def test_any_frame_is_refused_or_has_the_types_the_channel_reads(raw: str | bytes) -> None:
    refusal = check_signal_frame(raw)
    if refusal is not None:
        assert refusal.reason.isascii()
        return
    frame = json.loads(raw)
    data = frame["envelope"].get("dataMessage")
    if data is not None:
        assert type(data["timestamp"]) is int
        assert data.get("message") is None or isinstance(data["message"], str)
        assert all(isinstance(a, dict) for a in data.get("attachments") or [])


def test_the_refusal_reply_is_in_both_languages() -> None:
    flows = load_flowset()
    for key in (REFUSED_KEY, TOO_LONG_KEY):
        text = bilingual(flows.text, key)
        assert flows.text("ar", key) in text and flows.text("en", key) in text
