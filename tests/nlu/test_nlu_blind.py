"""The blind held-out sets per dialect (`nlu/data/blind`) and the dev sets (`nlu/data/dev`).

The blind sets were written before any tuning: these tests keep them blind (no text, and
no run of four words, shared with the training data or with the dev sets that tuning uses)
and complete (every intent, urgent texts and non-urgent controls, 40+ texts per dialect).
"""

from __future__ import annotations

import re

import pytest

from bench.nlu import BLIND_DIR, DEV_DIR, dialect_sets
from nlu import INTENTS, TEST_PATH, TRAIN_PATH, load_nlu, normalise_arabic
from nlu._data import OUT_OF_SCOPE

DIALECTS = (
    "levantine",
    "egyptian",
    "gulf",
    "iraqi",
    "sudanese",
    "yemeni",
    "moroccan",
    "algerian",
    "tunisian",
    "msa",
    "english",
    "arabizi_maghreb",
    "arabizi_levant",
    "arabizi_gulf",
)
BLIND = dialect_sets(BLIND_DIR, with_all=False)
DEV = dialect_sets(DEV_DIR, with_all=False)


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", normalise_arabic(text).lower())


def _texts(sets: dict[str, tuple[list[tuple[str, str]], list]]) -> list[str]:
    return [t for exs, lab in sets.values() for t in [t for t, _ in exs] + [x.text for x in lab]]


def _grams(texts: list[str], n: int = 4) -> set[tuple[str, ...]]:
    out: set[tuple[str, ...]] = set()
    for text in texts:
        w = _words(text)
        out.update(tuple(w[i : i + n]) for i in range(len(w) - n + 1))
    return out


@pytest.mark.parametrize("name", DIALECTS)
def test_every_dialect_has_a_complete_blind_set(name: str) -> None:
    examples, labelled = BLIND[name]
    assert len(examples) + len(labelled) >= 40
    named = {i for i in INTENTS if i != "nlu_fallback"} | {OUT_OF_SCOPE}
    assert {i for _, i in examples} == named
    # two per urgent_reason (self_harm, medical_in_custody, child_in_danger, present_danger,
    # threat_to_withdraw, threat_with_time, fresh_disappearance), and 10 controls
    assert sum(x.urgent for x in labelled) >= 14
    assert sum(not x.urgent for x in labelled) >= 10


@pytest.mark.parametrize("name", DIALECTS)
def test_every_dialect_has_a_dev_set(name: str) -> None:
    examples, labelled = DEV[name]
    assert examples and any(x.urgent for x in labelled) and any(not x.urgent for x in labelled)


def test_blind_texts_are_in_no_training_or_tuning_data() -> None:
    seen = (
        [t for t, _ in load_nlu(TRAIN_PATH).examples]
        + [t for t, _ in load_nlu(TEST_PATH).examples]
        + _texts(DEV)
    )
    known = {" ".join(_words(t)) for t in seen}
    leaked = [t for t in _texts(BLIND) if " ".join(_words(t)) in known]
    assert leaked == []


def test_blind_texts_share_no_four_words_with_training_or_dev() -> None:
    grams = _grams([t for t, _ in load_nlu(TRAIN_PATH).examples] + _texts(DEV))
    shared = [(t, g) for t in _texts(BLIND) for g in _grams([t]) if g in grams]
    assert shared == []
