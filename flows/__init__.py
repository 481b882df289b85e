"""Declarative bilingual conversation flows and the pure engine that runs them."""

from flows._errors import FlowProblem, FlowValidationError
from flows._loader import load_flowset
from flows._model import FieldSpec, FlowSet, Step
from flows._state import (
    ADDENDUM,
    AFTER_REVIEW,
    CHECKIN,
    CHECKIN_OPTIONS,
    CONFIRM,
    RESUME,
    Action,
    Begin,
    ChangeConsent,
    CheckinAnswer,
    DiscardDraft,
    Event,
    Finished,
    OpenAddendum,
    OpenCheckin,
    Reply,
    Resume,
    State,
    SubmitAddendum,
    SubmitReport,
    Submitted,
    UserCommand,
    UserFile,
    UserText,
    WithdrawCase,
)
from flows.engine import Engine

__all__ = [
    "ADDENDUM", "AFTER_REVIEW", "CHECKIN", "CHECKIN_OPTIONS", "CONFIRM", "RESUME", "Action",
    "Begin", "ChangeConsent", "CheckinAnswer", "DiscardDraft",
    "Engine", "Event", "FieldSpec", "Finished", "FlowProblem", "FlowSet",
    "FlowValidationError", "OpenAddendum", "OpenCheckin", "Reply", "Resume", "State", "Step",
    "SubmitAddendum", "SubmitReport", "Submitted", "UserCommand", "UserFile", "UserText",
    "WithdrawCase",
    "load_flowset",
]
