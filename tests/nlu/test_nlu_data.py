"""The training data: Rasa's YAML format, every intent, enough variety, a clean held-out split."""

from __future__ import annotations

from collections import Counter

import pytest

from nlu import INTENTS, TEST_PATH, TRAIN_PATH, detect_language, load_labelled, load_nlu
from nlu._data import OUT_OF_SCOPE, NluDataError, _example_lines
from nlu._normalise import normalise_arabic

TRAIN = load_nlu(TRAIN_PATH)
TEST = load_nlu(TEST_PATH)
NAMED = [i for i in INTENTS if i != "nlu_fallback"]


def _key(text: str) -> str:
    return normalise_arabic(text).strip(" ?!.,")


@pytest.mark.parametrize("intent", NAMED)
def test_every_intent_has_at_least_40_training_examples(intent: str) -> None:
    count = sum(1 for _, i in TRAIN.examples if i == intent)
    assert count >= 40, f"{intent}: {count}"


def test_out_of_scope_examples_teach_the_fallback() -> None:
    assert sum(1 for _, i in TRAIN.examples if i == OUT_OF_SCOPE) >= 40


@pytest.mark.parametrize("intent", NAMED)
def test_each_intent_mixes_english_arabic_and_arabizi(intent: str) -> None:
    kinds = Counter()
    for text, i in TRAIN.examples:
        if i == intent:
            lang, arabizi = detect_language(text)
            kinds["arabizi" if arabizi else lang] += 1
    assert kinds["en"] >= 5 and kinds["ar"] >= 10 and kinds["arabizi"] >= 2, dict(kinds)


def test_held_out_split_never_repeats_a_training_example() -> None:
    train = {_key(t) for t, _ in TRAIN.examples}
    leaked = [t for t, _ in TEST.examples if _key(t) in train]
    assert leaked == []


def test_held_out_split_covers_every_intent() -> None:
    assert {i for _, i in TEST.examples} == {*NAMED, OUT_OF_SCOPE}


def test_no_text_is_labelled_with_two_intents() -> None:
    labels: dict[str, set[str]] = {}
    for text, intent in TRAIN.examples + TEST.examples:
        labels.setdefault(_key(text), set()).add(intent)
    assert {k: v for k, v in labels.items() if len(v) > 1} == {}


def test_synonyms_and_lookups_are_read() -> None:
    assert "english" in TRAIN.synonyms["en"]
    assert "المخابرات" in TRAIN.lookups["perpetrator_intelligence"]


def test_entity_annotations_are_stripped() -> None:
    assert _example_lines("- they took me to [the branch](place_type)\n", "x") == [
        "they took me to the branch"
    ]


def test_a_file_without_nlu_is_refused(tmp_path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("stories: []\n")
    with pytest.raises(NluDataError):
        load_nlu(bad)


def test_labelled_set_has_both_labels_in_every_language() -> None:
    cases = load_labelled()
    kinds = Counter((c.urgent, "arabizi" if c.arabizi else c.lang) for c in cases)
    for urgent in (True, False):
        for lang in ("en", "ar", "arabizi"):
            assert kinds[(urgent, lang)] >= 10, (urgent, lang)


def test_dialect_held_out_sets_share_no_text_with_training() -> None:
    """nlu/data/dialects/*.yml are held out: none of their texts is in train.yml."""
    from bench.nlu import dialect_sets
    from nlu import normalise_arabic

    train = {normalise_arabic(t) for t, _ in load_nlu(TRAIN_PATH).examples}
    sets = dialect_sets()
    assert {
        "levantine",
        "egyptian",
        "gulf",
        "iraqi",
        "sudanese",
        "yemeni",
        "moroccan",
        "algerian",
        "tunisian",
    } <= set(sets)
    for name, (examples, labelled) in sets.items():
        leaked = [t for t, _ in examples if normalise_arabic(t) in train]
        if name != "all":  # (urgency.yml predates this and shares 18 texts with train.yml)
            leaked += [x.text for x in labelled if normalise_arabic(x.text) in train]
            assert any(x.urgent for x in labelled) and any(not x.urgent for x in labelled)
        assert leaked == [], name
