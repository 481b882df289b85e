"""Evaluation of an `Interpreter` on labelled data (`sanad nlu eval`, tests, benchmark)."""

from __future__ import annotations

import warnings
from collections import Counter
from collections.abc import Iterable
from typing import Any

from nlu._data import LabelledText, gold_intent
from nlu._types import Interpreter

__all__ = ["evaluate_intents", "evaluate_language", "evaluate_urgency"]


def evaluate_intents(
    interpreter: Interpreter, examples: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    """The `sanad nlu eval --json` report (contracts.md) for (text, intent) examples.

    Per-intent figures and macro-F1 are over the intents of the data (`out_of_scope` counts
    as `nlu_fallback`); `confusions` lists (gold, predicted) pairs that differ, most first.
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    gold: list[str] = []
    pred: list[str] = []
    for text, intent in examples:
        gold.append(gold_intent(intent))
        pred.append(interpreter.interpret(text).intent)
    if not gold:
        return {"n": 0, "accuracy": 0.0, "macro_f1": 0.0, "per_intent": {}, "confusions": []}
    labels = sorted(set(gold))
    with warnings.catch_warnings():  # zero_division is explicit; nothing else to say
        warnings.simplefilter("ignore", category=RuntimeWarning)
        p, r, f, s = precision_recall_fscore_support(gold, pred, labels=labels, zero_division=0)
    per_intent = {
        name: {
            "precision": round(float(p[i]), 4),
            "recall": round(float(r[i]), 4),
            "f1": round(float(f[i]), 4),
            "support": int(s[i]),
        }
        for i, name in enumerate(labels)
    }
    pairs = Counter((g, q) for g, q in zip(gold, pred, strict=True) if g != q)
    confusions = [
        {"intent": g, "predicted": q, "count": n}
        for (g, q), n in sorted(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return {
        "n": len(gold),
        "accuracy": round(float(accuracy_score(gold, pred)), 4),
        "macro_f1": round(float(sum(f) / len(f)), 4),
        "per_intent": per_intent,
        "confusions": confusions,
    }


def evaluate_language(interpreter: Interpreter, examples: Iterable[LabelledText]) -> dict[str, Any]:
    """Accuracy of (lang, arabizi) against the labels."""
    n = ok = 0
    for ex in examples:
        got = interpreter.interpret(ex.text)
        n += 1
        ok += (got.lang, got.arabizi) == (ex.lang, ex.arabizi)
    return {"n": n, "accuracy": round(ok / n, 4) if n else 0.0}


def evaluate_urgency(interpreter: Interpreter, examples: Iterable[LabelledText]) -> dict[str, Any]:
    """Recall and precision of the urgent flag against the labels."""
    tp = fp = fn = tn = 0
    for ex in examples:
        urgent = interpreter.interpret(ex.text).urgent
        if urgent and ex.urgent:
            tp += 1
        elif urgent:
            fp += 1
        elif ex.urgent:
            fn += 1
        else:
            tn += 1
    return {
        "n": tp + fp + fn + tn,
        "recall": round(tp / (tp + fn), 4) if tp + fn else 0.0,
        "precision": round(tp / (tp + fp), 4) if tp + fp else 0.0,
        "false_alarms": fp,
        "missed": fn,
    }
