"""The alert text: case reference, priority and age (and, for an interim measure's deadline,
how long until or since it), in English and Arabic. Nothing else.

The message is built from a handful of queue columns, never from sealed fields, so an alert
cannot carry what a reporter wrote or who they are, whatever route it travels by.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from core import safe_load

__all__ = ["CATALOG", "AlertMessage", "catalog", "render"]

CATALOG = Path(__file__).with_name("catalog.yaml")


@cache
def catalog() -> dict[str, dict[str, str]]:
    data = safe_load(CATALOG.read_text(encoding="utf-8"))
    return {lang: dict(texts) for lang, texts in data.items()}


@dataclass(frozen=True)
class AlertMessage:
    kind: str  # new | escalation | measure_due | measure_late | allegation | assessment_* | test
    case_ref: str
    priority: int
    age_minutes: int
    text_en: str
    text_ar: str
    subject: str
    deadline_minutes: int | None = None  # measure and assessment kinds: until the deadline
    # (< 0: since)

    @property
    def text(self) -> str:
        """Both languages, English first (the line most phones preview)."""
        return f"{self.text_en}\n{self.text_ar}"

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": self.kind,
            "case_ref": self.case_ref,
            "priority": self.priority,
            "age_minutes": self.age_minutes,
            "text_en": self.text_en,
            "text_ar": self.text_ar,
        }
        if self.deadline_minutes is not None:
            out["deadline_minutes"] = self.deadline_minutes
        return out


def _plural(n: int) -> str:
    """Arabic plural forms (English uses the same words for each)."""
    if n == 0:
        return "zero"
    if n in (1, 2):
        return "one" if n == 1 else "two"
    return "few" if 3 <= n % 100 <= 10 else "many"


def _age(lang: str, minutes: int) -> str:
    texts = catalog()[lang]
    if minutes < 120:
        return texts[f"minutes.{_plural(minutes)}"].format(n=minutes)
    hours = minutes // 60
    if hours < 48:
        return texts[f"hours.{_plural(hours)}"].format(n=hours)
    days = hours // 24
    return texts[f"days.{_plural(days)}"].format(n=days)


def render(
    kind: str,
    case_ref: str,
    priority: int,
    age_minutes: int,
    escalate_after_minutes: int,
    deadline_minutes: int | None = None,
) -> AlertMessage:
    """`deadline_minutes` (measure kinds): minutes until the deadline, negative once passed;
    the text says "in 2 days" or "passed 3 h ago"."""
    texts = catalog()
    age_minutes = max(0, age_minutes)
    until = deadline_minutes or 0
    late = ("measure_late", "assessment_late", "referral_late")
    left = max(0, -until) if kind in late else max(0, until)

    def one(lang: str, key: str) -> str:
        return texts[lang][key].format(
            case_ref=case_ref,
            priority=priority,
            age=_age(lang, age_minutes),
            limit=_age(lang, escalate_after_minutes),
            left=_age(lang, left),
        )

    return AlertMessage(
        kind,
        case_ref,
        priority,
        age_minutes,
        one("en", kind),
        one("ar", kind),
        f"{one('en', f'subject.{kind}')} / {one('ar', f'subject.{kind}')}",
        deadline_minutes,
    )
