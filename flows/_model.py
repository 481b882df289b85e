"""Frozen, typed shapes of a loaded flow set: what the engine runs and the checker checks."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

QUESTION_KINDS = frozenset({"choice", "multi", "text", "date", "bool", "files"})
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

    @property
    def identity_fields(self) -> frozenset[str]:
        """The ids of the protected identity section (fields.yaml `section: identity`)."""
        return frozenset(f.id for f in self.fields.values() if f.section == "identity")

    def text(self, lang: str, key: str, **params: object) -> str:
        template = self.catalog[lang][key]
        text = template.format(**params) if params else template
        if lang == "ar":  # numbers, codes and commands keep their order in Arabic text
            from flows._bidi import isolate_ltr_runs
            text = isolate_ltr_runs(text)
        return text
