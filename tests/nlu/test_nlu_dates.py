"""Date answers parsed through dateparser with a fixed `now`."""

from __future__ import annotations

from datetime import datetime

import pytest

from nlu import DateValue, RuleInterpreter, parse_date


@pytest.mark.parametrize(
    ("text", "iso", "precision"),
    [
        ("٣ آذار ٢٠٢٤", "2024-03-03", "day"),
        ("15/3/2024", "2024-03-15", "day"),
        ("١٥/٣/٢٠٢٤", "2024-03-15", "day"),
        ("5/3/2024", "2024-03-05", "day"),  # day first, as written in the region
        ("last week", "2025-06-08", "day"),
        ("قبل أسبوعين", "2025-06-01", "day"),
        ("امبارح", "2025-06-14", "day"),
        ("مبارح", "2025-06-14", "day"),
        ("أول امبارح", "2025-06-13", "day"),
        ("yesterday", "2025-06-14", "day"),
        ("منذ ثلاثة أشهر", "2025-03", "month"),
        ("قبل شهرين", "2025-04", "month"),
        ("March 2023", "2023-03", "month"),
        ("around March 2023", "2023-03", "month"),
        ("شباط 2022", "2022-02", "month"),
        ("كانون الثاني 2020", "2020-01", "month"),
        ("جانفي 2020", "2020-01", "month"),
        ("نيسان ٢٠٢٣", "2023-04", "month"),
        ("2021", "2021", "year"),
        ("حوالي 2019", "2019", "year"),
        ("قبل سنة", "2024", "year"),
        ("قبل 5 سنين", "2020", "year"),
        ("منذ عشر سنوات", "2015", "year"),
        ("العام الماضي", "2024", "year"),
        ("من سنتين", "2023", "year"),
    ],
)
def test_parse_date(fixed_now: datetime, text: str, iso: str, precision: str) -> None:
    value = parse_date(text, now=fixed_now)
    assert value == DateValue(raw=text, iso=iso, precision=precision)


@pytest.mark.parametrize("text", ["banana", "I don't know", "قبل كم يوم"])
def test_unrecognised_dates_keep_the_words(fixed_now: datetime, text: str) -> None:
    assert parse_date(text, now=fixed_now) == DateValue(raw=text, iso=None, precision=None)


@pytest.mark.parametrize("text", ["", "   "])
def test_empty_answer_is_no_date(fixed_now: datetime, text: str) -> None:
    assert parse_date(text, now=fixed_now) is None


def test_language_hint_does_not_change_the_result(fixed_now: datetime) -> None:
    assert parse_date("March 2023", "en", fixed_now) == parse_date("March 2023", "ar", fixed_now)


def test_relative_dates_follow_now() -> None:
    value = parse_date("yesterday", now=datetime(2020, 1, 1))
    assert value is not None
    assert value.iso == "2019-12-31"


def test_interpreter_adds_a_date_entity_when_a_date_is_expected(
    interpreter: RuleInterpreter,
) -> None:
    result = interpreter.interpret("back in 2019", expecting="date")
    assert result.intent == "nlu_fallback"
    date = result.entity("date")
    assert date is not None
    assert date.value == DateValue("back in 2019", "2019", "year")
    assert result.to_json()["entities"] == [
        {
            "entity": "date",
            "value": {"raw": "back in 2019", "iso": "2019", "precision": "year"},
            "start": 0,
            "end": 12,
        }
    ]


def test_dont_know_at_a_date_question_is_not_a_date(interpreter: RuleInterpreter) -> None:
    result = interpreter.interpret("ما بعرف", expecting="date")
    assert result.intent == "dont_know"
    assert result.entity("date") is None


def test_a_pasted_wall_of_text_is_read_for_a_date_only_at_its_start(fixed_now: datetime) -> None:
    """dateparser would read all 20 000 characters (seconds of a worker's time); the date is
    looked for in the first 500, and the reporter's whole answer is kept."""
    story = "3 March 2024, then they kept me in a cell with no light for weeks. " * 300
    at_start = parse_date(story, "en", now=fixed_now)
    assert at_start == DateValue(story.strip(), "2024-03-03", "day")
    filler = "a " * 10_000  # the worst case: every "a" may begin "a week ago"
    beyond = parse_date(filler + " 3 March 2024", "en", now=fixed_now)
    assert beyond is not None and beyond.iso is None and beyond.raw.endswith("3 March 2024")


def test_a_date_at_the_limit_is_not_read_as_another_date(fixed_now: datetime) -> None:
    """Cut at character 500, "٣ آذار ٢٠٢٤" would read as March of this year: a long answer is
    read only up to its last sentence end within the limit, or not at all."""
    date = "٣ آذار ٢٠٢٤"
    first = "اعتقلوني من البيت وأخذوني إلى الفرع. "
    for shift in range(0, len(date) + 2):
        text = first + "x" * (500 - len(first) - len(date) + shift) + " " + date + " بعد الظهر"
        value = parse_date(text, "ar", now=fixed_now)
        assert value is not None and value.iso is None, shift
        assert value.raw == text.strip()
    within = "اعتقلوني في " + date + ". " + "x" * 600
    value = parse_date(within, "ar", now=fixed_now)
    assert value is not None and value.iso == "2024-03-03"
    no_sentence = "في " + date + " " + "x" * 600  # nothing ends within the limit: no date read
    value = parse_date(no_sentence, "ar", now=fixed_now)
    assert value is not None and value.iso is None
