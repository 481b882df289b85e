"""Matching free-text answers to the offered options."""

from __future__ import annotations

import pytest

from nlu import OPTION_SYNONYMS, match_option

PERPETRATORS = {
    "police": ["Police", "الشرطة"],
    "military": ["Military", "الجيش"],
    "intelligence": ["Intelligence services", "المخابرات"],
    "prison_staff": ["Prison staff", "موظفو السجن"],
    "armed_group": ["Armed group", "جماعة مسلحة"],
    "private_person": ["Private person", "شخص عادي"],
    "unknown": ["Unknown", "غير معروف"],
    "other": ["Other", "أخرى"],
}
VIOLATIONS = {
    "beating": ["Beating", "ضرب"],
    "sexual_violence": ["Sexual violence", "عنف جنسي"],
    "electric_shock": ["Electric shock", "صعق كهربائي"],
    "threats": ["Threats", "تهديدات"],
    "humiliation": ["Humiliation", "إهانة"],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("police and army", ["police", "military"]),
        ("الشرطة والجيش", ["police", "military"]),
        ("the army, then the police", ["military", "police"]),
        ("بوليس", ["police"]),
        ("الأمن", ["police"]),
        ("عسكر", ["military"]),
        ("mukhabarat", ["intelligence"]),
        ("أمن الدولة", ["intelligence"]),
        ("اخدوني عالمخابرات", ["intelligence"]),
        ("السجانين", ["prison_staff"]),
        ("حراس السجن والشبيحة", ["prison_staff", "armed_group"]),
        ("prison guards", ["prison_staff"]),
        ("ما بعرف", ["unknown"]),
        ("PRIVATE PERSON", ["private_person"]),
        ("not the police, the army", ["military"]),
        ("مش الشرطة، الجيش", ["military"]),
        ("the weather", []),
        ("", []),
    ],
)
def test_perpetrators(text: str, expected: list[str]) -> None:
    assert match_option(text, PERPETRATORS) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ضربوني وكهربا", ["beating", "electric_shock"]),
        ("صعق", ["electric_shock"]),
        ("اغتصاب", ["sexual_violence"]),
        ("تحرش", ["sexual_violence"]),
        ("they beat me and insulted me", ["beating", "humiliation"]),
        ("هددوني", ["threats"]),
    ],
)
def test_violations(text: str, expected: list[str]) -> None:
    assert match_option(text, VIOLATIONS) == expected


def test_age_group() -> None:
    options = {"child": ["Child (under 18)"], "adult": ["Adult"], "older": ["Older (60+)"]}
    assert match_option("طفل", options) == ["child"]
    assert match_option("قاصر", options) == ["child"]
    assert match_option("an elderly man", options) == ["older"]


def test_option_id_itself_counts() -> None:
    assert match_option("prison staff", {"prison_staff": []}, synonyms=None) == ["prison_staff"]


def test_builtin_synonyms_can_be_turned_off() -> None:
    assert match_option("بوليس", {"police": ["Police"]}, synonyms=None) == []
    assert match_option("بوليس", {"police": ["Police"]}) == ["police"]


def test_whole_words_only() -> None:
    assert match_option("policeman", {"police": ["police"]}, synonyms=None) == []
    assert match_option("militaryish", {"military": ["military"]}) == []


def test_each_option_once() -> None:
    assert match_option("police, police and the police", PERPETRATORS) == ["police"]


def test_synonyms_cover_the_report_field_options() -> None:
    ids = {
        "police",
        "military",
        "intelligence",
        "prison_staff",
        "armed_group",
        "private_person",
        "beating",
        "electric_shock",
        "sexual_violence",
        "child",
        "medical",
        "legal",
        "psychosocial",
        "shelter",
        "woman",
        "man",
        "prison",
        "police_station",
        "nhri",
        "npm",
    }
    assert ids <= OPTION_SYNONYMS.keys()
    assert all(isinstance(v, tuple) and v for v in OPTION_SYNONYMS.values())
