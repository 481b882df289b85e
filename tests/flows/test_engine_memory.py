"""What a reporter wrote is not kept in the engine's or the option matcher's memos after their
message is handled: the speed-ups keep only the bot's own words (catalogue texts, option
labels) from one message to the next, so a long-running channel process does not hold
earlier reporters' answers in memory."""

from __future__ import annotations

import gc
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flows import Begin, Engine, State, UserCommand, UserText, _model, load_flowset
from nlu import HybridInterpreter, _options

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def _strings_in(obj: Any, depth: int = 0) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if depth > 3:
        return []
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for x in (k, v) for s in _strings_in(x, depth + 1)]
    if isinstance(obj, list | tuple | set | frozenset):
        return [s for x in obj for s in _strings_in(x, depth + 1)]
    return []


def _memo_strings(engine: Engine) -> list[str]:
    out = _strings_in(engine._matched)
    for memo in (_model._isolated, _options._phrase, _options._option_phrases):
        for referent in gc.get_referents(memo):  # an lru_cache's own dict of entries
            out += _strings_in(referent)
    return out


def test_a_reporters_words_are_forgotten_after_their_message(
    shipped_nlu: HybridInterpreter,
) -> None:
    engine = Engine(load_flowset())
    token = uuid.uuid4().hex[:12]
    state, _ = engine.step(State(), Begin(T0, lang="ar"))
    seen = False
    for line in (f"نعم {token}", f"yes {token}", f"لا أعرف {token}", token):
        state, _ = engine.step(
            state,
            UserText(line, shipped_nlu.interpret(line, expecting=engine.expecting(state)), T0),
        )
        seen = seen or any(token in s for s in _memo_strings(engine))
    assert seen, "the scan never saw the words while their message was handled"
    state, _ = engine.step(state, UserCommand("help", T0 + timedelta(seconds=5), None))
    kept = [s for s in _memo_strings(engine) if token in s]
    assert kept == [], kept
