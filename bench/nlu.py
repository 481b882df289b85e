"""NLU benchmark: the backends side by side on the held-out split; prints a table.

    .venv/bin/python -m bench.nlu [--no-rasa] [--repeat 5]

Columns: rules alone, built-in (rules + scikit-learn model, the default) and Rasa (rules +
a Rasa 3.6 server trained on the same data; started with nlu.rasa_tool unless SANAD_RASA_URL
points at one, skipped with --no-rasa or when Rasa cannot be set up). "model alone" is the
trained model's top intent without the rules. Load time and memory of the local backends are
measured in a fresh process (imports included); Rasa's are the server's start-up and RSS.
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
    TEST_PATH,
    Interpreter,
    RasaClient,
    RuleInterpreter,
    builtin_interpreter,
    evaluate_intents,
    evaluate_language,
    evaluate_urgency,
    load_labelled,
    load_nlu,
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
    out = subprocess.run([sys.executable, "-c", _PROBE, backend], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).resolve().parents[1])
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

    return {"median_ms": statistics.median(wall), "p99_ms": p99(wall),
            "cpu_median_ms": statistics.median(cpu), "cpu_p99_ms": p99(cpu)}


def model_alone(rank: Callable[[str], list[tuple[str, float]]], threshold: float,
                examples: list[tuple[str, str]]) -> float:
    ok = 0
    for text, intent in examples:
        ranking = rank(text)
        name, p = ranking[0] if ranking else ("nlu_fallback", 0.0)
        if name == OUT_OF_SCOPE or p < threshold:
            name = "nlu_fallback"
        ok += name == gold_intent(intent)
    return ok / len(examples)


def column(interpreter: Interpreter, examples: list[tuple[str, str]], texts: list[str],
           repeat: int) -> dict[str, Any]:
    labelled = load_labelled()
    report = evaluate_intents(interpreter, examples)
    return {
        "accuracy": report["accuracy"], "macro_f1": report["macro_f1"],
        "language": evaluate_language(interpreter, labelled)["accuracy"],
        "urgency_recall": evaluate_urgency(interpreter, labelled)["recall"],
        **latency(interpreter, texts, repeat),
    }


def _rss_of_group(pid: int) -> float:
    total = 0.0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":", 1) for line in status.read_text().splitlines()
                          if ":" in line)
            if os.getpgid(int(status.parent.name)) == pid and "VmRSS" in fields:
                total += int(fields["VmRSS"].split()[0]) / 1024
        except (OSError, ValueError):
            continue
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--no-rasa", action="store_true", help="skip the Rasa column")
    parser.add_argument("--repeat", type=int, default=5, help="passes for latency")
    args = parser.parse_args()

    examples = list(load_nlu(TEST_PATH).examples)
    texts = [t for t, _ in examples] + [c.text for c in load_labelled()]
    cols: dict[str, dict[str, Any]] = {}

    rules = RuleInterpreter()
    cols["rules"] = column(rules, examples, texts, args.repeat) | probe("rules")
    builtin = builtin_interpreter()
    cols["built-in"] = column(builtin, examples, texts, args.repeat) | probe("builtin")
    cols["built-in"]["model_alone"] = model_alone(builtin._rank, builtin.threshold, examples)

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
        ("parse median (ms)", "median_ms", "{:.3f}"),
        ("parse p99 (ms)", "p99_ms", "{:.3f}"),
        ("parse median, CPU (ms)", "cpu_median_ms", "{:.3f}"),
        ("parse p99, CPU (ms)", "cpu_p99_ms", "{:.3f}"),
        ("load time (s)", "load_s", "{:.2f}"),
        ("added memory (MB)", "rss_mb", "{:.0f}"),
    ]
    names = list(cols)
    print(f"NLU benchmark (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores): "
          f"{len(examples)} held-out examples, "
          f"{len(load_labelled())} urgency/language examples, {len(texts) * args.repeat} "
          "timed parses per backend")
    print(f"{'':28}" + "".join(f"{n:>12}" for n in names))
    for label, key, fmt in rows:
        cells = [fmt.format(cols[n][key]) if key in cols[n] else "-" for n in names]
        print(f"{label:28}" + "".join(f"{c:>12}" for c in cells))


def rasa_column(examples: list[tuple[str, str]], texts: list[str],
                repeat: int) -> dict[str, Any]:
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


def _rasa_measure(url: str, examples: list[tuple[str, str]], texts: list[str],
                  repeat: int) -> dict[str, Any]:
    from nlu._backends import RASA_THRESHOLD

    interpreter = rasa_interpreter(url)
    col = column(interpreter, examples, texts, max(1, repeat // 2))
    col["model_alone"] = model_alone(RasaClient(url).rank, RASA_THRESHOLD, examples)
    return col


if __name__ == "__main__":
    main()
