"""NLU benchmark: the backends side by side on the held-out split; prints a table.

    .venv/bin/python -m bench.nlu [--no-rasa] [--no-chat] [--repeat 5]

Columns: rules alone, built-in (rules + scikit-learn model, the default) and Rasa (rules +
a Rasa 3.6 server trained on the same data; started with nlu.rasa_tool unless SANAD_RASA_URL
points at one, skipped with --no-rasa or when Rasa cannot be set up). "model alone" is the
trained model's top intent without the rules. Load time and memory of the local backends are
measured in a fresh process (imports included); Rasa's are the server's start-up and RSS.
"sanad chat RSS" is the whole console process (a throw-away `sanad init --demo` home) with
the model loaded, after a few messages (`bench/_chat_memory.py`). The per-dialect tables are
the small sets of `nlu/data/dialects` and the blind sets of `nlu/data/blind`.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nlu import (
    DATE_READ_LIMIT,
    TEST_PATH,
    Interpreter,
    LabelledText,
    RasaClient,
    RuleInterpreter,
    builtin_interpreter,
    evaluate_intents,
    evaluate_language,
    evaluate_urgency,
    load_labelled,
    load_nlu,
    parse_date,
    rasa_interpreter,
)
from nlu._data import OUT_OF_SCOPE, gold_intent

_PROBE = """
import json, sys, time
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
base = rss()
start = time.perf_counter()
from nlu import RuleInterpreter, builtin_interpreter
if sys.argv[1] == "rules":
    it = RuleInterpreter()
else:
    it = builtin_interpreter()
loaded = time.perf_counter() - start
for text in ("hello", "ana msh 3ayez", "عاوز اشتكي من الظباط", "the sky is blue"):
    it.interpret(text)
print(json.dumps({"load_s": loaded, "rss_mb": rss() - base}))
"""


def probe(backend: str) -> dict[str, float]:
    """Load time and memory of a local backend in a fresh interpreter process."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, backend],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def latency(interpreter: Interpreter, texts: list[str], repeat: int) -> dict[str, float]:
    """Median and p99 of one `interpret` call in milliseconds: wall clock, and this thread's
    CPU time (which a busy shared machine does not inflate by preempting us)."""
    for text in texts[:20]:
        interpreter.interpret(text)
    wall, cpu = [], []
    for _ in range(repeat):
        for text in texts:
            start, start_cpu = time.perf_counter(), time.thread_time()
            interpreter.interpret(text)
            cpu.append((time.thread_time() - start_cpu) * 1000)
            wall.append((time.perf_counter() - start) * 1000)

    def p99(xs: list[float]) -> float:
        return sorted(xs)[min(len(xs) - 1, int(len(xs) * 0.99))]

    return {
        "median_ms": statistics.median(wall),
        "p99_ms": p99(wall),
        "cpu_median_ms": statistics.median(cpu),
        "cpu_p99_ms": p99(cpu),
    }


def model_alone(
    rank: Callable[[str], list[tuple[str, float]]],
    threshold: float,
    examples: list[tuple[str, str]],
) -> float:
    ok = 0
    for text, intent in examples:
        ranking = rank(text)
        name, p = ranking[0] if ranking else ("nlu_fallback", 0.0)
        if name == OUT_OF_SCOPE or p < threshold:
            name = "nlu_fallback"
        ok += name == gold_intent(intent)
    return ok / len(examples)


def column(
    interpreter: Interpreter, examples: list[tuple[str, str]], texts: list[str], repeat: int
) -> dict[str, Any]:
    labelled = load_labelled()
    report = evaluate_intents(interpreter, examples)
    return {
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "language": evaluate_language(interpreter, labelled)["accuracy"],
        **_urgency_cells(evaluate_urgency(interpreter, labelled), labelled),
        **latency(interpreter, texts, repeat),
    }


DIALECTS_DIR = Path(__file__).resolve().parents[1] / "nlu" / "data" / "dialects"
#: The blind held-out sets per dialect, written before any tuning and never tuned on.
BLIND_DIR = DIALECTS_DIR.parent / "blind"
#: The development sets per dialect: the only dialect data rules and lexicon are tuned on.
DEV_DIR = DIALECTS_DIR.parent / "dev"

DialectSets = dict[str, tuple[list[tuple[str, str]], list[LabelledText]]]


