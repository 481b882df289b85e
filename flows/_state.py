"""Conversation state, events and actions: plain frozen data, JSON round-trippable.

The engine never reads a clock or a random source: time arrives inside events and everything
random (case ids, keys, receipts) is made by the service around it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from dataclasses import field as dc_field
from datetime import datetime
from typing import Any

# Pseudo-steps the engine asks outside the flow files.
RESUME = "sys:resume"
CONFIRM = "sys:confirm"
AFTER_REVIEW = "sys:after_review"
SUBMITTING = "sys:submitting"


@dataclass(frozen=True)
class State:
    lang: str = "ar"
    at: str | None = None  # the step awaiting an answer
    paused_at: str | None = None  # where a resume returns to
    answers: dict[str, Any] = dc_field(default_factory=dict)
    skipped: tuple[str, ...] = ()
    trail: tuple[str, ...] = ()  # answered question steps, in order: the path taken
    consent: dict[str, dict[str, Any]] = dc_field(default_factory=dict)
    files: tuple[dict[str, Any], ...] = ()
    urgent: tuple[str, ...] = ()
    mode: str = "active"  # active | ended | submitted
    started_at: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(
            lang=data["lang"], at=data.get("at"), paused_at=data.get("paused_at"),
            answers=dict(data.get("answers", {})), skipped=tuple(data.get("skipped", ())),
            trail=tuple(data.get("trail", ())), consent=dict(data.get("consent", {})),
            files=tuple(data.get("files", ())), urgent=tuple(data.get("urgent", ())),
            mode=data.get("mode", "active"), started_at=data.get("started_at"),
        )


# ---- events -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Begin:
    at: datetime
    lang: str | None = None  # chosen up front (e.g. `sanad chat --lang ar`)
    hint: str | None = None  # language guessed from the first message


@dataclass(frozen=True)
class Resume:
    at: datetime


@dataclass(frozen=True)
class UserText:
    text: str
    interpretation: Any  # nlu.Interpretation
    at: datetime


@dataclass(frozen=True)
class UserCommand:
    name: str  # skip | back | exit | lang | help | start | delete
    at: datetime
    arg: str | None = None


@dataclass(frozen=True)
class UserFile:
    """A file the service has already sealed; only its metadata reaches the engine."""

    id: str
    name: str
    size: int
    sha256: str
    content_type: str
    at: datetime


@dataclass(frozen=True)
class Submitted:
    case_ref: str
    receipt: str
    at: datetime


Event = Begin | Resume | UserText | UserCommand | UserFile | Submitted


# ---- actions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Reply:
    text: str
    kind: str  # info | choice | multi | text | date | bool | files | receipt
    lang: str
    field: str | None = None
    options: tuple[tuple[str, str], ...] = ()
    extra: dict[str, str] = dc_field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text, "field": self.field, "kind": self.kind,
            "options": [{"id": i, "label": label} for i, label in self.options],
            "lang": self.lang,
        }
        out.update(self.extra)
        return out


@dataclass(frozen=True)
class SubmitReport:
    """Seal and queue this report in one transaction, then send Submitted back."""

    fields: dict[str, Any]
    files: tuple[dict[str, Any], ...]
    consent: dict[str, dict[str, Any]]
    urgent: tuple[str, ...]
    lang: str


@dataclass(frozen=True)
class DiscardDraft:
    """Erase the draft and every file sealed for it."""


@dataclass(frozen=True)
class Finished:
    """The conversation is over; the next message starts a new one."""


Action = Reply | SubmitReport | DiscardDraft | Finished
