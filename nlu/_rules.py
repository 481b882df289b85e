"""`RuleInterpreter`: the lexicon and rule backend of the `Interpreter` protocol.

Everything is compiled once at construction; `interpret` only normalises, tokenises and
looks phrases up in dictionaries, so a short message takes a few tens of microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from nlu import _lexicon as lx
from nlu._dates import parse_date
from nlu._language import detect_language, tokens
from nlu._normalise import AR_LETTER_TABLE, normalise_arabic, normalise_with_map
from nlu._types import EXPECTING_KINDS, NAMING_FIELDS, Entity, Interpretation
from nlu._urgency import (
    CHILD,
    IMMEDIATE,
    MEDICAL,
    ONGOING,
    SELF_HARM,
    THREAT_TIME,
    THREAT_WITHDRAW,
    UrgencyDetector,
)

__all__ = ["RuleInterpreter"]

SHORT_LIMIT = 4  # words (without fillers) below which answer words may share a message
TEXT_COMMAND_LIMIT = 3  # with expecting="text", a command must be the whole message, this short
_ANSWER_INTENTS = frozenset({"affirm", "deny", "dont_know"})
_REPORT_INTENTS = frozenset({"report_complaint", "report_reprisal"})
_KEEP_OVER_URGENT = frozenset({"quick_exit", "urgent_danger"})
_ONLY_PUNCT_QUESTION = re.compile(r"^[\s?؟]+$")

_THREAT = (
    r"\b(?:threat\w*|intimidat\w*|harass\w*|warn\w*|punish\w*|retaliat\w*|revenge|fired|"
    r"dismissed|summoned|travel ban|arrested|detained|اعتقلوني|اعتقلوا|اعتقلو|يهدد\w*|"
    r"بيهدد\w*|هدد\w*|تهديد\w*|يضايق\w*|ضايق\w*|"
    r"مضايق\w*|ينتقم\w*|انتقم\w*|عاقب\w*|يعاقب\w*|منعوني من السفر|منع سفر|فصلوني|طردوني|"
    r"راقبوني|يراقبوني|بيراقبوني|ملاحق\w*|استدعوني|حققوا معي|يخوفوني|خوفوني|yhaded\w*|"
    r"yhadd\w*|hadadoni|haddadouni|bihaddedo\w*)\b"
)
_COOPERATION = (
    r"\b(?:un|u\.n|united nations|human rights|committee|rapporteur|commission|commissioner|"
    r"nhri|ombudsman|ngo|npm|testif\w*|cooperat\w*|talked to|spoke to|spoke with|talked with|"
    r"met with|reported to|the delegation|(?:ال|لل|بال)?امم المتحده|حقوق الانسان|المقرر\w*|"
    r"اللجنه|لجنه|المفوضيه|منظمه|المنظمه|شهادتي|شهدت|اشتكيت|بلغت|حكيت مع|تكلمت مع|تحدثت مع|"
    r"تعاونت|تواصلت مع|قابلت|الوفد|el umam|omam|2omam)\b"
)

# "Delete everything" said with other words ("someone is here, delete everything", "حدا جاي
# امسح كل شي", "jaw, m7i kolchi"): quick exit first, whatever else the message says.
_ERASE = (
    r"\b(?:delete|erase|wipe|clear|remove) (?:everything|it all|all of it|all|this chat|the chat|"
    r"this conversation|the conversation|my messages|the whole (?:chat|conversation|thing))\b|"
    # "امسح الكلام كله", "مسح الهضرة كاملة", "فسخ الكلام الكل", "امحُ المحادثة كلها"
    r"\b(?:و|ف)?(?:امسح|امسحي|امسحوا|امسحو|احذف|امحي|امحو|امح|مسح|فسخ|احذفلي|امسحلي)\s"
    r"(?:ال)?(?:كلام|حكي|حچي|هضره|هدره|محادثه|رسايل|رسائل|شات)\w*\b|"
    r"\b(?:و|ف)?(?:امسح|امسحي|امسحوا|امسحو|احذف|احذفي|احذفوا|امحي|امحو|امحيه|مسح|نحي|نحيو|شيل|"
    r"فسخ|احذفلي|امسحلي|حذف)\s?(?:كل شي|كل شيء|كلشي|كل حاجه|كله|الكل|المحادثه|الرسايل|"
    r"الرسائل|كولشي|قاع|الشات|كل حاجة)\b|"
    r"\b(?:m7i|m7ih|mse7|ms7|imsa7|emsa7|amsa7|ems7|e7zef|i7zif|ahzef|a7zef|fasakh|fsakh|"
    r"na7i|n7i|supprime|supprimi|efface|effaci|delete|suppr|ims7|ms7)\w* ?(?:el |l)?(?:kolchi|"
    r"kolshi|kol shi|kel shi|kelshi|koulchi|kulshi|tout|kol 7aga|kol haga|koloh|kollo|el chat|"
    r"lmessages|9a3|kil shay|kol chay|hedra|lhedra|mo7adatha|kalam|chat|messages)\b"
)
_ERASE_SHORT = 10  # words: a longer message needs words of danger too
# An answer to a naming question (who, where) is a name up to this many words: there only
# the reasons below ("عم يعذبوه بالفرع" is an act), or a now-marker ("هلق", "daba"), make it urgent.
_NAMING_ANSWER_WORDS = 6
_NAMING_KEEPS = frozenset({SELF_HARM, MEDICAL, CHILD, ONGOING, THREAT_TIME, THREAT_WITHDRAW})


@dataclass(frozen=True)
class _Phrase:
    intent: str
    contained: bool
    value: str | None  # the target language of a change_language phrase


@dataclass(frozen=True)
class _Match:
    intent: str
    start: int  # content-token indices, end exclusive
    end: int
    value: str | None
    contained: bool = False


class RuleInterpreter:
    """Lexicon and rule based `Interpreter` (see `nlu._lexicon` for the phrases).

    `clock` gives "now" for relative dates when `expecting="date"` (default: current time).
    """

    def __init__(self, *, clock: Callable[[], datetime] | None = None) -> None:
        self._clock = clock
        self._phrases: dict[tuple[str, ...], _Phrase] = {}
        for intent, spec in lx.SHORT_PHRASES.items():
            self._add(intent, lx.split_phrases(spec), contained=False)
        for intent, spec in lx.CONTAINED_PHRASES.items():
            self._add(intent, lx.split_phrases(spec), contained=True)
        for code, spec in lx.LANGUAGE_PHRASES.items():
            self._add("change_language", lx.split_phrases(spec), contained=False, value=code)
        self._by_first: dict[str, list[tuple[tuple[str, ...], _Phrase]]] = {}
        for key, phrase in sorted(self._phrases.items(), key=lambda kv: -len(kv[0])):
            self._by_first.setdefault(key[0], []).append((key, phrase))
        self._fillers = sorted(
            (_norm_tokens(f) for f in lx.split_phrases(lx.FILLERS)), key=len, reverse=True
        )
        # by first word, longest first: a word that starts no filler costs one lookup
        self._fillers_by_first: dict[str, list[tuple[str, ...]]] = {}
        for filler in self._fillers:
            self._fillers_by_first.setdefault(filler[0], []).append(filler)
        self._negators = frozenset(normalise_arabic(n) for n in lx.split_phrases(lx.NEGATORS))
        self._rank = {intent: i for i, intent in enumerate(lx.PRIORITY)}
        self._urgency = UrgencyDetector()
        self.urgency = self._urgency  # the hybrid asks it whether a text speaks of the past
        self._threat = re.compile(_THREAT.translate(AR_LETTER_TABLE))
        self._cooperation = re.compile(_COOPERATION.translate(AR_LETTER_TABLE))
        self._erase = re.compile(_ERASE.translate(AR_LETTER_TABLE))

    def _add(
        self, intent: str, phrases: Iterable[str], *, contained: bool, value: str | None = None
    ) -> None:
        for raw in phrases:
            key = _norm_tokens(raw)
            if not key:
                raise ValueError(f"lexicon phrase {raw!r} of {intent} has no words")
            old = self._phrases.get(key)
            if old is not None and (old.intent != intent or old.value != value):
                raise ValueError(
                    f"lexicon phrase {raw!r} is listed for both {old.intent} and {intent}"
                )
            self._phrases[key] = _Phrase(intent, contained or bool(old and old.contained), value)

    def interpret(
        self, text: str, *, expecting: str | None = None, field: str | None = None
    ) -> Interpretation:
        """Interpret one message; `expecting` is the kind of question being asked and
        `field` the report field it asks for (`NAMING_FIELDS`: a name is not a danger)."""
        if expecting not in EXPECTING_KINDS:
            raise ValueError(f"unknown expecting kind: {expecting!r}")
        lang, arabizi = detect_language(text)
        norm = normalise_arabic(text)
        urgency = self._urgency.detect(norm)
        reasons = urgency.reasons
        if _ONLY_PUNCT_QUESTION.match(text):
            return Interpretation(text, lang, arabizi, "help", 1.0)
        words = tokens(norm)
        if (
            reasons
            and field in NAMING_FIELDS
            and len(words) <= _NAMING_ANSWER_WORDS
            and not self._urgency.now(norm)
        ):
            # "قسم الشرطة جنب البيت" for "where did it happen?" names a place
            reasons = tuple(r for r in reasons if r in _NAMING_KEEPS)
        content, positions = self._strip_fillers(words)
        entities: list[Entity] = []

        intent, confidence, match = self._classify(content, expecting, exact_only=False)
        if expecting == "date" and confidence < 1.0:
            value = parse_date(text, lang, self._clock() if self._clock else None)
            if value is not None and value.iso is not None:
                stripped = text.strip()
                start = text.index(stripped)
                entities.append(Entity("date", value, start, start + len(stripped)))
                # A date answer: only a whole-message command ("skip") still counts.
                intent, confidence, match = self._classify(content, expecting, exact_only=True)
        if match is None and intent == "nlu_fallback":
            if self._threat.search(norm) and self._cooperation.search(norm):
                intent, confidence = "report_reprisal", 0.8

        if (
            confidence < 0.95
            and self._erase.search(norm)
            and (reasons or (len(words) <= _ERASE_SHORT and expecting != "text"))
        ):
            intent, confidence, match = "quick_exit", 0.97, None  # erase first, alarm second

        if intent == "urgent_danger" and not reasons:
            reasons = (IMMEDIATE,)
        if reasons and expecting not in ("text", "bool") and intent not in _KEEP_OVER_URGENT:
            intent, confidence = "urgent_danger", max(confidence, 0.9)
        if intent == "change_language" and match is not None and match.value:
            entities.append(self._language_entity(text, positions, match))
        return Interpretation(
            text, lang, arabizi, intent, confidence, tuple(entities), bool(reasons), reasons
        )

    def _strip_fillers(self, words: list[str]) -> tuple[list[str], list[int]]:
        """Drop politeness words; return the content words and their indices in `words`."""
        content: list[str] = []
        positions: list[int] = []
        i = 0
        by_first = self._fillers_by_first
        while i < len(words):
            for filler in by_first.get(words[i], ()):
                if tuple(words[i : i + len(filler)]) == filler:
                    i += len(filler)
                    break
            else:
                content.append(words[i])
                positions.append(i)
                i += 1
        return content, positions

    def _classify(
        self, content: list[str], expecting: str | None, *, exact_only: bool
    ) -> tuple[str, float, _Match | None]:
        """Intent, confidence and deciding phrase of the content words."""
        n = len(content)
        if n == 0:
            return "nlu_fallback", 0.0, None
        exact = self._phrases.get(tuple(content))
        if exact is not None and not (
            expecting == "text" and exact.intent in lx.COMMAND_INTENTS and n > TEXT_COMMAND_LIMIT
        ):
            return exact.intent, 1.0, _Match(exact.intent, 0, n, exact.value)
        if exact_only:
            return "nlu_fallback", 0.0, None
        matches = [m for m in self._scan(content) if self._allowed(m, n, expecting)]
        if not matches:
            return "nlu_fallback", 0.0, None
        best, covered = self._best(matches)
        if covered == n:
            confidence = 0.95
        else:
            confidence = min(0.9, 0.5 + 0.4 * covered / n)
        return best.intent, confidence, best

    def _scan(self, content: list[str]) -> list[_Match]:
        """All lexicon phrases found in `content`, with negation applied."""
        found: list[_Match] = []
        for i, word in enumerate(content):
            for key, phrase in self._by_first.get(word, ()):
                if tuple(content[i : i + len(key)]) != key:
                    continue
                negated = i > 0 and content[i - 1] in self._negators
                if phrase.intent == "affirm" and negated:
                    found.append(_Match("deny", i - 1, i + len(key), None))
                elif phrase.intent == "urgent_danger" and any(
                    w in self._negators for w in content[max(0, i - 3) : i]
                ):
                    continue  # "ما في خطر", "not in danger"
                else:
                    found.append(
                        _Match(phrase.intent, i, i + len(key), phrase.value, phrase.contained)
                    )
        return found

    @staticmethod
    def _allowed(match: _Match, n: int, expecting: str | None) -> bool:
        """May this phrase decide the intent of an `n`-word message?"""
        if expecting == "text":
            if match.intent in lx.COMMAND_INTENTS:
                return False  # commands inside a narrative are part of the answer
            return n <= SHORT_LIMIT or (match.contained and match.intent in _REPORT_INTENTS)
        if n <= SHORT_LIMIT or match.contained or (match.end - match.start) / n >= 0.6:
            return True
        return expecting == "bool" and match.start == 0 and match.intent in _ANSWER_INTENTS

    def _best(self, matches: list[_Match]) -> tuple[_Match, int]:
        """The intent with the longest phrase, then the most words covered, then priority."""
        covered: dict[str, set[int]] = {}
        longest: dict[str, _Match] = {}
        for m in matches:
            covered.setdefault(m.intent, set()).update(range(m.start, m.end))
            current = longest.get(m.intent)
            if current is None or (m.end - m.start) > (current.end - current.start):
                longest[m.intent] = m
        intent = max(
            longest,
            key=lambda it: (
                longest[it].end - longest[it].start,
                len(covered[it]),
                -self._rank.get(it, len(self._rank)),
            ),
        )
        return longest[intent], len(covered[intent])

    @staticmethod
    def _language_entity(text: str, positions: list[int], match: _Match) -> Entity:
        """Entity "language" spanning the matched words in the caller's original text."""
        norm, origin = normalise_with_map(text)
        spans = [m.span() for m in re.finditer(r"[^\W_]+(?:'[^\W_]+)*", norm)]
        first, last = positions[match.start], positions[match.end - 1]
        start = origin[spans[first][0]] if first < len(spans) else 0
        end = origin[spans[last][1] - 1] + 1 if last < len(spans) else len(text)
        return Entity("language", match.value, start, end)


def _norm_tokens(phrase: str) -> tuple[str, ...]:
    return tuple(tokens(normalise_arabic(phrase)))
