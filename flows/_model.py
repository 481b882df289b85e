"""Frozen, typed shapes of a loaded flow set: what the engine runs and the checker checks."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from functools import lru_cache
from typing import Any

__all__ = [
    "BOOL_OPTIONS",
    "GROUP",
    "QUESTION_KINDS",
    "REPEAT_SEP",
    "STEP_KINDS",
    "Condition",
    "FieldSpec",
    "Flow",
    "FlowSet",
    "Step",
]

QUESTION_KINDS = frozenset({"choice", "multi", "text", "date", "bool", "files"})
# A field of this type holds a list, one entry per person, of the answers to a block of
# questions that repeats (several victims in one report): fields.yaml `group: <its id>`.
GROUP = "group"
REPEAT_SEP = "@"  # a repeated step in the trail: "details:other_victim_gender@2"
STEP_KINDS = QUESTION_KINDS | {"info", "route", "review", "receipt", "end"}
BOOL_OPTIONS = ("yes", "no", "unknown")


@dataclass(frozen=True)
class FieldSpec:
    id: str
    type: str
    options: tuple[str, ...] = ()
    # "identity": a name or contact detail, sealed apart from the narrative under the case's
    # identity key (storage.identity); "report" for everything else.
    section: str = "report"
    # The repeated block (a GROUP field) this field belongs to, if any; for a GROUP field,
    # how many entries it may hold.
    group: str | None = None
    max: int = 0


@dataclass(frozen=True)
class Condition:
    field: str
    values: tuple[str, ...]

    def holds(self, answers: dict[str, Any]) -> bool:
        value = answers.get(self.field)
        return isinstance(value, str) and value in self.values


@dataclass(frozen=True)
class Step:
    flow: str
    id: str
    kind: str
    line: int
    field: str | None = None
    text: str | None = None
    help: str | None = None
    next: str | None = None  # fully qualified "flow:step", resolved at load
    options: tuple[str, ...] = ()
    labels: dict[str, str] = dc_field(default_factory=dict)
    branch: dict[str, str] = dc_field(default_factory=dict)  # answer -> "flow:step"
    on: str | None = None
    when: Condition | None = None
    required: bool = False
    consent: bool = False
    consent_text: str | None = None
    urgent_if: str | None = None
    # The last question of a repeated block: "yes" starts one more entry (up to the group's
    # max), anything else leaves the block by `next`.
    again: bool = False
    # A simpler wording (catalogue key) used when the reporter is a child (issue 18 item 5).
    text_child: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.flow}:{self.id}"

    def option_ids(self) -> tuple[str, ...]:
        return BOOL_OPTIONS if self.kind == "bool" else self.options

    def label_key(self, option_id: str) -> str:
        return self.labels.get(option_id, f"opt.{option_id}")


@dataclass(frozen=True)
class Flow:
    id: str
    version: int
    path: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class FlowSet:
    """Everything the engine needs: flows, steps by reference, catalogues, field dictionary."""

    flows: dict[str, Flow]
    steps: dict[str, Step]
    catalog: dict[str, dict[str, str]]  # lang -> key -> text
    fields: dict[str, FieldSpec]
    start: str
    version: str  # e.g. "opening.1+complaint.1+..." recorded with every report

    def group_of(self, step: Step) -> str | None:
        """The repeated block a question belongs to (None for a question asked once)."""
        spec = self.fields.get(step.field or "")
        return spec.group if spec is not None else None

    def group_start(self, group: str) -> str:
        """The first question of a repeated block (file order): where each entry begins."""
        return next(ref for ref, s in self.steps.items() if self.group_of(s) == group)

    def group_again(self, group: str) -> Step:
        return next(s for s in self.steps.values() if s.again and self.group_of(s) == group)

    @property
    def identity_fields(self) -> frozenset[str]:
        """The ids of the protected identity section (fields.yaml `section: identity`)."""
        return frozenset(f.id for f in self.fields.values() if f.section == "identity")

    def text(self, lang: str, key: str, **params: object) -> str:
        template = self.catalog[lang][key]
        if lang != "ar":
            return template.format(**params) if params else template
        from flows._bidi import isolate_ltr_runs  # numbers, codes and commands keep order

        if params:  # may hold what the reporter wrote: made afresh, never kept
            return isolate_ltr_runs(template.format(**params))
        return _isolated(template)


@lru_cache(maxsize=4096)
def _isolated(template: str) -> str:
    """A catalogue text (the bot's own words, no parameters) with its left-to-right runs
    isolated, kept: the engine shows the same few hundred texts again and again. Text that
    holds a reporter's words is never cached (see FlowSet.text)."""
    from flows._bidi import isolate_ltr_runs

    return isolate_ltr_runs(template)
