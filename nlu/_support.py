"""Support needs asked for in a short request ("I need a doctor", "بدي محامي"): the
recogniser the intake service reads every message with before the engine sees it."""

from __future__ import annotations

import re

from nlu._normalise import normalise_arabic
from nlu._synonyms import OPTION_SYNONYMS

__all__ = ["needs_in"]

_NEED_WORDS: dict[str, tuple[str, ...]] = {
    "medical": (
        "doctor",
        "hospital",
        "medical",
        "medicine",
        "injured",
        "طبيب",
        "دكتور",
        "مستشفى",
        "علاج",
        "دوا",
        "دواء",
        "حكيم",
        "tabib",
        "doktor",
        "mustashfa",
    ),
    "legal": (
        "lawyer",
        "legal",
        "attorney",
        "محامي",
        "محامية",
        "محام",
        "قانوني",
        "mo7ami",
        "mu7ami",
        "muhami",
    ),
    "psychosocial": (
        "psychologist",
        "therapist",
        "counselling",
        "counseling",
        "mental",
        "نفسي",
        "نفسية",
        "معالج",
        "طبيب نفسي",
        "nafsi",
    ),
    "shelter": (
        "shelter",
        "safe house",
        "place to stay",
        "مأوى",
        "ماوى",
        "مكان آمن",
        "مكان امن",
        "بيت آمن",
        "وين انام",
    ),
}
_ASK_WORDS = (
    "need",
    "want",
    "looking for",
    "help",
    "بدي",
    "بدنا",
    "أريد",
    "اريد",
    "محتاج",
    "محتاجة",
    "احتاج",
    "أحتاج",
    "عايز",
    "عايزة",
    "ابغى",
    "أبغى",
    "ابي",
    "نحتاج",
    "bidi",
    "baddi",
    "3ayez",
    "mi7taj",
)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", normalise_arabic(text))


def needs_in(text: str) -> set[str]:
    """Support kinds asked for in a short request ("I need a doctor", "بدي محامي")."""
    norm = " " + " ".join(_words(text)) + " "
    if len(norm.split()) > 12 or not any(f" {normalise_arabic(w)} " in norm for w in _ASK_WORDS):
        return set()
    found = set()
    for kind, words in _NEED_WORDS.items():
        for word in (*words, *OPTION_SYNONYMS.get(kind, ())):
            if f" {normalise_arabic(word)} " in norm:
                found.add(kind)
    return found
