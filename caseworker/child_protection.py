"""Mandatory-reporting rules for harm to a child, per country, as data
(`defaults/child_protection.yaml`); the case page of a report about a child shows the rule of
the country the reporter named, or says none is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from core import safe_load

__all__ = ["RULES_FILE", "ChildRule", "RuleProblem", "check_rules", "rule_for", "rules"]

RULES_FILE = Path(__file__).parent / "defaults" / "child_protection.yaml"


@dataclass(frozen=True)
class ChildRule:
    code: str
    names: tuple[str, ...]
    mandatory: bool
    verified: bool
    rule: dict[str, str]


@cache
def rules(path: Path = RULES_FILE) -> tuple[ChildRule, ...]:
    data = safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for i, raw in enumerate(data.get("countries") or []):
        text = raw.get("rule") or {}
        if not (
            isinstance(raw.get("code"), str)
            and len(raw["code"]) == 2
            and all(isinstance(text.get(lang), str) for lang in ("en", "ar"))
        ):
            raise ValueError(
                f"{path}: countries[{i}] needs a 2-letter code and the rule in en and ar"
            )
        out.append(
            ChildRule(
                raw["code"].upper(),
                tuple(str(n).lower() for n in raw.get("names", ())),
                bool(raw.get("mandatory")),
                bool(raw.get("verified")),
                dict(text),
            )
        )
    return tuple(out)


@dataclass(frozen=True)
class RuleProblem:
    """A `sanad config check` line: an unverified example rule is a warning, a malformed
    file an error."""

    file: str
    line: int | None
    message: str
    severity: str = "warning"

    def __str__(self) -> str:
        return f"{self.file}: {self.severity}: {self.message}"


def check_rules(path: Path = RULES_FILE) -> list[RuleProblem]:
    """Every rule not marked `verified: true` (by the institution's legal advisers): the
    shipped ones are examples, not legal facts."""
    try:
        found = rules.__wrapped__(path)
    except (OSError, ValueError, yaml.YAMLError, AttributeError, TypeError) as exc:
        return [RuleProblem(str(path), None, str(exc), "error")]
    return [
        RuleProblem(
            str(path),
            None,
            f"the mandatory-reporting rule for {r.code} is an unverified example: "
            "have your legal advisers check it, then set verified: true",
        )
        for r in found
        if not r.verified
    ]


def rule_for(country: Any) -> ChildRule | None:
    """The rule of the country a reporter named (its code or one of its names)."""
    if isinstance(country, dict):
        country = country.get("iso") or country.get("raw")
    if not isinstance(country, str) or not country.strip():
        return None
    wanted = country.strip().lower()
    for rule in rules():
        if wanted == rule.code.lower() or wanted in rule.names:
            return rule
    return None
