"""Rules and a trained intent model behind one `Interpreter`.

The rules decide what they are sure of: whole-message answers and commands ("la2", "تخطي",
"/exit"-like words), negation ("مش موافق" is deny), urgency, dates, and the context rule
(inside a free-text answer a command word is part of the answer). A trained model (the
built-in classifier or a Rasa server) decides the rest, with a calibrated confidence, and
answers `nlu_fallback` under its threshold. Urgency and dates always come from our code.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

from nlu import _lexicon as lx
from nlu._data import OUT_OF_SCOPE
from nlu._normalise import AR_LETTER_TABLE, normalise_arabic
from nlu._options import BARE_NUMBER
from nlu._rules import RuleInterpreter
from nlu._types import EXPECTING_KINDS, Interpretation
from nlu._urgency import IMMEDIATE

__all__ = ["HybridInterpreter", "Ranking"]

#: A model's answer: (intent, probability) pairs, most likely first.
Ranking = list[tuple[str, float]]

#: Rule results at or above this confidence are whole-message (or fully covered) matches.
RULE_SURE = 0.95
#: Intents that act on the conversation; a model may only propose them where a command is
#: plausible (no question, or a yes/no question), never inside answers to other questions.
_COMMANDS = lx.COMMAND_INTENTS | {"withdraw_consent"}
#: Destructive intents need more than the usual confidence from a model.
_DESTRUCTIVE = frozenset({"quick_exit", "withdraw_consent"})
DESTRUCTIVE_MIN = 0.75
#: A model's urgent_danger that no rule backs needs this much confidence (false alarms page
#: on-call); the rules' cues are what usually find danger.
URGENT_MIN = 0.45
_MODEL_MAY_COMMAND = frozenset({None, "bool"})
_ANSWERS = frozenset({"affirm", "deny", "dont_know"})
# "We are safe", "ما في خطر": a model that sees the word "danger" must not raise the alarm.
# (The rules already flag "I am not safe" / "مش بأمان" before the model is asked.)
_SAFE = re.compile(
    (
        r"\b(?:safe|not in danger|no danger|nobody is in danger|no one is in danger|fine|ok now|"
        r"(?:و|ف)?بامان|امان|كويس|كويسه|مليح|مليحه|زين|ana labas|ana zin|ana zen|ana kwayes|mli7|"
        r"(?:و|ف|وف|في)امان|لاباس|مزيان|labas|mzyan|f aman|"
        r"بخير|منيح|مرتاح|ما في خطر|مافي خطر|ما فيه خطر|مش بخطر|مو بخطر|لا يوجد خطر|"
        r"ما في حدا بخطر|b ?amen|b ?aman|mni7|mne7|bkhair|b5air|bi ?khair|"
        r"mafi khatar|ma fi khatar|mesh b ?khatar|msh b ?khatar)\b"
    ).translate(AR_LETTER_TABLE)
)

# The bare name of an agency or place ("المخابرات الجوية", "state security") is no danger,
# however often such names appear in the model's urgent examples.
_AGENCY = re.compile(
    (
        r"^(?:the |al |el |la |le |l )?(?:\w+ )?(?:ال)?"
        r"(?:مخابرات|امن|شرطه|بوليس|جيش|عسكر|دياراس|لاديستي|"
        r"ديستي|حرس|مباحث|جهاز|فرع|سجن|قسم|كوميساريه|بوسطه|بوسته|حراسه|موقف|مديريه|"
        r"police|army|military|intelligence|security|"
        r"state security|mukhabarat|mokhabarat|amn|shorta|jaish|commissariat|prison|jail|"
        r"checkpoint|حاجز|معتقل|الامن|dst|dged|bnpj|drs|dgsn|gendarmerie|moba7ith|mukhabarat|"
        r"sijn|sejen|7abs|7bes|far3|7ajez|markaz)(?: \w+)?"
        r"(?: (?:el|al|l|de|du|متاع|ديال|تاع|بتاع|تبع|dyal|dial|mta3|ta3) \w+)?$"
    ).translate(AR_LETTER_TABLE)
)


class HybridInterpreter:
    """`Interpreter` that joins `RuleInterpreter` and a model's `rank(text)`.

    `rank` gets the raw text and returns a `Ranking` (labels as in the training data, where
    `out_of_scope` means none of the intents). `threshold` is the calibrated confidence under
    which the model's answer is `nlu_fallback`.
    """

    def __init__(
        self, rank: Callable[[str], Ranking], threshold: float, rules: RuleInterpreter | None = None
    ) -> None:
        self._rank = rank
        self.threshold = threshold
        self.rules = rules or RuleInterpreter()

    def interpret(
        self, text: str, *, expecting: str | None = None, field: str | None = None
    ) -> Interpretation:
        """Interpret one message; `expecting` is the kind of question being asked and
        `field` the report field it asks for (an answer naming a place is not a danger)."""
        if expecting not in EXPECTING_KINDS:
            raise ValueError(f"unknown expecting kind: {expecting!r}")
        ruled = self.rules.interpret(text, expecting=expecting, field=field)
        if BARE_NUMBER.match(text) and not ruled.urgent:
            return replace(ruled, intent="nlu_fallback", confidence=0.0)
        if not text.strip() or ruled.confidence >= RULE_SURE or ruled.intent == "urgent_danger":
            return ruled
        if expecting == "date" and ruled.entity("date") is not None:
            return ruled  # a date answer
        if ruled.urgent or (expecting == "bool" and ruled.intent in _ANSWERS):
            return ruled  # the rules kept the answer on purpose ("yes, they are here now")
        intent, confidence = self._model_intent(text, expecting)
        if intent == "nlu_fallback":
            if ruled.intent != "nlu_fallback":
                return ruled  # a partial lexicon match is better than nothing
            return replace(ruled, confidence=min(confidence, ruled.confidence or confidence))
        if intent == ruled.intent:
            return replace(ruled, confidence=max(confidence, ruled.confidence))
        if intent == "urgent_danger" and expecting is not None:
            # An answer to a question ("المخابرات" at "who was responsible?") is urgent only
            # by the rules' cues, never by a model that has seen similar words in danger.
            return ruled
        urgent = intent == "urgent_danger"  # the rules found no danger; the model does
        reasons = (IMMEDIATE,) if urgent else ()
        entities = tuple(e for e in ruled.entities if e.entity != "language")
        return replace(
            ruled,
            intent=intent,
            confidence=confidence,
            entities=entities,
            urgent=urgent,
            urgent_reasons=reasons,
            by_model=True,
        )

    def _model_intent(self, text: str, expecting: str | None) -> tuple[str, float]:
        """The model's intent where it may decide, or ("nlu_fallback", its confidence)."""
        if expecting == "text":
            # A narrative answer: only the rules' short commands count, and the text is not
            # even shown to the model (nor sent to a Rasa server).
            return "nlu_fallback", 0.0
        ranking = self._rank(text)
        allowed = [
            (name, p)
            for name, p in ranking
            if expecting in _MODEL_MAY_COMMAND or name not in _COMMANDS
        ]
        if not allowed:
            return "nlu_fallback", 0.0
        name, p = allowed[0]
        norm = normalise_arabic(text).strip()
        if name == "urgent_danger" and (
            _SAFE.search(norm) or _AGENCY.match(norm) or self.rules.urgency.past(norm)
        ):
            return "nlu_fallback", 0.0
        if name in (OUT_OF_SCOPE, "nlu_fallback") or p < self.threshold:
            return "nlu_fallback", min(p, self.threshold)
        if name == "urgent_danger" and p < URGENT_MIN:
            return "nlu_fallback", p
        if name in _DESTRUCTIVE and p < max(DESTRUCTIVE_MIN, self.threshold):
            return "nlu_fallback", p
        return name, p
