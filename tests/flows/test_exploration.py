"""Every reachable question, every command, many answer forms: the pure engine explored.

Breadth-first from three starts (a new conversation, a resumed draft, an addendum opened with
a receipt) over the shipped flows, catalogues and built-in language model. A state is
identified by what decides the conversation's next move (where it is, its mode, language,
urgency, the answers that routes and consent read), and each is met with every command and
every answer form. What must hold everywhere (issue 11, item 5):
- a valid answer moves on: no prompt is asked more than twice in a row for one;
- /skip moves on everywhere but the consent to keep the report;
- the consent-only refusal is said only on that consent's prompt;
- storing, submitting and withdrawing happen only after an explicit answer;
- from every state a receipt or a clean end can be reached.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows import (
    Begin,
    Engine,
    OpenAddendum,
    Reply,
    Resume,
    State,
    SubmitReport,
    Submitted,
    UserCommand,
    UserFile,
    UserText,
    WithdrawCase,
    load_flowset,
)
from flows._state import READING
from intake.support import Guidance
from nlu import HybridInterpreter

FLOWS = load_flowset()
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
COMMANDS = (
    ("skip", None),
    ("back", None),
    ("exit", None),
    ("help", None),
    ("lang", "ar"),
    ("lang", "en"),
)
NOISE = ("xq zzv blorp", "", "   ", "a" * 10_000, "\u202eevil\u202c \u2067x\u2069", "🙂")
#: Answers that routes, conditions and the storage consent read: part of a state's identity.
DECIDING = ("consent_store", "consent_followup", "report_type")
#: Conditions of `when` steps that read other answers, reduced to whether they hold (the
#: victim's name is asked when the reporter is someone else: five roles, two outcomes).
CONDITIONS = tuple(
    s.when for s in FLOWS.steps.values() if s.when is not None and s.when.field not in DECIDING
)


def _key(state: State) -> tuple[Any, ...]:
    reading = (state.reading or {}).get("for")
    return (
        state.at,
        state.mode,
        state.lang,
        bool(state.urgent),
        state.urgent_offered,
        reading,
        bool(state.addendum_for),
        tuple(str(state.answers.get(f)) for f in DECIDING),
        tuple(c.holds(state.answers) for c in CONDITIONS),
    )


@dataclass(frozen=True)
class Form:
    """One input and whether it names an option explicitly (id, number or label)."""

    kind: str  # text | command | file
    value: str
    arg: str | None = None
    option: str | None = None  # the pending option it names explicitly, if any


def _asked(replies: list[Any]) -> Reply | None:
    asked = [r for r in replies if isinstance(r, Reply) and r.kind != "info"]
    return asked[-1] if asked else None


def _forms(question: Reply | None) -> Iterator[Form]:
    for name, arg in COMMANDS:
        yield Form("command", name, arg)
    for text in NOISE:
        yield Form("text", text)
    yield Form("file", "photo.jpg")
    if question is None:
        return
    for n, (option, label) in enumerate(question.options, start=1):
        yield Form("text", option, option=option)
        yield Form("text", str(n), option=option)
        yield Form("text", "".join(ARABIC_DIGITS[int(d)] for d in str(n)) + ".", option=option)
        yield Form("text", label, option=option)
    yield Form("text", str(len(question.options) + 1))  # out of range


class Explorer:
    def __init__(self, nlu: HybridInterpreter, engine: Engine) -> None:
        self.nlu = nlu
        self.engine = engine
        self.clock = 0
        self.states: dict[tuple[Any, ...], tuple[State, Reply | None]] = {}
        self.edges: dict[tuple[Any, ...], set[tuple[Any, ...]]] = {}
        self.transitions = 0
        self._read: dict[tuple[str, str | None], Any] = {}  # the NLU is pure: read each once

    def at(self) -> datetime:
        self.clock += 1
        return T0 + timedelta(seconds=self.clock)

    def event(self, state: State, form: Form) -> Any:
        if form.kind == "command":
            return UserCommand(form.value, self.at(), form.arg)
        if form.kind == "file":
            return UserFile(f"f{self.clock}", form.value, 10, "0" * 64, "image/jpeg", self.at())
        expecting = self.engine.expecting(state)
        if (form.value, expecting) not in self._read:
            self._read[form.value, expecting] = self.nlu.interpret(form.value, expecting=expecting)
        return UserText(form.value, self._read[form.value, expecting], self.at())

    def step(self, state: State, event: Any) -> tuple[State, list[Any]]:
        state, out = self.engine.step(state, event)
        if any(isinstance(a, SubmitReport) for a in out):  # the service's answer to it
            state, more = self.engine.step(state, Submitted("K7M-4QX", "RCPT", self.at()))
            out += more
        return state, out

    def add(
        self,
        state: State,
        replies: list[Any],
        frm: tuple[Any, ...] | None,
        queue: deque[tuple[Any, ...]],
    ) -> tuple[Any, ...]:
        key = _key(state)
        if frm is not None:
            self.edges.setdefault(frm, set()).add(key)
        if key not in self.states:
            self.states[key] = (state, _asked(replies))
            queue.append(key)
        return key


@pytest.fixture(scope="module")
def explored(
    shipped_nlu: HybridInterpreter, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Explorer, list[str], float]:
    home: Path = tmp_path_factory.mktemp("home")
    engine = Engine(FLOWS, Guidance.load(home).text)
    ex = Explorer(shipped_nlu, engine)
    problems: list[str] = []
    queue: deque[tuple[Any, ...]] = deque()
    started = time.perf_counter()
    refusal = {FLOWS.text(lang, "sys.cannot_skip") for lang in FLOWS.catalog}
    for lang in (None, "ar", "en"):
        state, out = engine.step(State(), Begin(ex.at(), lang=lang))
        ex.add(state, out, None, queue)
    # a resumed draft: two answers in, then the reporter comes back
    state, _ = engine.step(State(), Begin(ex.at(), lang="en"))
    state, _ = engine.step(state, UserText("yes", shipped_nlu.interpret("yes"), ex.at()))
    state, out = engine.step(state, Resume(ex.at()))
    ex.add(state, out, None, queue)
    for lang in ("ar", "en"):  # an addendum opened with a receipt
        state, out = engine.step(State(), OpenAddendum("K7M-4QX", lang, None, ex.at()))
        ex.add(state, out, None, queue)
    while queue:
        key = queue.popleft()
        state, question = ex.states[key]
        if state.mode != "active":
            continue
        for form in _forms(question):
            before_field = question.field if question else None
            nxt, out = ex.step(state, ex.event(state, form))
            ex.transitions += 1
            label = f"{state.at} ← {form.kind}:{form.value[:20]!r}"
            texts = {a.text for a in out if isinstance(a, Reply)}
            if texts & refusal and before_field != "consent_store":
                problems.append(f"consent refusal said outside the storage consent: {label}")
            explicit_yes = form.option == "yes"
            for action in out:
                if isinstance(action, SubmitReport) and not (
                    explicit_yes and state.at in ("sys:confirm", READING)
                ):
                    problems.append(f"submitted without an explicit yes: {label}")
                if isinstance(action, WithdrawCase) and not (
                    explicit_yes and state.at in ("sys:withdraw", READING)
                ):
                    problems.append(f"withdrew without an explicit yes: {label}")
            if (
                nxt.answers.get("consent_store") == "yes"
                and state.answers.get("consent_store") != "yes"
                and not (explicit_yes or form.value == "/skip")
            ):
                problems.append(f"storage consented without an explicit yes: {label}")
            after = _asked(out)
            if form.kind == "command" and form.value == "skip" and nxt.mode == "active":
                if before_field != "consent_store" and after and after.field == before_field:
                    problems.append(f"/skip did not move on: {label}")
            if (
                form.option is not None
                and nxt.mode == "active"
                and after is not None
                and after.field == before_field
                and before_field not in ("consent_store", "evidence")
            ):
                again, out2 = ex.step(nxt, ex.event(nxt, form))
                twice = _asked(out2)
                if again.mode == "active" and twice is not None and twice.field == before_field:
                    problems.append(f"asked three times in a row for a valid answer: {label}")
            ex.add(nxt, out, key, queue)
    # every state can reach a receipt or a clean end
    good = {k for k, (s, _) in ex.states.items() if s.mode != "active"}
    changed = True
    while changed:
        changed = False
        for k, targets in ex.edges.items():
            if k not in good and targets & good:
                good.add(k)
                changed = True
    stuck = [k for k in ex.states if k not in good]
    problems += [f"no way to a receipt or an end from {k[:2]}" for k in stuck]
    return ex, problems, time.perf_counter() - started


def test_exploration_finds_nothing_wrong(explored: tuple[Explorer, list[str], float]) -> None:
    ex, problems, seconds = explored
    print(f"\nexplored {len(ex.states)} states and {ex.transitions} transitions in {seconds:.1f} s")
    assert not problems, "\n".join(sorted(set(problems))[:40])


def test_exploration_reaches_every_question(explored: tuple[Explorer, list[str], float]) -> None:
    """The exploration is only worth its assertions if it really visits every prompt."""
    ex, _, _ = explored
    seen = {s.at for s, _ in ex.states.values()}
    questions = {
        ref
        for ref, step in FLOWS.steps.items()
        if step.kind not in ("info", "route", "review", "end", "receipt")
    }
    assert questions - seen == set()
    assert {
        "sys:resume",
        "sys:confirm",
        "sys:after_review",
        "sys:addendum",
        "sys:withdraw",
        "sys:urgent_offer",
        READING,
    } <= seen
    assert any(s.mode == "submitted" for s, _ in ex.states.values())