def dialect_sets(directory: Path = DIALECTS_DIR, *, with_all: bool = True) -> DialectSets:
    """Intents and urgency examples per dialect (`DIR/NAME.yml`, `DIR/NAME.urgency.yml`),
    plus "all" for `test.yml` with `urgency.yml` (unless `with_all` is false)."""
    sets: DialectSets = {}
    if with_all:
        sets["all"] = (list(load_nlu(TEST_PATH).examples), load_labelled())
    for path in sorted(directory.glob("*.yml")):
        if path.name.endswith(".urgency.yml"):
            continue
        urgency = path.with_name(path.stem + ".urgency.yml")
        sets[path.stem] = (
            list(load_nlu(path).examples),
            load_labelled(urgency) if urgency.exists() else [],
        )
    return sets


def dialect_row(
    interpreter: Interpreter, examples: list[tuple[str, str]], labelled: list[LabelledText]
) -> dict[str, float]:
    """Intent accuracy and macro-F1, language id, urgent recall and false-alarm rate."""
    report = evaluate_intents(interpreter, examples)
    urgent = [x for x in labelled if x.urgent]
    calm = [x for x in labelled if not x.urgent]
    hits = sum(interpreter.interpret(x.text).urgent for x in urgent)
    alarms = sum(interpreter.interpret(x.text).urgent for x in calm)
    lang = evaluate_language(interpreter, labelled)["accuracy"] if labelled else float("nan")
    return {
        "n": len(examples),
        "accuracy": report["accuracy"],
        "macro_f1": report["macro_f1"],
        "language": lang,
        "recall": hits / len(urgent) if urgent else float("nan"),
        "false_alarms": alarms / len(calm) if calm else float("nan"),
        "n_urgency": len(labelled),
    }


def print_dialects(rows: dict[str, dict[str, dict[str, float]]], title: str = "") -> None:
    """One line per dialect and backend."""
    print()
    if title:
        print(title)
    print(
        f"{'dialect':16}{'backend':10}{'n':>5}{'acc':>7}{'F1':>7}{'lang':>7}{'urg n':>7}"
        f"{'recall':>8}{'false al':>9}"
    )
    for dialect, by_backend in rows.items():
        for backend, r in by_backend.items():
            print(
                f"{dialect:16}{backend:10}{r['n']:>5}{r['accuracy']:>7.3f}{r['macro_f1']:>7.3f}"
                f"{r['language']:>7.3f}{r['n_urgency']:>7}{r['recall']:>8.3f}"
                f"{r['false_alarms']:>9.3f}"
            )


def _urgency_cells(report: dict[str, Any], labelled: list[LabelledText]) -> dict[str, float]:
    calm = sum(not x.urgent for x in labelled)
    return {
        "urgency_recall": report["recall"],
        "false_alarm_rate": report["false_alarms"] / calm if calm else 0.0,
    }


