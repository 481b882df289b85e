"""Any sequence of events: the engine never crashes, never submits without consent to storage,
never skips the consent question, and its state always survives a JSON round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows import (
    Begin,
    Engine,
    Reply,
    Resume,
    State,
    SubmitReport,
    UserCommand,
    UserFile,
    UserText,
    load_flowset,
)
from nlu import HybridInterpreter

FLOWS = load_flowset()
ENGINE = Engine(FLOWS, lambda lang, country: f"guidance {lang}")
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

_ids = sorted(
    {o for spec in FLOWS.fields.values() for o in spec.options}
    | {
        "yes",
        "no",
        "unknown",
        "done",
        "edit",
        "discard",
        "later",
        "urgent_short",
        "urgent_full",
        "withdraw",
    }
)
texts = st.one_of(
    st.sampled_from(_ids),
    st.sampled_from(
        [
            "1",
            "2",
            "3",
            "٢",
            "1,3",
            "نعم",
            "لأ",
            "ايوه",
            "no thanks",
            "تخطي",
            "skip",
            "back",
            "خروج",
            "help",
            "English",
            "بالعربي",
            "done",
            "they are at my door right now",
            "هم عند الباب الآن",
            "last week",
            "١٥/٣/٢٠٢٤",
            "\u202eevil\u202c",
            "\u200b",
            "",
            " ",
            "x" * 25_000,
        ]
    ),
    st.text(max_size=200),
)
events = st.one_of(
    texts.map(lambda t: ("text", t)),
    st.sampled_from(["skip", "back", "exit", "lang", "help", "start", "rights", "status"]).map(
        lambda c: ("command", c)
    ),
    st.just(("file", "")),
    st.just(("resume", "")),
)


def _event(
    nlu: HybridInterpreter,
    kind: str,
    value: str,
    state: State,  # type: ignore[no-untyped-def]
    i: int,
):
    at = T0 + timedelta(seconds=i)
    if kind == "text":
        return UserText(value, nlu.interpret(value, expecting=ENGINE.expecting(state)), at)
    if kind == "command":
        return UserCommand(value, at, "ar" if value == "lang" else None)
    if kind == "file":
        return UserFile(f"f{i}", "photo.jpg", 10, "0" * 64, "image/jpeg", at)
    return Resume(at)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([None, "ar", "en"]), st.lists(events, max_size=60))
def test_any_event_sequence_is_safe(
    shipped_nlu: HybridInterpreter, lang: str | None, sequence: list[tuple[str, str]]
) -> None:
    """On the shipped default backend (tests.support's `shipped_nlu`)."""
    state, out = ENGINE.step(State(), Begin(T0, lang=lang))
    for i, (kind, value) in enumerate(sequence, start=1):
        if state.mode != "active":
            state, out = ENGINE.step(State(), Begin(T0, lang=lang))
        state, out = ENGINE.step(state, _event(shipped_nlu, kind, value, state, i))
        for action in out:
            if isinstance(action, SubmitReport):
                assert action.fields.get("consent_store") == "yes"
                assert action.consent["consent_store"]["value"] == "yes"
            if isinstance(action, Reply):
                assert action.text.strip() and action.lang in ("ar", "en")
                assert all(o[1] for o in action.options)
        # Nothing is ever answered past consent without consent.
        if state.answers.get("consent_store") != "yes":
            assert not (set(state.answers) - {"language", "consent_store"})
        assert State.from_json(json.loads(json.dumps(state.to_json()))) == state
