"""The question's field is part of the context (issue 13 item 4): a place or a perpetrator
named alone is not a danger; words of danger beyond the name, or a narrative, still are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlu import NAMING_FIELDS, Interpreter
from tests import preloaded_sanad

NAMES = [  # each of these was an alarm before the field was known
    ("incident_location", "قسم الشرطة جنب البيت"),
    ("incident_location", "فرع المخابرات تحت البناية"),
    ("incident_location", "l police 3and dar"),
    ("perpetrator_type", "عناصر من الأمن بالحي"),
    ("perpetrator_type", "الشبيحة اللي بالحارة"),
    ("country", "الأمن السياسي في الطريق"),
]
STILL_URGENT = [  # beyond the name: a now, an act going on, self-harm, health in custody
    ("incident_location", "الأمن عند الباب هلق", "present_danger"),
    ("incident_location", "l police 3and dar daba", "present_danger"),
    ("incident_location", "عم يعذبوه بفرع فلسطين", "present_danger"),
    ("country", "بدي انتحر", "self_harm"),
    ("incident_location", "in the prison, bleeding and unconscious", "medical_in_custody"),
]


def test_the_naming_fields_are_report_fields() -> None:
    assert {"perpetrator_type", "incident_location", "country"} <= NAMING_FIELDS
    assert "narrative" not in NAMING_FIELDS and "injuries" not in NAMING_FIELDS


@pytest.mark.parametrize(("field", "text"), NAMES)
def test_a_name_alone_at_a_naming_question_is_not_urgent(
    interpreter: Interpreter, field: str, text: str
) -> None:
    kind = "multi" if field == "perpetrator_type" else "text"
    assert interpreter.interpret(text, expecting=kind, field=field).urgent is False
    # the very same words as a narrative answer, or with no question open, do alarm
    assert interpreter.interpret(text, expecting="text", field="narrative").urgent


@pytest.mark.parametrize(("field", "text", "reason"), STILL_URGENT)
def test_danger_beyond_the_name_still_counts(
    interpreter: Interpreter, field: str, text: str, reason: str
) -> None:
    got = interpreter.interpret(text, expecting="text", field=field)
    assert got.urgent and got.urgent_reason == reason


def test_parse_command_takes_the_field(cli_env: dict[str, str], model_cache: Path) -> None:
    env = {**cli_env, "SANAD_NLU_CACHE": str(model_cache)}

    def parse(*args: str) -> dict:
        proc = preloaded_sanad.run(["nlu", "parse", *args], env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        return dict(json.loads(proc.stdout))

    text = "قسم الشرطة جنب البيت"
    assert parse(text, "--field", "incident_location")["urgent"] is False
    assert parse(text, "--field", "narrative")["urgent"] is True