def _rss_of_group(pid: int) -> float:
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
            if os.getpgid(int(status.parent.name)) == pid and "VmRSS" in fields:
                total += int(fields["VmRSS"].split()[0]) / 1024
        except (OSError, ValueError):
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--no-rasa", action="store_true", help="skip the Rasa column")
    parser.add_argument("--repeat", type=int, default=5, help="passes for latency")
    parser.add_argument(
        "--no-chat", action="store_true", help="skip the memory of a running `sanad chat`"
    )
    args = parser.parse_args()

    examples = list(load_nlu(TEST_PATH).examples)
    texts = [t for t, _ in examples] + [c.text for c in load_labelled()]
    cols: dict[str, dict[str, Any]] = {}

    rules = RuleInterpreter()
    cols["rules"] = column(rules, examples, texts, args.repeat) | probe("rules")
    builtin = builtin_interpreter()
    cols["built-in"] = column(builtin, examples, texts, args.repeat) | probe("builtin")
    cols["built-in"]["model_alone"] = model_alone(builtin._rank, builtin.threshold, examples)
    if not args.no_chat:
        from bench._chat_memory import chat_memory

        cols["built-in"] |= chat_memory()

    if not args.no_rasa:
        try:
            cols["rasa"] = rasa_column(examples, texts, args.repeat)
        except Exception as exc:  # report why, keep the local figures
            print(f"(no Rasa column: {exc})", file=sys.stderr)

    rows = [
        ("intent accuracy (held-out)", "accuracy", "{:.3f}"),
        ("intent macro-F1 (held-out)", "macro_f1", "{:.3f}"),
        ("model alone, accuracy", "model_alone", "{:.3f}"),
        ("language id accuracy", "language", "{:.3f}"),
        ("urgency recall", "urgency_recall", "{:.3f}"),
        ("urgency false-alarm rate", "false_alarm_rate", "{:.3f}"),
        ("parse median (ms)", "median_ms", "{:.3f}"),
        ("parse p99 (ms)", "p99_ms", "{:.3f}"),
        ("parse median, CPU (ms)", "cpu_median_ms", "{:.3f}"),
        ("parse p99, CPU (ms)", "cpu_p99_ms", "{:.3f}"),
        ("load time (s)", "load_s", "{:.2f}"),
        ("added memory (MB)", "rss_mb", "{:.0f}"),
        ("sanad chat RSS (MB)", "chat_rss_mb", "{:.0f}"),
        ("sanad chat peak RSS (MB)", "chat_peak_mb", "{:.0f}"),
    ]
    per_dialect: dict[str, dict[str, dict[str, float]]] = {}
    sets = dialect_sets()
    for dialect, (exs, labelled) in sets.items():
        per_dialect[dialect] = {"built-in": dialect_row(builtin, exs, labelled)}
    blind: dict[str, dict[str, dict[str, float]]] = {
        d: {"built-in": dialect_row(builtin, exs, lab)}
        for d, (exs, lab) in dialect_sets(BLIND_DIR, with_all=False).items()
    }
    if "rasa" in cols:
        for dialect, row in cols["rasa"].pop("dialects").items():
            per_dialect[dialect]["rasa"] = row
        for dialect, row in cols["rasa"].pop("blind").items():
            blind[dialect]["rasa"] = row
    else:
        print("(Rasa DIET not measured: no Rasa column, see above)", file=sys.stderr)

    names = list(cols)
    print(
        f"NLU benchmark (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
        f"{len(examples)} held-out examples, "
        f"{len(load_labelled())} urgency/language examples, {len(texts) * args.repeat} "
        "timed parses per backend"
    )
    print(f"{'':28}" + "".join(f"{n:>12}" for n in names))
    for label, key, fmt in rows:
        cells = [fmt.format(cols[n][key]) if key in cols[n] else "-" for n in names]
        print(f"{label:28}" + "".join(f"{c:>12}" for c in cells))
    print_dialects(per_dialect, "Per dialect, nlu/data/dialects (small; rules corrected on them):")
    print_dialects(blind, "Per dialect, nlu/data/blind (blind held-out, never tuned on):")
    print_dates()


def print_dates(repeat: int = 3) -> None:
    """CPU time of one date answer: dateparser reads at most `nlu.DATE_READ_LIMIT` characters, so a
    pasted wall of text costs no more than a long sentence."""
    story = "They came at night and took my brother; we heard nothing for weeks. "
    answers = [
        ("short date (٣ آذار ٢٠٢٤)", "٣ آذار ٢٠٢٤"),
        ("500 characters of prose", (story * 8)[:500]),
        ("20 000 characters of prose", (story * 300)[:20_000]),
        ('20 000 characters, "a a a a. …"', ("a a a a. " * 2223)[:20_000]),  # the worst
    ]
    print(f"\nDate answers (dateparser reads the first {DATE_READ_LIMIT} characters), CPU ms:")
    for label, text in answers:
        parse_date(text, "en")
        started = time.process_time()
        for _ in range(repeat):
            parse_date(text, "en")
        print(f"  {label:34}{(time.process_time() - started) / repeat * 1000:10.1f}")


def rasa_column(examples: list[tuple[str, str]], texts: list[str], repeat: int) -> dict[str, Any]:
    url = os.environ.get("SANAD_RASA_URL")
    if url:
        return _rasa_measure(url, examples, texts, repeat)
    from nlu import rasa_tool

    model = rasa_tool.train_model()
    with rasa_tool.serve(model) as server:
        col = _rasa_measure(server.url, examples, texts, repeat)
        col["load_s"] = server.started_in
        col["rss_mb"] = _rss_of_group(server.process.pid)
    return col


def _rasa_measure(
    url: str, examples: list[tuple[str, str]], texts: list[str], repeat: int
) -> dict[str, Any]:
    from nlu._backends import RASA_THRESHOLD

    interpreter = rasa_interpreter(url)
    col = column(interpreter, examples, texts, max(1, repeat // 2))
    col["model_alone"] = model_alone(RasaClient(url).rank, RASA_THRESHOLD, examples)
    col["dialects"] = {
        d: dialect_row(interpreter, exs, lab) for d, (exs, lab) in dialect_sets().items()
    }
    col["blind"] = {
        d: dialect_row(interpreter, exs, lab)
        for d, (exs, lab) in dialect_sets(BLIND_DIR, with_all=False).items()
    }
    return col


if __name__ == "__main__":
    main()
