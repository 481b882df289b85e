"""Normalisation, digits and language detection."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nlu import detect_language, normalise_arabic, to_ascii_digits


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("أنا", "انا"),
        ("إسلام", "اسلام"),
        ("آمن", "امن"),
        ("ٱلله", "الله"),
        ("مسؤول", "مسوول"),
        ("رئيس", "رييس"),
        ("شيء", "شيء"),  # standalone hamza is kept
        ("على", "علي"),
        ("مدرسة", "مدرسه"),
        ("مرحــــبا", "مرحبا"),
        ("مُوَافِقٌ", "موافق"),
        ("شدّة", "شده"),
        ("هٰذا", "هذا"),
        ("٢٠٢٤", "2024"),
        ("۱۲۳", "123"),
        ("لاااا", "لا"),
        ("noooo", "no"),
        ("Yesss", "yes"),
        ("2000", "2000"),  # repeated digits are not elongation
        ("\u200fمرحبا\u200e", "مرحبا"),
        ("\u202bنعم\u202c", "نعم"),
        ("\u2067yes\u2069", "yes"),
        ("\ufeffhi\u200b", "hi"),
        ("  Hello   WORLD \n", "hello world"),
        ("ALL\tcaps", "all caps"),
    ],
)
def test_normalise_arabic(raw: str, expected: str) -> None:
    assert normalise_arabic(raw) == expected


def test_variant_spellings_compare_equal() -> None:
    assert normalise_arabic("أُوافِقُ") == normalise_arabic("اوافق")
    assert normalise_arabic("الإنجليزية") == normalise_arabic("الانجليزيه")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("٣ آذار ٢٠٢٤", "3 آذار 2024"), ("۱۵/۳/۱۴۰۲", "15/3/1402"), ("abc 12", "abc 12")],
)
def test_to_ascii_digits(raw: str, expected: str) -> None:
    assert to_ascii_digits(raw) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مرحبا", ("ar", False)),
        ("بدي قدم شكوى", ("ar", False)),
        ("نعم ok", ("ar", False)),
        ("hello", ("en", False)),
        ("I want to report torture", ("en", False)),
        ("yes", ("en", False)),
        ("ok", ("en", False)),
        ("I was arrested on the 3rd of May 2021", ("en", False)),
        ("they hit me w my brother in the car", ("en", False)),
        ("ana msh 3ayez", ("ar", True)),
        ("la2", ("ar", True)),
        ("aywa", ("ar", True)),
        ("3am ydo2o el bab", ("ar", True)),
        ("7absouni", ("ar", True)),
        ("ma3 7ada", ("ar", True)),
        ("shu ya3ni", ("ar", True)),
        ("eh", ("ar", True)),
        ("bas", ("ar", True)),
        ("kaman w kaman", ("ar", True)),
        ("mafi shi", ("ar", True)),
    ],
)
def test_detect_language(text: str, expected: tuple[str, bool]) -> None:
    assert detect_language(text) == expected


@given(st.text(max_size=60))
@settings(max_examples=200)
def test_normalising_twice_changes_nothing(text: str) -> None:
    once = normalise_arabic(text)
    assert normalise_arabic(once) == once
