"""Typed results of interpretation and the `Interpreter` protocol every backend implements."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "EXPECTING_KINDS",
    "INTENTS",
    "NAMING_FIELDS",
    "Entity",
    "Interpretation",
    "Interpreter",
]

#: Intent names of the `sanad nlu parse` contract (plus `done` for the files step).
INTENTS: tuple[str, ...] = (
    "greet",
    "affirm",
    "deny",
    "dont_know",
    "skip",
    "go_back",
    "quick_exit",
    "help",
    "ask_human",
    "urgent_danger",
    "change_language",
    "report_complaint",
    "report_reprisal",
    "withdraw_consent",
    "check_status",
    "thanks",
    "done",
    "nlu_fallback",
)

#: Kinds of question the bot may be asking when it interprets an answer.
EXPECTING_KINDS: tuple[str | None, ...] = (None, "choice", "multi", "bool", "date", "files", "text")

#: Fields (report-fields.md ids) whose answer names someone or somewhere: who was
#: responsible, where it happened, the country, a name. Such an answer alone ("فرع المخابرات
#: تحت البناية" for "where?") never raises urgency; words of danger beyond it still do (a
#: now-marker, self-harm, health in custody, a child, a threat, or a longer account).
#: Narrative and "anything else" answers (`narrative`, `injuries`, `contact_safety`...) and
#: messages with no question open are judged on their words alone.
NAMING_FIELDS: frozenset[str] = frozenset(
    {
        "perpetrator_type",
        "reprisal_by",
        "incident_location",
        "place_type",
        "country",
        "reporter_name",
        "victim_name",
        "reporter_role",
        "cooperation_body",
        "urgent_who",
    }
)


@dataclass(frozen=True)
class Entity:
    """A value found in the text; `start`/`end` index the caller's original text."""

    entity: str
    value: object
    start: int
    end: int

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form; dataclass values (e.g. `DateValue`) become objects."""
        value = self.value
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        return {"entity": self.entity, "value": value, "start": self.start, "end": self.end}


@dataclass(frozen=True)
class Interpretation:
    """What a message means: language, intent, entities and whether it signals danger."""

    text: str
    lang: str
    arabizi: bool
    intent: str
    confidence: float
    entities: tuple[Entity, ...] = ()
    urgent: bool = False
    urgent_reasons: tuple[str, ...] = ()
    #: The intent is a trained model's guess, not a curated word list's match: on a consent,
    #: "send now", "withdraw" or "discard" question such a guess is confirmed, never taken.
    by_model: bool = False

    @property
    def urgent_reason(self) -> str | None:
        """Why the text is urgent, in the contract's words (None when it is not)."""
        from nlu._urgency import primary_reason

        return primary_reason(self.urgent_reasons) if self.urgent else None

    def to_json(self) -> dict[str, Any]:
        """The object printed by `sanad nlu parse` (contracts.md), key for key."""
        return {
            "text": self.text,
            "lang": self.lang,
            "arabizi": self.arabizi,
            "intent": {"name": self.intent, "confidence": round(self.confidence, 3)},
            "entities": [e.to_json() for e in self.entities],
            "urgent": self.urgent,
            "urgent_reason": self.urgent_reason,
        }

    def entity(self, name: str) -> Entity | None:
        """The first entity called `name`, if any."""
        return next((e for e in self.entities if e.entity == name), None)


@runtime_checkable
class Interpreter(Protocol):
    """Turns one user message into an `Interpretation`.

    `expecting` is the kind of question being asked (see `EXPECTING_KINDS`); with "text"
    the message is taken as an answer unless it is a short, unmistakable command. `field`
    is the report field the question asks for (see `NAMING_FIELDS`), None when unknown.
    """

    def interpret(
        self, text: str, *, expecting: str | None = None, field: str | None = None
    ) -> Interpretation:
        """Interpret `text`; never raises for any string input."""
        ...
