"""Which offered options does a free-text answer name? ("الشرطة والجيش" -> police, military)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

from nlu._language import tokens
from nlu._normalise import normalise_arabic
from nlu._synonyms import OPTION_SYNONYMS

__all__ = ["BARE_NUMBER", "OPTION_SYNONYMS", "match_option"]

#: A bare number or list of numbers ("2", "٢.", "1, 3"): never an intent of its own; only a
#: question's options give it meaning (contracts.md, nlu parse).
BARE_NUMBER = re.compile(r"^\s*[0-9٠-٩۰-۹]+(?:\s*[,،]\s*[0-9٠-٩۰-۹]+)*\s*[.)]?\s*$")

_NEGATORS = frozenset("not never no مش مو ليس ليست غير مب مش mish msh mesh mo".split())
_SKIPPABLE = frozenset("the a an by from of".split())


@lru_cache(maxsize=4096)
def _phrase(text: str) -> tuple[str, ...]:
    return tuple(tokens(normalise_arabic(text)))


def _variants(word: str) -> frozenset[str]:
    """The word and its forms without Arabic clitics (و ف ب ل ك ال عال) or an English plural s."""
    out = {word}
    bases = [word]
    if len(word) > 3 and word[0] in "وف":
        bases.append(word[1:])
    for base in bases:
        out.add(base)
        if base.startswith("عال") and len(base) > 4:  # Levantine "to the": عالمخابرات
            out.update((base[1:], base[3:]))
        if base.startswith("لل") and len(base) > 3:
            out.update(("ال" + base[2:], base[2:]))
        if len(base) > 3 and base[0] in "بلك":
            out.add(base[1:])
            if base[1:].startswith("ال") and len(base) > 4:
                out.add(base[3:])
        if base.startswith("ال") and len(base) > 3:
            out.add(base[2:])
    if word.isascii() and len(word) > 3 and word.endswith("s"):
        out.add(word[:-1])
    return frozenset(out)


@lru_cache(maxsize=4096)
def _option_phrases(
    option_id: str, labels: tuple[str, ...], synonyms: tuple[str, ...]
) -> tuple[tuple[str, ...], ...]:
    """The distinct non-empty word sequences that name an option (id, labels, synonyms)."""
    phrases = {_phrase(option_id.replace("_", " ")), *(_phrase(p) for p in labels + synonyms)}
    return tuple(p for p in phrases if p)


def match_option(
    text: str,
    options: Mapping[str, Sequence[str]],
    *,
    synonyms: Mapping[str, Sequence[str]] | None = OPTION_SYNONYMS,
) -> list[str]:
    """Return the ids of `options` that `text` names, in the order they are mentioned.

    `options` maps an option id to its labels and synonyms in any language; the id itself
    (with "_" read as a space) and, unless `synonyms=None`, the built-in `OPTION_SYNONYMS`
    of that id count too. Matching is on whole normalised words (Arabic prefixes such as
    و/ال/بال/لل are allowed), the longest phrase wins where two overlap, and an option
    directly negated ("not the police", "مش الجيش") is not returned. Numbered answers
    ("1, 3") are not handled here.
    """
    words = tokens(normalise_arabic(text))
    if not words:
        return []
    forms = [_variants(w) for w in words]
    # where each form occurs: a phrase is tried only where its first word is
    starts: dict[str, list[int]] = {}
    for i, variants in enumerate(forms):
        for form in variants:
            starts.setdefault(form, []).append(i)
    candidates: list[tuple[int, int, str]] = []  # (start, -length, id)
    for option_id, labels in options.items():
        extra = tuple(synonyms.get(option_id, ())) if synonyms is not None else ()
        for phrase in _option_phrases(option_id, tuple(labels), extra):
            length = len(phrase)
            for i in starts.get(phrase[0], ()):
                if i + length <= len(words) and all(
                    phrase[j] in forms[i + j] for j in range(1, length)
                ):
                    candidates.append((i, -length, option_id))
    taken: set[int] = set()
    found: list[tuple[int, str]] = []
    for start, neg_len, option_id in sorted(candidates, key=lambda c: (c[1], c[0])):
        span = set(range(start, start - neg_len))
        if span & taken:
            continue
        taken |= span
        if not _negated(words, start):
            found.append((start, option_id))
    result: list[str] = []
    for _, option_id in sorted(found):
        if option_id not in result:
            result.append(option_id)
    return result


def _negated(words: list[str], start: int) -> bool:
    i = start - 1
    while i >= 0 and words[i] in _SKIPPABLE:
        i -= 1
    return i >= 0 and words[i] in _NEGATORS
