"""Urgency: immediate danger now, as opposed to past events or safety."""

from __future__ import annotations

import pytest

from nlu import RuleInterpreter

URGENT = [
    ("they are at my door right now", "immediate_danger"),
    ("police are outside my house", "immediate_danger"),
    ("help they are coming", "immediate_danger"),
    ("I am in danger", "immediate_danger"),
    ("in danger now", "immediate_danger"),
    ("they will kill me", "immediate_danger"),
    ("I am not safe", "immediate_danger"),
    ("SOS", "immediate_danger"),
    ("he is being beaten now", "ongoing_violence"),
    ("they are torturing my brother", "ongoing_violence"),
    ("my son was arrested an hour ago", "recent_arrest"),
    ("they took my husband this morning", "recent_arrest"),
    ("they just arrested my brother", "recent_arrest"),
    ("هم عند الباب الآن", "immediate_danger"),
    ("خطر الآن", "immediate_danger"),
    ("نجدة", "immediate_danger"),
    ("الحقوني", "immediate_danger"),
    ("ابني في خطر", "immediate_danger"),
    ("الأمن قدام البيت", "immediate_danger"),
    ("يدقون الباب", "immediate_danger"),
    ("رح يقتلوني", "immediate_danger"),
    ("بدهم ياخدوني", "immediate_danger"),
    ("يهددوني بالقتل", "immediate_danger"),
    ("مش بأمان", "immediate_danger"),
    ("عم يعذبوه هلق", "ongoing_violence"),
    ("قاعدين يضربونه", "ongoing_violence"),
    ("بيضربوه هلأ", "ongoing_violence"),
    ("يعذبون أخي في السجن", "ongoing_violence"),
    ("اعتقلوا ابني قبل ساعة", "recent_arrest"),
    ("اخدوه امبارح", "recent_arrest"),
    ("هلق اخدو اخي", "recent_arrest"),
    ("3am ydo2o el bab", "immediate_danger"),
    ("ana b5atar", "immediate_danger"),
    ("e3ta2alo ibni abl sa3a", "recent_arrest"),
]

NOT_URGENT = [
    "they beat me last year",
    "I was arrested in 2018",
    "I was in danger in 2019",
    "they tortured me in prison",
    "I am safe now",
    "we are not in danger",
    "no one is in danger",
    "I still have nightmares from the beating",
    "I took a photo of the injuries",
    "he is at work",
    "I want to report torture",
    "they threatened me because I talked to the UN",
    "كانوا يضربونا بالسجن قبل سنتين",
    "اعتقلوني قبل سنتين",
    "ضربوني بالسجن",
    "أنا بأمان الآن",
    "ما في خطر",
    "مافي خطر هلق",
    "لا يوجد خطر",
    "كان في خطر قبل سنة",
    "انا عند بيت اختي",
    "هلا، اعتقلوني قبل سنتين",
    "مرحبا",
    "بدي قدم شكوى",
    "kano ydarbouna bel sijn abl sene",
]


@pytest.mark.parametrize(("text", "reason"), URGENT)
def test_immediate_danger_is_urgent(interpreter: RuleInterpreter, text: str, reason: str) -> None:
    result = interpreter.interpret(text)
    assert result.urgent is True
    assert reason in result.urgent_reasons
    assert result.intent == "urgent_danger"
    assert result.to_json()["urgent"] is True


@pytest.mark.parametrize("text", NOT_URGENT)
def test_past_events_and_safety_are_not_urgent(interpreter: RuleInterpreter, text: str) -> None:
    result = interpreter.interpret(text)
    assert result.urgent is False
    assert result.urgent_reasons == ()
    assert result.intent != "urgent_danger"


def test_danger_in_a_later_clause_still_counts(interpreter: RuleInterpreter) -> None:
    result = interpreter.interpret("they arrested me in 2019, but now they are at my door")
    assert result.urgent is True


def test_danger_in_a_narrative_keeps_the_answer_and_flags_it(
    interpreter: RuleInterpreter,
) -> None:
    result = interpreter.interpret(
        "I am writing from my phone and they are at the door right now", expecting="text"
    )
    assert result.urgent is True
    assert result.intent != "urgent_danger"  # the narrative is still the answer


def test_danger_in_a_yes_no_answer_keeps_the_answer(interpreter: RuleInterpreter) -> None:
    result = interpreter.interpret("yes, they are at the door now", expecting="bool")
    assert result.intent == "affirm"
    assert result.urgent is True


def test_quick_exit_wins_over_urgency_but_keeps_the_flag(interpreter: RuleInterpreter) -> None:
    result = interpreter.interpret("they are coming, delete everything")
    assert result.intent in {"quick_exit", "urgent_danger"}
    assert result.urgent is True
