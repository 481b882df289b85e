"""Urgency with its reason (contracts.md `urgent_reason`): harm now or soon, in dialect."""

from __future__ import annotations

import pytest

from nlu import Interpreter

URGENT = [
    ("my brother has diabetes and they keep him without insulin in prison", "medical_in_custody"),
    ("he is bleeding in the cell", "medical_in_custody"),
    ("أبوي بالسجن بلا دوا وعنده سكري", "medical_in_custody"),
    ("أخوي مضرب عن الطعام من أسبوعين", "medical_in_custody"),
    ("they said they will come for me tomorrow", "threat_with_time"),
    ("قالولي بكرة رح يجوا ياخدوك", "threat_with_time"),
    ("غدوة غادي يشدوني", "threat_with_time"),
    ("هددوني إذا ما سحبت الشكوى رح ياخدوا ولادي", "threat_to_withdraw"),
    ("I want to kill myself", "self_harm"),
    ("بدي انتحر", "self_harm"),
    ("بغيت نموت", "self_harm"),
    ("أخويا معتقل ومحدش يعرف مكانه", "fresh_disappearance"),
    ("they took my brother two days ago and nobody knows where he is", "fresh_disappearance"),
    ("rah jaw l police w ddawh", "fresh_disappearance"),
    ("dakhlo 3lina daba", "present_danger"),
    ("a car is parked outside my house watching us", "present_danger"),
    ("they are at my door right now", "present_danger"),
    ("خطفوا ابني عمره ١٢", "child_in_danger"),
    ("they arrested my 15 year old son", "child_in_danger"),
]

NOT_URGENT = [
    "he was bleeding in 2019, now he is released",
    "I tried to kill myself years ago",
    "they threatened me last year to withdraw my complaint",
    "he was on hunger strike in 2015",
    "I want to withdraw my complaint",
    "بدي اسحب الشكوى",
    "اختفى أخي سنة 2013 وما رجع",
]


@pytest.mark.parametrize(("text", "reason"), URGENT)
def test_urgent_with_its_reason(interpreter: Interpreter, text: str, reason: str) -> None:
    result = interpreter.interpret(text)
    assert result.urgent is True, text
    assert result.urgent_reason == reason
    assert result.to_json()["urgent_reason"] == reason


@pytest.mark.parametrize("text", NOT_URGENT)
def test_past_or_safe_is_not_urgent(interpreter: Interpreter, text: str) -> None:
    result = interpreter.interpret(text)
    assert (result.urgent, result.urgent_reason) == (False, None), text


@pytest.mark.parametrize("text", ["المخابرات", "الأمن السياسي", "the police", "mukhabarat"])
@pytest.mark.parametrize("expecting", ["multi", "choice", "text"])
def test_an_agency_named_as_an_answer_is_no_alarm(
    interpreter: Interpreter, text: str, expecting: str
) -> None:
    """M5: "المخابرات" at "who was responsible?" raised urgent_danger and emergency guidance."""
    result = interpreter.interpret(text, expecting=expecting)
    assert result.urgent is False and result.intent != "urgent_danger"
