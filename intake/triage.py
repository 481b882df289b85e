"""Rule-based triage: priority and readable reasons from `triage_rules.yaml`.

Automated triage must stay explainable and overridable (Kyiv-Copenhagen III-ث): the rules are
data, every decision carries the ids of the rules that made it, and the stored priority is only
a starting point for a person.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from core import safe_load
from nlu import URGENT_REASONS as REASONS

__all__ = ["RULES_FILE", "Rule", "Triage", "TriageRules", "word_reasons"]

RULES_FILE = Path(__file__).with_name("triage_rules.yaml")


@dataclass(frozen=True)
class Rule:
    id: str
    priority: int
    when: dict[str, Any]


@dataclass(frozen=True)
class Triage:
    priority: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class TriageRules:
    rules: tuple[Rule, ...]
    default_priority: int

    @classmethod
    def load(cls, path: Path = RULES_FILE) -> TriageRules:
        data = safe_load(path.read_text(encoding="utf-8"))
        rules = tuple(Rule(r["id"], int(r["priority"]), dict(r["when"])) for r in data["rules"])
        for rule in rules:
            values = rule.when.get("is", []) + rule.when.get("has_any", [])
            if any(not isinstance(v, str) for v in values):
                raise ValueError(
                    f"{path}: rule '{rule.id}' compares with a non-text value; quote yes/no"
                )
        return cls(rules, int(data["default_priority"]))

    def assess(self, fields: dict[str, Any], urgent: bool, now: datetime) -> Triage:
        matched = [r for r in self.rules if _holds(r.when, fields, urgent, now.date())]
        if not matched:
            return Triage(self.default_priority, ())
        matched.sort(key=lambda r: r.priority)
        return Triage(matched[0].priority, tuple(r.id for r in matched))


def word_reasons(urgent: Iterable[str]) -> tuple[str, ...]:
    """The reporter's words' urgent reasons (contracts.md `urgent_reason` ids), most serious
    first, from the detector reasons an urgent conversation collected (`State.urgent`)."""
    seen = set(urgent)
    return tuple(dict.fromkeys(label for key, label in REASONS.items() if key in seen))


def _holds(cond: dict[str, Any], fields: dict[str, Any], urgent: bool, today: date) -> bool:
    if "urgent" in cond:
        return bool(cond["urgent"]) == urgent
    value = fields.get(cond["field"])
    if "is" in cond:
        return isinstance(value, str) and value in cond["is"]
    if "has_any" in cond:
        return isinstance(value, list) and any(v in cond["has_any"] for v in value)
    if "within_days" in cond:
        iso = value.get("iso") if isinstance(value, dict) else None
        if not iso:
            return False
        try:
            days = (today - date.fromisoformat(iso[:10])).days
        except ValueError:
            return False
        return 0 <= days <= int(cond["within_days"])
    raise ValueError(f"unknown triage condition {sorted(cond)}")
