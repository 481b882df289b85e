"""The `sanad nlu parse` JSON shape and the `Interpreter` protocol."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nlu
from nlu import INTENTS, Entity, Interpretation, Interpreter, RuleInterpreter

CONTRACT_INTENTS = {
    "greet",
    "affirm",
    "deny",
    "dont_know",
    "skip",
    "go_back",
    "quick_exit",
    "help",
    "ask_human",
    "urgent_danger",
    "change_language",
    "report_complaint",
    "report_reprisal",
    "withdraw_consent",
    "check_status",
    "thanks",
    "nlu_fallback",
}


def test_rule_interpreter_is_an_interpreter(interpreter: RuleInterpreter) -> None:
    assert isinstance(interpreter, Interpreter)


def test_intent_names_match_the_contract() -> None:
    assert CONTRACT_INTENTS <= set(INTENTS)
    assert "done" in INTENTS


@pytest.mark.parametrize(
    "text", ["yes", "بالعربي", "they are at my door right now", "ana msh 3ayez", "", "٣ أيام"]
)
def test_to_json_shape(interpreter: RuleInterpreter, text: str) -> None:
    data = interpreter.interpret(text).to_json()
    # contracts.md now adds urgent_reason (a reason id when urgent, otherwise null)
    assert set(data) == {"text", "lang", "arabizi", "intent", "entities", "urgent", "urgent_reason"}
    assert (data["urgent_reason"] is None) is (not data["urgent"])
    assert data["text"] == text
    assert data["lang"] in {"ar", "en"}
    assert isinstance(data["arabizi"], bool)
    assert set(data["intent"]) == {"name", "confidence"}
    assert data["intent"]["name"] in INTENTS
    assert isinstance(data["intent"]["confidence"], float)
    assert isinstance(data["urgent"], bool)
    for entity in data["entities"]:
        assert set(entity) == {"entity", "value", "start", "end"}
    json.dumps(data, ensure_ascii=False)


def test_to_json_example() -> None:
    result = Interpretation(
        text="English please",
        lang="en",
        arabizi=False,
        intent="change_language",
        confidence=1.0,
        entities=(Entity("language", "en", 0, 7),),
        urgent=False,
    )
    assert result.to_json() == {
        "text": "English please",
        "lang": "en",
        "arabizi": False,
        "intent": {"name": "change_language", "confidence": 1.0},
        "entities": [{"entity": "language", "value": "en", "start": 0, "end": 7}],
        "urgent": False,
        "urgent_reason": None,
    }


def test_arabizi_is_arabic(interpreter: RuleInterpreter) -> None:
    data = interpreter.interpret("la2 msh mwafe2").to_json()
    assert (data["lang"], data["arabizi"], data["intent"]["name"]) == ("ar", True, "deny")


def test_results_are_immutable(interpreter: RuleInterpreter) -> None:
    result = interpreter.interpret("yes")
    with pytest.raises(AttributeError):
        result.intent = "deny"  # type: ignore[misc]


@pytest.mark.parametrize("text", ["\x00", "🙂", "?!?!", "a" * 5000, "؟؟", "\u202e", "١٢٣"])
def test_any_string_is_interpreted(interpreter: RuleInterpreter, text: str) -> None:
    assert interpreter.interpret(text).intent in INTENTS


def test_public_surface() -> None:
    for name in nlu.__all__:
        assert hasattr(nlu, name)


def test_short_messages_are_fast(interpreter: RuleInterpreter) -> None:
    messages = ["yes", "مش موافق", "they are at my door right now", "شو صار بقضيتي"] * 50
    start = time.perf_counter()
    for message in messages:
        interpreter.interpret(message)
    per_call = (time.perf_counter() - start) / len(messages)
    assert per_call < 0.002  # generous bound for slow CI; typically ~0.05 ms


@given(st.text(max_size=80))
@settings(max_examples=200, deadline=None)
def test_never_raises(text: str) -> None:
    result = _SHARED.interpret(text)
    assert result.intent in INTENTS
    assert result.urgent is bool(result.urgent_reasons)


_SHARED = RuleInterpreter()
