"""Conversation state, events and actions: plain frozen data, JSON round-trippable.

The engine never reads a clock or a random source: time arrives inside events and everything
random (case ids, keys, receipts) is made by the service around it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from dataclasses import fields as dc_fields
from datetime import datetime
from typing import Any

from nlu import Interpretation

__all__ = [
    "ADDENDUM",
    "AFTER_REVIEW",
    "CHECKIN",
    "CHECKIN_OPTIONS",
    "CONFIRM",
    "CONSENTS",
    "CONSENT_SET",
    "READING",
    "RESUME",
    "SPECIAL_STEPS",
    "SUBMITTING",
    "URGENT_OFFER",
    "WITHDRAW",
    "Action",
    "Begin",
    "ChangeConsent",
    "CheckinAnswer",
    "DiscardDraft",
    "Event",
    "Finished",
    "OpenAddendum",
    "OpenCheckin",
    "Reply",
    "Resume",
    "SpecialStep",
    "State",
    "SubmitAddendum",
    "SubmitReport",
    "Submitted",
    "UserCommand",
    "UserFile",
    "UserText",
    "WithdrawCase",
]

# Pseudo-steps the engine asks outside the flow files: declared once, in SPECIAL_STEPS.
RESUME = "sys:resume"
CONFIRM = "sys:confirm"
AFTER_REVIEW = "sys:after_review"
SUBMITTING = "sys:submitting"  # sent to the service, waiting for `Submitted` (never asked)
ADDENDUM = "sys:addendum"  # adding information to a submitted case (receipt or follow-up)
URGENT_OFFER = "sys:urgent_offer"  # only the urgent questions, or the full report?
WITHDRAW = "sys:withdraw"  # confirm withdrawing a submitted report
READING = "sys:reading"  # "You wrote …: is that a Yes?" before a model-only Yes counts
CONSENTS = "sys:consents"  # with the receipt: the current consents, pick one to change
CONSENT_SET = "sys:consent_set"  # grant or withdraw the consent picked (held in paused_at)
CHECKIN = "sys:checkin"  # a safety check-in: safe / something happened / call me / stop them
CHECKIN_OPTIONS = ("safe", "not_safe", "call_me", "stop_checkins")


@dataclass(frozen=True)
class SpecialStep:
    """A question the engine asks itself, outside the flow files: the kind of answer it
    wants (a `Reply` kind, also what the interpreter is told to expect), the reply's field,
    its fixed options (the engine adds the consents where they can be changed) and the
    catalogue key of its text (None: the engine composes it)."""

    id: str
    kind: str  # bool | choice | text
    field: str | None  # None: the consent being changed (CONSENT_SET)
    options: tuple[str, ...]
    text: str | None
    labels: Mapping[str, str] = dc_field(default_factory=dict)  # option id -> catalogue key


_YES_NO = ("yes", "no")
SPECIAL_STEPS: Mapping[str, SpecialStep] = {
    s.id: s
    for s in (
        SpecialStep(
            RESUME,
            "bool",
            "resume",
            _YES_NO,
            "sys.resume.ask",
            {"yes": "opt.continue", "no": "opt.restart"},
        ),
        SpecialStep(CONFIRM, "bool", "confirm_submit", _YES_NO, "sys.review.confirm"),
        SpecialStep(
            AFTER_REVIEW,
            "choice",
            "after_review",
            ("edit", "discard", "later"),
            "sys.review.after_no",
        ),
        SpecialStep(
            URGENT_OFFER,
            "choice",
            "urgent_path",
            ("urgent_short", "urgent_full"),
            "sys.urgent.offer",
        ),
        SpecialStep(ADDENDUM, "text", "addendum", ("done", "withdraw"), "sys.addendum.ask"),
        SpecialStep(WITHDRAW, "bool", "withdraw_confirm", _YES_NO, "sys.withdraw.ask"),
        SpecialStep(READING, "bool", "confirm_reading", _YES_NO, None),
        SpecialStep(CONSENTS, "choice", "consent_change", ("done",), None),
        SpecialStep(CONSENT_SET, "bool", None, _YES_NO, None),
        SpecialStep(CHECKIN, "choice", "checkin", CHECKIN_OPTIONS, None),
    )
}


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
    addendum_for: str | None = None  # case_ref being added to
    addendum_count: int = 0
    urgent_offered: bool = False
    # A consequential answer the model proposed: {"for": step ref or pseudo-step, "value",
    # "words"}; it counts only once the reporter confirms it (state.at is READING meanwhile).
    reading: dict[str, str] | None = None
    # The conversation was erased because someone was there ("someone is here, delete
    # everything"): nothing of it is kept but this mark, the language and the reason codes,
    # so that the next message (until the draft expires) is offered the urgent questions.
    danger_exit: bool = False
    checkin: str | None = None  # the id of the safety check-in being answered
    # Inside a repeated block (several victims): which entry is being asked, 1-based (person
    # n + 1: the first person is the one the report is about); 0 outside any block.
    repeat: int = 0

    def to_json(self) -> dict[str, Any]:
        # Field by field rather than dataclasses.asdict, which deep-copies every answer on
        # each message; the result is serialised at once and never changed.
        return {f.name: getattr(self, f.name) for f in dc_fields(self)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> State:
        return cls(
            lang=data["lang"],
            at=data.get("at"),
            paused_at=data.get("paused_at"),
            answers=dict(data.get("answers", {})),
            skipped=tuple(data.get("skipped", ())),
            trail=tuple(data.get("trail", ())),
            consent=dict(data.get("consent", {})),
            files=tuple(data.get("files", ())),
            urgent=tuple(data.get("urgent", ())),
            mode=data.get("mode", "active"),
            started_at=data.get("started_at"),
            addendum_for=data.get("addendum_for"),
            addendum_count=int(data.get("addendum_count", 0)),
            urgent_offered=bool(data.get("urgent_offered", False)),
            reading=data.get("reading"),
            checkin=data.get("checkin"),
            danger_exit=bool(data.get("danger_exit", False)),
            repeat=int(data.get("repeat", 0)),
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
    interpretation: Interpretation
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


@dataclass(frozen=True)
class OpenAddendum:
    """A receipt was verified, or a caseworker's message was delivered: the reporter may add
    information to the case. `intro` is a catalogue key shown first, with `params`."""

    case_ref: str
    lang: str
    intro: str | None
    at: datetime
    params: dict[str, str] = dc_field(default_factory=dict)
    # With a receipt: the case's current consents (as cases.consent holds them), so the
    # reporter can see and change each one; None when a caseworker's message opened it.
    consent: dict[str, dict[str, Any]] | None = None


@dataclass(frozen=True)
class OpenCheckin:
    """A safety check-in reached the reporter (their channel, their language): ask how they
    are, answerable by number or word."""

    case_ref: str
    lang: str
    checkin_id: str
    at: datetime


Event = Begin | Resume | UserText | UserCommand | UserFile | Submitted | OpenAddendum | OpenCheckin


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
            "text": self.text,
            "field": self.field,
            "kind": self.kind,
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
class SubmitAddendum:
    """Seal this addition to the case under a new data key and append it to its history."""

    case_ref: str
    index: int
    text: str | None = None
    file: dict[str, Any] | None = None


@dataclass(frozen=True)
class ChangeConsent:
    """The reporter changed one consent with the receipt: seal a new consent version
    (value, time, language, text version) to the case's recipients."""

    case_ref: str
    index: int
    field: str
    value: str
    at: str
    lang: str
    text: str
    version: str


@dataclass(frozen=True)
class CheckinAnswer:
    """The reporter answered a safety check-in: safe | not_safe | call_me | stop."""

    case_ref: str
    checkin_id: str
    answer: str


@dataclass(frozen=True)
class WithdrawCase:
    """The reporter withdrew: remove the case's content, keep a minimal tombstone."""

    case_ref: str


@dataclass(frozen=True)
class DiscardDraft:
    """Erase the draft and every file sealed for it."""


@dataclass(frozen=True)
class Finished:
    """The conversation is over; the next message starts a new one."""


Action = (
    Reply
    | SubmitReport
    | SubmitAddendum
    | ChangeConsent
    | WithdrawCase
    | DiscardDraft
    | Finished
    | CheckinAnswer
)
