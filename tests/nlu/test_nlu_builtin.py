"""The default backend on held-out data, its model cache, and how rules and model share work."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from nlu import (
    TEST_PATH,
    HybridInterpreter,
    Interpreter,
    builtin_interpreter,
    evaluate_intents,
    evaluate_language,
    evaluate_urgency,
    load_labelled,
    load_nlu,
)
from nlu.classifier import IntentModel, load_or_train

# Floors a little under the measured figures (accuracy 0.966, macro-F1 0.968, language
# 1.0, urgency recall 0.98): a regression fails, noise does not.
ACCURACY_FLOOR = 0.95
MACRO_F1_FLOOR = 0.95
LANGUAGE_FLOOR = 0.98
URGENCY_RECALL_FLOOR = 0.95


@pytest.fixture(scope="module")
def held_out_report(builtin: HybridInterpreter) -> dict[str, object]:
    return evaluate_intents(builtin, load_nlu(TEST_PATH).examples)


def test_held_out_intent_accuracy(held_out_report: dict) -> None:
    assert held_out_report["n"] >= 250
    assert held_out_report["accuracy"] >= ACCURACY_FLOOR, held_out_report["confusions"]
    assert held_out_report["macro_f1"] >= MACRO_F1_FLOOR, held_out_report["confusions"]


def test_no_intent_collapses(held_out_report: dict) -> None:
    weak = {k: v["f1"] for k, v in held_out_report["per_intent"].items() if v["f1"] < 0.75}
    assert weak == {}


def test_the_model_adds_to_the_rules(rules: Interpreter, held_out_report: dict) -> None:
    alone = evaluate_intents(rules, load_nlu(TEST_PATH).examples)
    assert held_out_report["accuracy"] >= alone["accuracy"] + 0.05


def test_language_identification(builtin: HybridInterpreter) -> None:
    assert evaluate_language(builtin, load_labelled())["accuracy"] >= LANGUAGE_FLOOR


def test_urgency_recall(builtin: HybridInterpreter) -> None:
    report = evaluate_urgency(builtin, load_labelled())
    assert report["recall"] >= URGENCY_RECALL_FLOOR, report
    assert report["precision"] >= 0.9, report


def test_model_is_cached_as_plain_arrays(model_cache: Path, builtin: HybridInterpreter) -> None:
    files = list(model_cache.glob("intent-*.npz"))
    assert len(files) == 1
    with np.load(files[0], allow_pickle=False) as z:  # no pickle anywhere
        assert {"vocab", "idf", "coef", "intercept", "meta"} <= set(z.files)


def test_cached_model_loads_fast_and_answers_the_same(
    model_cache: Path, builtin: HybridInterpreter
) -> None:
    start = time.perf_counter()
    again = builtin_interpreter(cache_dir=model_cache)
    assert time.perf_counter() - start < 0.5
    for text in ("ana msh 3ayez", "عاوز اشتكي من الظباط", "what happened with my report"):
        assert again.interpret(text) == builtin.interpret(text)


def test_changed_data_gets_a_new_model(tmp_path: Path) -> None:
    data = tmp_path / "train.yml"
    lines = ["nlu:"]
    for intent, words in (
        ("greet", ["hi", "hello", "salam", "marhaba", "مرحبا", "هلا"]),
        ("thanks", ["thanks", "thank you", "shukran", "شكرا", "merci", "مشكور"]),
        ("out_of_scope", ["blue", "a car", "دمشق", "سيارة", "the wall", "3 kids"]),
    ):
        lines += [f"- intent: {intent}", "  examples: |", *[f"    - {w}" for w in words]]
    data.write_text("\n".join(lines) + "\n")
    first = load_or_train(data, tmp_path / "cache")
    data.write_text(data.read_text() + "    - the sky\n")
    second = load_or_train(data, tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("intent-*.npz"))) == 2
    assert first.labels == second.labels == ("greet", "out_of_scope", "thanks")


def test_a_damaged_cache_is_retrained(tmp_path: Path) -> None:
    model = load_or_train(cache_dir=tmp_path)
    (cache,) = tmp_path.glob("intent-*.npz")
    cache.write_bytes(b"not a model")
    again = load_or_train(cache_dir=tmp_path)
    assert again.labels == model.labels
    assert IntentModel.load(cache).labels == model.labels


def test_confidence_is_a_probability(builtin: HybridInterpreter) -> None:
    assert 0.15 <= builtin.threshold <= 0.7
    for text in ("hello there", "3ayez a2adem shakwa", "the food was cold", "ما بعرف"):
        assert 0.0 <= builtin.interpret(text).confidence <= 1.0


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("عاوز اشتكي من الظباط", "report_complaint"),
        ("baghi ndir chikaya", "report_complaint"),
        ("bihaddedoni 3shan shahadti", "report_reprisal"),
        ("eh elli 7asal fi 2adeyti", "check_status"),
        ("mabadi", "deny"),
        ("هاد كل اللي عندي", "done"),
        ("ما بتذكر ولا شي", "dont_know"),
    ],
)
def test_the_model_understands_what_no_rule_lists(
    builtin: HybridInterpreter, text: str, intent: str
) -> None:
    assert builtin.interpret(text).intent == intent


@pytest.mark.parametrize("expecting", ["text", "choice", "multi", "date", "files"])
def test_the_model_never_issues_a_command_inside_an_answer(
    builtin: HybridInterpreter, expecting: str
) -> None:
    for text in ("i want to take my complaint back", "skip to the part about my brother"):
        result = builtin.interpret(text, expecting=expecting)
        assert result.intent not in {
            "quick_exit",
            "withdraw_consent",
            "skip",
            "go_back",
            "help",
            "change_language",
        }
        assert not result.urgent  # "take my complaint back" was a false alarm too
    # Erasing is the one command the rules take from inside an answer (issue 13: "someone is
    # here, delete everything" must erase first); the old expectation here predates that.
    # In a narrative answer it needs words of danger as well.
    for text in ("erase this chat now please", "wipe it all, someone is looking"):
        result = builtin.interpret(text, expecting=expecting)
        assert result.intent == ("nlu_fallback" if expecting == "text" else "quick_exit")
    assert (
        builtin.interpret("someone is here, delete everything", expecting=expecting).intent
        == "quick_exit"
    )


def test_destructive_intents_need_a_confident_model() -> None:
    weak = HybridInterpreter(lambda text: [("quick_exit", 0.6), ("help", 0.2)], 0.35)
    sure = HybridInterpreter(lambda text: [("quick_exit", 0.9), ("help", 0.05)], 0.35)
    assert weak.interpret("make it all go away").intent == "nlu_fallback"
    assert sure.interpret("make it all go away").intent == "quick_exit"


def test_safety_statements_never_raise_the_alarm() -> None:
    model = HybridInterpreter(lambda text: [("urgent_danger", 0.99)], 0.35)
    for text in ("we are safe now", "الحمد لله احنا بخير", "ana b amen", "mafi khatar"):
        result = model.interpret(text)
        assert (result.intent, result.urgent) == ("nlu_fallback", False), text


def test_rules_decide_whole_message_answers_without_the_model() -> None:
    def fail(text: str) -> list[tuple[str, float]]:
        raise AssertionError("the model was asked")

    hybrid = HybridInterpreter(fail, 0.35)
    for text, intent in (
        ("la2", "deny"),
        ("مش موافق", "deny"),
        ("تخطي", "skip"),
        ("3am ydo2o el bab", "urgent_danger"),
    ):
        assert hybrid.interpret(text).intent == intent


def test_model_urgent_danger_raises_the_flag() -> None:
    hybrid = HybridInterpreter(lambda text: [("urgent_danger", 0.9)], 0.35)
    result = hybrid.interpret("men with guns everywhere please")
    assert result.intent == "urgent_danger" and result.urgent is True
    assert result.urgent_reasons == ("immediate_danger",)


def test_parse_is_fast(builtin: HybridInterpreter) -> None:
    texts = [t for t, _ in load_nlu(TEST_PATH).examples]
    for t in texts[:20]:
        builtin.interpret(t)
    times = []
    for t in texts:
        start = time.perf_counter()
        builtin.interpret(t)
        times.append(time.perf_counter() - start)
    times.sort()
    assert times[len(times) // 2] < 0.002  # median; the benchmark reports p99
