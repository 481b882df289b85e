"""The conversation engine: `Engine(flowset).step(state, event) -> (state, actions)`.

Pure: no I/O, no clock, no randomness. Channels turn platform updates into events and the
returned actions into platform calls; the intake service persists the state in between.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flows._model import BOOL_OPTIONS, REPEAT_SEP, FlowSet, Step
from flows._state import (
    ADDENDUM,
    AFTER_REVIEW,
    CHECKIN,
    CHECKIN_OPTIONS,
    CONFIRM,
    CONSENT_SET,
    CONSENTS,
    READING,
    RESUME,
    SPECIAL_STEPS,
    SUBMITTING,
    URGENT_OFFER,
    WITHDRAW,
    Action,
    Begin,
    ChangeConsent,
    CheckinAnswer,
    DiscardDraft,
    Event,
    Finished,
    OpenAddendum,
    OpenCheckin,
    Reply,
    Resume,
    State,
    SubmitAddendum,
    SubmitReport,
    Submitted,
    UserCommand,
    UserFile,
    UserText,
    WithdrawCase,
)
from nlu import (
    BARE_NUMBER,
    OPTION_SYNONYMS,
    is_hedged,
    match_option,
    parse_date,
    to_ascii_digits,
)

__all__ = [
    "MAX_TEXT",
    "RIGHTS",
    "SUMMARY_TEXT",
    "URGENT_START",
    "Engine",
    "GuidanceText",
    "is_child_reporter",
]

URGENT_START = "urgent:start"
RIGHTS = (
    "rights.what",
    "rights.complain",
    "rights.institution",
    "rights.confidentiality",
    "rights.safety",
)
# Emergency guidance for (language, what the reporter wrote as their country).
GuidanceText = Callable[[str, str | None], str]

MAX_TEXT = 20_000
SUMMARY_TEXT = 300
_COMMAND_INTENTS = {
    "quick_exit": "exit",
    "skip": "skip",
    "go_back": "back",
    "help": "help",
    "change_language": "lang",
    "withdraw_consent": "exit",
}


#: How many (message, options) readings `_match_multi` keeps within one step.
_MATCH_MEMO = 1024


class _Invalid(Exception):
    """An answer that does not fit the question: re-ask kindly."""


class Engine:
    def __init__(
        self,
        flows: FlowSet,
        guidance: GuidanceText | None = None,
        self_harm_guidance: GuidanceText | None = None,
    ) -> None:
        self.flows = flows
        self.guidance = guidance
        #: Text for someone who may harm themselves (crisis lines), in place of `guidance`.
        self.self_harm_guidance = self_harm_guidance
        self._labels = {  # option id -> every label and synonym, both languages
            opt: (
                *{flows.catalog[lang].get(f"opt.{opt}", opt) for lang in flows.catalog},
                opt,
                *OPTION_SYNONYMS.get(opt, ()),
            )
            for spec in flows.fields.values()
            for opt in (*spec.options, *BOOL_OPTIONS)
        }
        for opt in (
            "done",
            "edit",
            "discard",
            "later",
            "urgent_short",
            "urgent_full",
            "withdraw",
            "continue",
            "restart",
            *CHECKIN_OPTIONS,
        ):
            self._labels[opt] = (
                *{flows.catalog[lang][f"opt.{opt}"] for lang in flows.catalog},
                opt,
                *OPTION_SYNONYMS.get(opt, ()),
            )
        # Consents a reporter may change with the receipt (keeping the report is changed by
        # withdrawing it): their steps, in the order asked.
        self._consent_steps = {
            s.field: s for s in flows.steps.values() if s.consent and s.field and not s.required
        }
        for opt in self._consent_steps:
            self._labels[opt] = (
                *{flows.catalog[lang].get(f"field.{opt}", opt) for lang in flows.catalog},
                opt,
            )
        self._labels["consents"] = (
            *{flows.catalog[lang].get("opt.consents", "consents") for lang in flows.catalog},
            "consents",
        )
        self._matched: dict[tuple[str, tuple[str, ...]], tuple[str, ...]] = {}

    # ---- public ---------------------------------------------------------------------------

    def expecting(self, state: State) -> str | None:
        """The kind of answer the pending question wants (used to read free text in context)."""
        special = SPECIAL_STEPS.get(state.at or "")
        if special is not None:
            return special.kind
        step = self.flows.steps.get(state.at or "")
        return step.kind if step else None

    def answering(self, state: State) -> str | None:
        """The report field the pending question asks for (None for the engine's own
        questions): the interpreter judges a free-text answer with it ("where?" answered
        with a place is not a danger; a narrative can be)."""
        if state.at == ADDENDUM:
            return "addendum"
        step = self.flows.steps.get(state.at or "")
        return (step.field or step.id) if step else None

    def step(self, state: State, event: Event) -> tuple[State, list[Action]]:
        self._matched.clear()  # readings of the last message: a reporter's words are not kept
        out: list[Action] = []
        if state.danger_exit and not (
            isinstance(event, UserCommand) and event.name in ("exit", "delete")
        ):
            return self._after_danger_exit(state, event, out), out
        if isinstance(event, Begin):
            state = self._begin(state, event, out)
        elif isinstance(event, Resume):
            state = replace(state, paused_at=state.at, at=RESUME)
            out.append(self._ask_pseudo(state))
        elif isinstance(event, Submitted):
            state = self._submitted(state, event, out)
        elif isinstance(event, OpenAddendum):
            state = State(
                lang=event.lang,
                at=ADDENDUM,
                addendum_for=event.case_ref,
                started_at=event.at.isoformat(),
                consent=dict(event.consent or {}),
            )
            if event.intro:
                out.append(Reply(self._t(state, event.intro, **event.params), "info", state.lang))
            out.append(self._ask_pseudo(state))
        elif isinstance(event, OpenCheckin):
            state = State(
                lang=event.lang,
                at=CHECKIN,
                addendum_for=event.case_ref,
                started_at=event.at.isoformat(),
                checkin=event.checkin_id,
            )
            out.append(self._ask_pseudo(state))
        elif isinstance(event, UserCommand):
            state = self._command(state, event.name, event.arg, event.at, out)
        elif isinstance(event, UserFile):
            state = self._file(state, event, out)
        elif isinstance(event, UserText):
            state = self._text(state, event, out)
        return self._offer_urgent_path(state, out), out

    # ---- events ---------------------------------------------------------------------------

    def _begin(self, state: State, event: Begin, out: list[Action]) -> State:
        lang = event.lang or event.hint or state.lang
        state = State(lang=lang, started_at=event.at.isoformat())
        if event.lang:
            first = self.flows.steps[self.flows.start]
            state = self._record(state, first, event.lang, event.at)
            return self._advance(state, first.next, out)
        return self._advance(state, self.flows.start, out)

    def _after_danger_exit(self, state: State, event: Event, out: list[Action]) -> State:
        """They come back after an erase-first exit: a fresh conversation in their language
        that offers the urgent questions as soon as storage is consented."""
        out.append(Reply(self._t(state, "sys.urgent.after_exit"), "info", state.lang))
        fresh = self._begin(State(), Begin(event.at, lang=state.lang), out)
        return replace(fresh, urgent=state.urgent)

    def _submitted(self, state: State, event: Submitted, out: list[Action]) -> State:
        review = next(s for s in self.flows.steps.values() if s.kind == "review")
        receipt = self.flows.steps[review.next or ""]
        intro = self._t(state, receipt.text or "")
        body = self._t(state, "sys.receipt", case_ref=event.case_ref, receipt=event.receipt)
        out.append(
            Reply(
                f"{intro}\n\n{body}",
                "receipt",
                state.lang,
                "receipt",
                extra={"case_ref": event.case_ref, "receipt": event.receipt},
            )
        )
        state = replace(state, mode="submitted")
        return self._advance(state, receipt.next, out)

    def _command(
        self, state: State, name: str, arg: str | None, at: datetime, out: list[Action]
    ) -> State:
        if name in ("exit", "delete"):
            kept = state.urgent and state.answers.get("consent_store") == "yes"
            key = "sys.quick_exit_urgent" if kept else "sys.quick_exit_done"
            if not kept and not state.answers and not state.trail:
                key = "sys.quick_exit_nothing"  # e.g. after sending: the report is kept
            text = self._t(state, key)
            if key == "sys.quick_exit_nothing" and state.started_at is None:
                # No conversation here (e.g. the report was sent): its language is not known.
                text = "\n\n".join(self.flows.text(lang, key) for lang in self.flows.catalog)
            out.append(Reply(text, "info", state.lang))
            out += [DiscardDraft(), Finished()]
            return replace(state, mode="ended", at=None)
        if state.at in (CONSENTS, CONSENT_SET) and name in ("skip", "back"):
            return self._reask(replace(state, at=ADDENDUM, paused_at=None), out)
        if state.at == ADDENDUM and name == "skip":
            return self._end_addendum(state, out)
        if state.at == CHECKIN and name in ("skip", "back"):  # no answer: it stays unanswered
            out.append(Reply(self._t(state, "sys.checkin.later"), "info", state.lang))
            out += [DiscardDraft(), Finished()]
            return replace(state, mode="ended", at=None)
        if name == "help":
            step = self.flows.steps.get(state.at or "")
            key = step.help if step and step.help else "sys.help"
            out.append(Reply(self._t(state, key), "info", state.lang))
            return self._reask(state, out)
        if name == "lang":
            lang = arg if arg in self.flows.catalog else ("en" if state.lang == "ar" else "ar")
            answers = {**state.answers, "language": lang}
            state = replace(state, lang=lang, answers=answers)
            out.append(Reply(self._t(state, "sys.lang_switched"), "info", lang))
            return self._reask(state, out)
        if name == "back":
            return self._back(state, out)
        if name == "skip":
            return self._skip(state, at, out)
        if name == "start":
            return self._step_resume(state, out)
        if name == "rights":
            out += [Reply(self._t(state, key), "info", state.lang) for key in RIGHTS]
        if name == "receipt":  # a receipt code typed here is never kept in the conversation
            out.append(Reply(self._t(state, "sys.receipt_pasted"), "info", state.lang))
        return self._reask(state, out)

    def _step_resume(self, state: State, out: list[Action]) -> State:
        if state.at in (RESUME, ADDENDUM, None):
            return self._reask(state, out)
        state = replace(state, paused_at=state.at, at=RESUME)
        out.append(self._ask_pseudo(state))
        return state

    def _text(self, state: State, event: UserText, out: list[Action]) -> State:
        interp = event.interpretation
        step = self.flows.steps.get(state.at or "")
        intent = interp.intent
        # Only a curated word list's whole-message match is as good as a label ("ايوه", "ok");
        # a trained model's guess, or a partial match, is a proposal on consequential questions.
        sure = not interp.by_model and interp.confidence >= 0.95
        # An option id or number is an answer: never a command, never words of danger.
        picked = bool(self._strict_ids(event.text, self._pending_options(state)))
        erasing = intent == "quick_exit" and not picked
        if state.at == CHECKIN and not erasing:
            return self._checkin_answer(state, event.text, interp.urgent, out)
        if interp.urgent and not picked and not erasing:
            state = self._mark_urgent(state, interp.urgent_reasons or ("urgent_text",), out)
        if erasing and interp.urgent and not state.urgent:
            # "someone is here, delete everything": erase at once, no guidance on the screen
            # first; how to reach the urgent questions later is said with the erasure.
            out.append(Reply(self._t(state, "sys.quick_exit_danger"), "info", state.lang))
            out.append(DiscardDraft())
            # Only the mark is kept (no answer, no words), so that their next message is
            # offered the urgent questions.
            reasons = tuple(interp.urgent_reasons) or ("urgent_text",)
            return State(lang=state.lang, mode="ended", urgent=reasons, danger_exit=True)
        answering_language = step is not None and step.field == "language"
        if state.at == ADDENDUM and (
            intent == "withdraw_consent"
            or self._match_choice(event.text, self._pending_options(state)) == "withdraw"
        ):
            state = replace(state, at=WITHDRAW)
            out.append(self._ask_pseudo(state))
            return state
        if state.at == WITHDRAW:
            return self._withdraw_answer(state, event.text, intent, sure, out)
        if (
            state.at == ADDENDUM
            and state.consent
            and self._match_choice(event.text, self._pending_options(state)) == "consents"
        ):
            return self._show_consents(state, out)
        if state.at == CONSENTS:
            return self._consent_pick(state, event.text, out)
        if state.at == CONSENT_SET:
            return self._consent_set(state, event.text, intent, event.at, out)
        # ...and an option's label is an answer, not a command ("مساعدة قانونية" is not /help);
        # labels do not silence danger, which free text may carry beside a label.
        named = picked or (
            step is not None
            and step.kind in ("choice", "multi")
            and bool(self._match_multi(event.text, step.options))
        )
        command = None if named else _COMMAND_INTENTS.get(intent)
        if command and not (answering_language and command == "lang"):
            arg = next((str(e.value) for e in interp.entities if e.entity == "language"), None)
            return self._command(state, command, arg, event.at, out)
        if state.at == READING:
            return self._reading_answer(state, event.text, intent, sure, event.at, out)
        if state.at == ADDENDUM:
            return self._addendum_text(state, event.text, intent, out)
        if state.at == URGENT_OFFER:
            return self._urgent_choice(state, event.text, out)
        if state.at in (RESUME, CONFIRM, AFTER_REVIEW):
            return self._pseudo_answer(state, event.text, intent, sure, event.at, out)
        if step is None or state.at == SUBMITTING:
            return self._reask(state, out)
        if step.kind == "bool":
            return self._bool_step(state, step, event.text, intent, sure, event.at, out)
        try:
            value = self._parse(step, event.text, intent, state, event.at)
        except _Invalid:
            out.append(Reply(self._t(state, f"sys.invalid.{step.kind}"), "info", state.lang))
            return self._reask(state, out)
        if step.kind == "files":
            return self._finish_files(state, step, event.at, out)
        return self._answer(state, step, value, event.at, out)

    def _bool_step(
        self,
        state: State,
        step: Step,
        text: str,
        intent: str,
        sure: bool,
        at: datetime,
        out: list[Action],
    ) -> State:
        """A yes/no question of the flows: numbers and labels decide; a condition or a hedge
        on a consent is not consent; a model-only Yes to a consent is confirmed first."""
        raw = text.strip()
        answer, explicit = (
            self._read_bool(raw, intent, step.option_ids(), sure) if raw else (None, False)
        )
        if step.consent and answer in ("yes", None) and raw and is_hedged(raw):
            if step.required:  # storage: nothing can be kept on a condition; ask plainly
                out.append(
                    Reply(self._t(state, "sys.consent_conditional_store"), "info", state.lang)
                )
                return self._reask(state, out)
            out.append(Reply(self._t(state, "sys.consent_conditional"), "info", state.lang))
            return self._answer(state, step, "no", at, out)
        if answer is None:
            out.append(Reply(self._t(state, "sys.invalid.bool"), "info", state.lang))
            return self._reask(state, out)
        if step.field == "consent_store" and answer == "unknown":
            out.append(Reply(self._t(state, "sys.consent_unsure"), "info", state.lang))
            return self._reask(state, out)
        if step.consent and answer == "yes" and not explicit:
            return self._propose(state, answer, raw, out)
        return self._answer(state, step, answer, at, out)

    # ---- a model's reading of a consequential answer, confirmed ---------------------------

    def _propose(self, state: State, value: str, words: str, out: list[Action]) -> State:
        """The model alone never makes a consent, "send now", "withdraw" or "discard" Yes:
        it proposes the reading and the reporter confirms it in one short question."""
        state = replace(
            state, at=READING, reading={"for": state.at or "", "value": value, "words": words[:80]}
        )
        out.append(self._ask_pseudo(state))
        return state

    def _reading_answer(
        self, state: State, text: str, intent: str, sure: bool, at: datetime, out: list[Action]
    ) -> State:
        answer, explicit = self._read_bool(text.strip(), intent, ("yes", "no"), sure)
        if answer is None or (answer == "yes" and not explicit):  # a guess confirms nothing
            out.append(Reply(self._t(state, "sys.invalid.yes_no"), "info", state.lang))
            return self._reask(state, out)
        reading = state.reading or {}
        back = replace(state, at=reading.get("for") or None, reading=None)
        if answer != "yes":  # not what they meant: the question itself again
            return self._reask(back, out)
        value = reading.get("value", "")
        if back.at == WITHDRAW:
            return self._apply_withdraw(back, value, out)
        if back.at in (RESUME, CONFIRM):
            return self._apply_pseudo(back, value, out)
        step = self.flows.steps.get(back.at or "")
        if step is None:
            return self._reask(back, out)
        return self._answer(back, step, value, at, out)

    def _file(self, state: State, event: UserFile, out: list[Action]) -> State:
        step = self.flows.steps.get(state.at or "")
        field = step.field if step and step.kind in ("files", "text") else "evidence"
        meta = {
            "id": event.id,
            "name": event.name,
            "size": event.size,
            "sha256": event.sha256,
            "content_type": event.content_type,
            "field": field,
        }
        if state.at == ADDENDUM and state.addendum_for:
            index = state.addendum_count + 1
            out.append(
                SubmitAddendum(
                    state.addendum_for, index, file={**meta, "field": f"addendum.{index}"}
                )
            )
            out.append(
                Reply(
                    self._t(state, "sys.attachment.received", name=event.name), "info", state.lang
                )
            )
            state = replace(state, addendum_count=index)
            out.append(self._ask_pseudo(state))
            return state
        state = replace(state, files=(*state.files, meta))
        out.append(
            Reply(self._t(state, "sys.attachment.received", name=event.name), "info", state.lang)
        )
        if step is not None and step.kind == "text":
            return self._answer(state, step, {"attachments": [event.id]}, event.at, out)
        if step is not None and step.kind == "files":
            out.append(
                Reply(
                    self._t(state, "sys.files.more"),
                    "files",
                    state.lang,
                    step.field,
                    self._options(state, ("done",)),
                )
            )
            return state
        return self._reask(state, out)

    # ---- moving through the graph ---------------------------------------------------------

    def _advance(self, state: State, ref: str | None, out: list[Action]) -> State:
        for _ in range(500):  # the checked graph has no loops without a question; be safe
            if ref is None:
                return self._finish(state, out)
            step = self.flows.steps[ref]
            if step.when is not None and not step.when.holds(state.answers):
                ref = step.next
                continue
            if step.kind == "info":
                out.append(Reply(self._t(state, step.text or ""), "info", state.lang))
                ref = step.next
            elif step.kind == "route":
                value = state.answers.get(step.on or "")
                ref = step.branch.get(value, step.next) if isinstance(value, str) else step.next
            elif step.kind == "review":
                out.append(Reply(self._summary(state), "info", state.lang))
                state = replace(state, at=CONFIRM)
                out.append(self._ask_pseudo(state))
                return state
            elif step.kind in ("end", "receipt"):
                out.append(Reply(self._t(state, step.text or ""), "info", state.lang))
                return self._finish(state, out)
            else:
                group = self.flows.group_of(step)
                if group is not None:
                    entered = self._enter_group(state, step, group, out)
                    if entered is None:  # full: the block is left without asking
                        ref = self.flows.group_again(group).next
                        continue
                    state = entered
                state = replace(state, at=ref)
                out.append(self._ask(state, step))
                return state
        raise RuntimeError("flow graph loops without asking anything")

    # ---- a repeated block (several victims) -----------------------------------------------

    def _entry(self, state: State, step: Step) -> str:
        """The step's place in the trail: a repeated question names its entry ("@2")."""
        if self.flows.group_of(step) is None:
            return step.ref
        return f"{step.ref}{REPEAT_SEP}{state.repeat}"

    def _entries(self, state: State, group: str) -> int:
        """How many entries of the block are on the path taken (left-behind ones are not)."""
        counts = [
            n
            for ref, n in map(_split_ref, state.trail)
            if n and self.flows.group_of(self.flows.steps[ref]) == group
        ]
        return max(counts, default=0)

    def _enter_group(self, state: State, step: Step, group: str, out: list[Action]) -> State | None:
        """At the block's first question a new entry starts; at its `again` question with
        the block full, nothing is asked (None: leave the block)."""
        cap = self.flows.fields[group].max
        if step.again and state.repeat >= cap:
            out.append(Reply(self._t(state, "sys.repeat.cap", max=cap), "info", state.lang))
            return None
        if step.ref != self.flows.group_start(group):
            return state
        n = self._entries(state, group) + 1
        if n > cap:
            out.append(Reply(self._t(state, "sys.repeat.cap", max=cap), "info", state.lang))
            return None
        kept = [dict(e) for e in state.answers.get(group, [])][: n - 1]
        kept += [{} for _ in range(n - 1 - len(kept))]
        return replace(state, repeat=n, answers={**state.answers, group: [*kept, {}]})

    def _store_in_group(
        self, state: State, step: Step, group: str, value: Any, answered: bool
    ) -> State:
        entries = [dict(e) for e in state.answers.get(group, [])]
        entries += [{} for _ in range(state.repeat - len(entries))]
        field = step.field or step.id
        entries[state.repeat - 1].pop(field, None)
        if answered:
            entries[state.repeat - 1][field] = value
        entry = self._entry(state, step)
        return replace(
            state,
            answers={**state.answers, group: entries},
            trail=(*[r for r in state.trail if r != entry], entry),
        )

    def _finish(self, state: State, out: list[Action]) -> State:
        if state.mode != "submitted":
            out.append(DiscardDraft())
            state = replace(state, mode="ended")
        out.append(Finished())
        return replace(state, at=None)

    def _answer(
        self, state: State, step: Step, value: Any, at: datetime, out: list[Action]
    ) -> State:
        state = self._record(state, step, value, at)
        if step.urgent_if is not None and value == step.urgent_if:
            state = self._mark_urgent(state, (step.field or step.id,), out)
        target = step.branch.get(value, step.next) if isinstance(value, str) else step.next
        return self._advance(state, target, out)

    def _record(self, state: State, step: Step, value: Any, at: datetime) -> State:
        group = self.flows.group_of(step)
        if group is not None and state.repeat:
            return self._store_in_group(state, step, group, value, answered=True)
        field = step.field or step.id
        answers = {**state.answers, field: value}
        consent = dict(state.consent)
        if step.consent:
            key = step.consent_text or step.text or ""
            shown = self._t(state, key)
            consent[field] = {
                "value": value,
                "at": at.isoformat(),
                "text": key,
                "lang": state.lang,
                "version": hashlib.sha256(shown.encode()).hexdigest()[:12],
            }
        lang = value if field == "language" and isinstance(value, str) else state.lang
        return replace(
            state,
            answers=answers,
            consent=consent,
            lang=lang,
            skipped=tuple(s for s in state.skipped if s != field),
            trail=(*[r for r in state.trail if r != step.ref], step.ref),
        )

    def _skip(self, state: State, at: datetime, out: list[Action]) -> State:
        """Every question but the storage consent can be skipped; on the bot's own questions
        skipping takes the choice that changes nothing irreversible."""
        if state.at == RESUME:
            return self._resume_answer(state, "yes", out)
        if state.at == READING:  # not confirmed: the question itself again
            return self._reask(
                replace(state, at=(state.reading or {}).get("for") or None, reading=None), out
            )
        if state.at == URGENT_OFFER:  # someone in danger: the fewest questions
            return self._urgent_choice(state, "urgent_short", out)
        if state.at == WITHDRAW:  # nothing is withdrawn without a yes
            return self._apply_withdraw(state, "no", out)
        if state.at in (CONFIRM, AFTER_REVIEW):  # nothing is sent without a yes: "later"
            out.append(Reply(self._t(state, "sys.review.later"), "info", state.lang))
            return replace(state, at=CONFIRM)
        step = self.flows.steps.get(state.at or "")
        if step is None or step.required:
            out.append(Reply(self._t(state, "sys.cannot_skip"), "info", state.lang))
            return self._reask(state, out)
        if step.kind == "files" and any(f["field"] == step.field for f in state.files):
            return self._finish_files(state, step, at, out)
        field = step.field or step.id
        group = self.flows.group_of(step)
        if group is not None and state.repeat:  # a skipped answer about one more person
            state = self._store_in_group(state, step, group, None, answered=False)
            return self._advance(state, step.branch.get("skipped", step.next), out)
        answers = {k: v for k, v in state.answers.items() if k != field}
        state = replace(
            state,
            answers=answers,
            skipped=(*state.skipped, field),
            trail=(*[r for r in state.trail if r != step.ref], step.ref),
        )
        return self._advance(state, step.branch.get("skipped", step.next), out)

    def _back(self, state: State, out: list[Action]) -> State:
        if state.at == READING:
            return self._reask(
                replace(state, at=(state.reading or {}).get("for") or None, reading=None), out
            )
        trail = state.trail
        here = self.flows.steps.get(state.at or "")
        if here is not None and self._entry(state, here) in trail:
            trail = trail[: trail.index(self._entry(state, here))]
        if not trail:
            out.append(Reply(self._t(state, "sys.back_at_start"), "info", state.lang))
            return self._reask(state, out)
        ref, n = _split_ref(trail[-1])  # inside a repeated block: that person's question
        state = replace(state, at=ref, repeat=n, trail=trail[:-1])
        return self._reask(state, out)

    def _finish_files(self, state: State, step: Step, at: datetime, out: list[Action]) -> State:
        ids = [f["id"] for f in state.files if f["field"] == step.field]
        if not ids:
            return self._skip(state, at, out)
        return self._answer(state, step, ids, at, out)

    def _mark_urgent(self, state: State, reasons: tuple[str, ...], out: list[Action]) -> State:
        country = state.answers.get("country")
        where = country if isinstance(country, str) else None
        if "self_harm" in reasons and "self_harm" not in state.urgent:
            # someone who may end their life is answered about that first, in their language
            text = (
                self.self_harm_guidance(state.lang, where)
                if self.self_harm_guidance
                else self._t(state, "sys.urgent.self_harm")
            )
            out.append(Reply(text, "info", state.lang))
        elif not state.urgent:  # guidance at once, before anything else is asked
            text = (
                self.guidance(state.lang, where) if self.guidance else self._t(state, "sys.urgent")
            )
            out.append(Reply(text, "info", state.lang))
        merged = tuple(dict.fromkeys((*state.urgent, *reasons)))
        return replace(state, urgent=merged)

    # ---- the urgent path ------------------------------------------------------------------

    def _offer_urgent_path(self, state: State, out: list[Action]) -> State:
        """Once someone is in danger and storage is consented, offer the short path.

        Offered once, in place of the question just asked; "full" returns to that question.
        """
        if (
            not state.urgent
            or state.urgent_offered
            or state.mode != "active"
            or state.answers.get("consent_store") != "yes"
            or state.at not in self.flows.steps
            or self.flows.steps[state.at].flow
            not in ("opening", "complaint", "reprisal", "details")
        ):
            return state
        if out and isinstance(out[-1], Reply) and out[-1].kind != "info":
            out.pop()  # the question comes back if they choose the full report
        state = replace(state, urgent_offered=True, paused_at=state.at, at=URGENT_OFFER)
        out.append(self._ask_pseudo(state))
        return state

    def _urgent_choice(self, state: State, text: str, out: list[Action]) -> State:
        choice = self._match_choice(text, ("urgent_short", "urgent_full"))
        if choice is None:
            out.append(Reply(self._t(state, "sys.invalid.choice"), "info", state.lang))
            return self._reask(state, out)
        paused, state = state.paused_at, replace(state, paused_at=None)
        if choice == "urgent_short":
            return self._advance(replace(state, at=None), URGENT_START, out)
        return self._reask(replace(state, at=paused), out)

    # ---- pseudo-questions: resume, confirm, after review ----------------------------------

    def _pseudo_answer(
        self, state: State, text: str, intent: str, sure: bool, at: datetime, out: list[Action]
    ) -> State:
        if state.at == AFTER_REVIEW:
            choice = self._match_choice(text, ("edit", "discard", "later"))
            if choice is None:
                out.append(Reply(self._t(state, "sys.invalid.choice"), "info", state.lang))
                return self._reask(state, out)
            if choice == "edit":
                return self._back(replace(state, at=CONFIRM), out)
            if choice == "discard":
                return self._command(state, "exit", None, at, out)
            out.append(Reply(self._t(state, "sys.review.later"), "info", state.lang))
            return replace(state, at=CONFIRM)  # the draft stays; coming back resumes at review
        answer, explicit = self._read_bool(text, intent, ("yes", "no"), sure)
        if state.at == RESUME:  # its options read "Continue my report" / "Start again"
            named = match_option(
                text,
                {"yes": self._labels["continue"], "no": self._labels["restart"]},
                synonyms=None,
            )
            if len(named) == 1:
                answer, explicit = named[0], True
        if answer is None or answer == "unknown":
            out.append(Reply(self._t(state, "sys.invalid.yes_no"), "info", state.lang))
            return self._reask(state, out)
        consequential = "no" if state.at == RESUME else "yes"  # discard the draft / send
        if answer == consequential and not explicit:
            return self._propose(state, answer, text.strip(), out)
        return self._apply_pseudo(state, answer, out)

    def _apply_pseudo(self, state: State, answer: str, out: list[Action]) -> State:
        if state.at == RESUME:
            return self._resume_answer(state, answer, out)
        if answer == "no":
            state = replace(state, at=AFTER_REVIEW)
            out.append(self._ask_pseudo(state))
            return state
        state = replace(state, at=SUBMITTING)
        fields, files = self.report(state)
        out.append(
            SubmitReport(
                fields=fields,
                files=files,
                consent=dict(state.consent),
                urgent=state.urgent,
                lang=state.lang,
            )
        )
        return state

    def report(self, state: State) -> tuple[dict[str, Any], tuple[dict[str, Any], ...]]:
        """The answers on the path taken (not those left behind by /back) and their files."""
        fields: dict[str, Any] = {}
        people: dict[str, dict[int, dict[str, Any]]] = {}  # repeated block -> entry -> answers
        for entry in state.trail:
            ref, n = _split_ref(entry)
            step = self.flows.steps[ref]
            field = step.field or ref
            group = self.flows.group_of(step)
            if group is not None and n:
                person = people.setdefault(group, {}).setdefault(n, {})
                items = state.answers.get(group, [])
                if not step.again and n <= len(items) and field in items[n - 1]:
                    person[field] = items[n - 1][field]
            elif field in state.answers:
                fields[field] = state.answers[field]
        identity = self.flows.identity_fields
        for group, entries in people.items():
            ordered = [entries[n] for n in sorted(entries)]
            # each person's name goes with the protected identity section, by position
            fields[group] = [{k: v for k, v in p.items() if k not in identity} for p in ordered]
            names = [{k: v for k, v in p.items() if k in identity} for p in ordered]
            if any(names):
                fields[f"{group}_identity"] = names
        files = tuple(
            f
            for f in state.files
            if f["field"] not in fields or f["id"] in _ids(fields[f["field"]])
        )
        return fields, files

    def _addendum_text(self, state: State, text: str, intent: str, out: list[Action]) -> State:
        if intent in ("done", "deny", "skip", "thanks") or self._match_choice(text, ("done",)):
            return self._end_addendum(state, out)
        raw = text.strip()
        if not raw or len(raw) > MAX_TEXT or not state.addendum_for:
            out.append(Reply(self._t(state, "sys.invalid.text"), "info", state.lang))
            return self._reask(state, out)
        index = state.addendum_count + 1
        out.append(SubmitAddendum(state.addendum_for, index, text=raw))
        out.append(Reply(self._t(state, "sys.addendum.saved"), "info", state.lang))
        state = replace(state, addendum_count=index)
        out.append(self._ask_pseudo(state))
        return state

    def _withdraw_answer(
        self, state: State, text: str, intent: str, sure: bool, out: list[Action]
    ) -> State:
        answer, explicit = self._read_bool(text, intent, ("yes", "no"), sure)
        if answer == "yes" and not explicit:
            return self._propose(state, answer, text.strip(), out)
        if answer is None:
            out.append(Reply(self._t(state, "sys.invalid.yes_no"), "info", state.lang))
            return self._reask(state, out)
        return self._apply_withdraw(state, answer, out)

    def _apply_withdraw(self, state: State, answer: str, out: list[Action]) -> State:
        if answer == "yes" and state.addendum_for:
            out.append(WithdrawCase(state.addendum_for))
            out.append(Reply(self._t(state, "sys.withdrawn"), "info", state.lang))
            out += [DiscardDraft(), Finished()]
            return replace(state, mode="ended", at=None)
        return self._reask(replace(state, at=ADDENDUM), out)

    # ---- changing one consent later, with the receipt -------------------------------------

    def _changeable(self, state: State) -> tuple[str, ...]:
        return tuple(f for f in self._consent_steps if f in state.consent)

    def _consent_now(self, state: State, field: str) -> str:
        entry = state.consent.get(field)
        given = isinstance(entry, dict) and entry.get("value") == "yes"
        return self._t(state, "sys.consents.given" if given else "sys.consents.not_given")

    def _show_consents(self, state: State, out: list[Action]) -> State:
        state = replace(state, at=CONSENTS, paused_at=None)
        out.append(self._ask_pseudo(state))
        return state

    def _consent_pick(self, state: State, text: str, out: list[Action]) -> State:
        choice = self._match_choice(text, self._pending_options(state))
        if choice is None:
            out.append(Reply(self._t(state, "sys.invalid.choice"), "info", state.lang))
            return self._reask(state, out)
        if choice == "done":
            return self._reask(replace(state, at=ADDENDUM), out)
        state = replace(state, at=CONSENT_SET, paused_at=choice)
        out.append(self._ask_pseudo(state))
        return state

    def _consent_set(
        self, state: State, text: str, intent: str, at: datetime, out: list[Action]
    ) -> State:
        # Only an option decides here; the model may only read a plain "no".
        answer = self._match_choice(text, ("yes", "no")) or ("no" if intent == "deny" else None)
        if answer == "yes" and is_hedged(text):  # a condition is not consent: ask plainly
            answer = None
        field = state.paused_at or ""
        step = self._consent_steps.get(field)
        if answer is None or step is None or not state.addendum_for:
            out.append(Reply(self._t(state, "sys.invalid.yes_no"), "info", state.lang))
            return self._reask(state, out)
        key = step.consent_text or step.text or ""
        shown = self._t(state, key)
        entry = {
            "value": answer,
            "at": at.isoformat(),
            "text": key,
            "lang": state.lang,
            "version": hashlib.sha256(shown.encode()).hexdigest()[:12],
        }
        index = state.addendum_count + 1
        out.append(
            ChangeConsent(
                state.addendum_for,
                index,
                field,
                answer,
                entry["at"],
                state.lang,
                key,
                entry["version"],
            )
        )
        state = replace(
            state,
            consent={**state.consent, field: entry},
            addendum_count=index,
            at=CONSENTS,
            paused_at=None,
        )
        out.append(
            Reply(
                self._t(
                    state,
                    "sys.consents.changed",
                    consent=self._t(state, f"field.{field}"),
                    now=self._consent_now(state, field),
                ),
                "info",
                state.lang,
            )
        )
        out.append(self._ask_pseudo(state))
        return state

    # ---- a safety check-in ----------------------------------------------------------------

    def _checkin_answer(self, state: State, text: str, urgent: bool, out: list[Action]) -> State:
        """A number or a word picks the answer; words of danger mean "something happened"
        (a question about safety is never answered "safe" by a guess)."""
        choice = self._match_choice(text, CHECKIN_OPTIONS)
        if choice is None and urgent:
            choice = "not_safe"
        if choice is None or not state.addendum_for or not state.checkin:
            out.append(Reply(self._t(state, "sys.invalid.choice"), "info", state.lang))
            return self._reask(state, out)
        answer = "stop" if choice == "stop_checkins" else choice
        out.append(CheckinAnswer(state.addendum_for, state.checkin, answer))
        out.append(Reply(self._t(state, f"sys.checkin.{answer}"), "info", state.lang))
        if answer == "not_safe":
            if self.guidance:  # what to do now, as for anyone in danger
                out.append(Reply(self.guidance(state.lang, None), "info", state.lang))
            # they may say what happened: added to the case, sealed, like any addendum
            state = replace(
                state, at=ADDENDUM, checkin=None, urgent=("checkin_not_safe",), urgent_offered=True
            )
            out.append(self._ask_pseudo(state))
            return state
        out += [DiscardDraft(), Finished()]
        return replace(state, mode="ended", at=None)

    def _end_addendum(self, state: State, out: list[Action]) -> State:
        out.append(Reply(self._t(state, "sys.addendum.done"), "info", state.lang))
        out += [DiscardDraft(), Finished()]
        return replace(state, mode="ended", at=None)

    def _resume_answer(self, state: State, answer: str, out: list[Action]) -> State:
        if answer == "yes":
            return self._reask(replace(state, at=state.paused_at, paused_at=None), out)
        out.append(Reply(self._t(state, "sys.resume.discarded"), "info", state.lang))
        out.append(DiscardDraft())
        fresh = State(lang=state.lang, started_at=state.started_at)
        return self._advance(fresh, self.flows.start, out)

    def _ask_pseudo(self, state: State) -> Reply:
        # a state at no special step is asked what to do after the review (as it always was)
        special = SPECIAL_STEPS.get(state.at or "", SPECIAL_STEPS[AFTER_REVIEW])
        if state.at == CHECKIN:
            return Reply(
                self._t(state, "sys.checkin.ask", case_ref=state.addendum_for or ""),
                special.kind,
                state.lang,
                special.field,
                self._options(state, special.options),
            )
        if state.at == CONSENTS:
            lines = [self._t(state, "sys.consents.list")]
            lines += [
                f"• {self._t(state, f'field.{f}')}: {self._consent_now(state, f)}"
                for f in self._changeable(state)
            ]
            lines.append(self._t(state, "sys.consents.pick"))
            return Reply(
                "\n".join(lines),
                special.kind,
                state.lang,
                special.field,
                self._options(
                    state,
                    self._pending_options(state),
                    {f: f"field.{f}" for f in self._changeable(state)},
                ),
            )
        if state.at == CONSENT_SET:
            field = state.paused_at or ""
            step = self._consent_steps.get(field)
            question = self._t(state, step.text or "") if step else ""
            now = self._t(state, "sys.consents.current", now=self._consent_now(state, field))
            return Reply(
                f"{now}\n{question}",
                special.kind,
                state.lang,
                field,
                self._options(state, special.options),
            )
        if state.at == READING:
            reading = state.reading or {}
            value = reading.get("value", "yes")
            step = self.flows.steps.get(reading.get("for", ""))
            label = self._t(state, step.label_key(value) if step else f"opt.{value}")
            return Reply(
                self._t(state, "sys.reading.ask", words=reading.get("words", ""), answer=label),
                special.kind,
                state.lang,
                special.field,
                self._options(state, special.options),
            )
        assert special.text is not None
        options = self._pending_options(state) if state.at == ADDENDUM else special.options
        return Reply(
            self._t(state, special.text),
            special.kind,
            state.lang,
            special.field,
            self._options(state, options, dict(special.labels)),
        )

    # ---- asking and parsing ---------------------------------------------------------------

    def _pending_options(self, state: State) -> tuple[str, ...]:
        if state.at == ADDENDUM and state.consent:
            return (*SPECIAL_STEPS[ADDENDUM].options, "consents")
        if state.at == CONSENTS:
            return (*self._changeable(state), *SPECIAL_STEPS[CONSENTS].options)
        special = SPECIAL_STEPS.get(state.at or "")
        if special is not None:
            return special.options
        step = self.flows.steps.get(state.at or "")
        if step is None:
            return ()
        return ("done",) if step.kind == "files" else step.option_ids()

    def _reask(self, state: State, out: list[Action]) -> State:
        if state.at in SPECIAL_STEPS:
            out.append(self._ask_pseudo(state))
        elif state.at in self.flows.steps:
            out.append(self._ask(state, self.flows.steps[state.at]))
        return state

    def _ask(self, state: State, step: Step) -> Reply:
        text = self._t(state, self._text_key(state, step))
        if state.repeat and self.flows.group_of(step) is not None:
            # person 1 is the one the report is about: the others are 2, 3, ...
            text = f"{self._t(state, 'sys.repeat.person', n=state.repeat + 1)} {text}"
        if step.kind == "files":
            options = self._options(state, ("done",))
        else:
            options = self._options(state, step.option_ids(), step.labels)
        return Reply(text, step.kind, state.lang, step.field, options)

    def _text_key(self, state: State, step: Step) -> str:
        """The question's wording; its simpler one (text_child) when a child is reporting
        about themselves."""
        if step.text_child and is_child_reporter(state.answers):
            return step.text_child
        return step.text or ""

    def _options(
        self, state: State, ids: tuple[str, ...], labels: dict[str, str] | None = None
    ) -> tuple[tuple[str, str], ...]:
        labels = labels or {}
        return tuple((i, self._t(state, labels.get(i, f"opt.{i}"))) for i in ids)

    def _parse(self, step: Step, text: str, intent: str, state: State, at: datetime) -> Any:
        raw = text.strip()
        if not raw:
            raise _Invalid
        if step.kind == "text":
            if len(raw) > MAX_TEXT:
                raise _Invalid
            return raw
        if step.kind == "choice":
            choice = self._match_choice(raw, step.options)
            if choice is None:
                raise _Invalid
            return choice
        if step.kind == "multi":
            chosen = self._match_multi(raw, step.options)
            if not chosen:
                raise _Invalid
            return chosen
        if step.kind == "date":
            return _parse_date_answer(raw, state.lang, at)
        if step.kind == "files":
            if intent in ("done", "deny", "affirm") or self._match_choice(raw, ("done",)):
                return None
            raise _Invalid
        raise _Invalid

    def _read_bool(
        self, text: str, intent: str, shown: tuple[str, ...] = BOOL_OPTIONS, sure: bool = False
    ) -> tuple[str | None, bool]:
        """(answer, explicit). An option id, number or label of the options shown decides
        (explicit); the intent reads only free text that names none of them (explicit when
        `sure`: a curated word list's whole-message match), and a bare number is never an
        intent ("2" under "1. Yes 2. No" is No, whatever a model makes of the digit)."""
        if BARE_NUMBER.match(text):
            ids = self._strict_ids(text, shown)
            return (ids[0], True) if len(ids) == 1 else (None, False)
        named = self._match_choice(text, shown)
        if named is not None:
            return named, True
        by_intent = {"affirm": "yes", "deny": "no", "dont_know": "unknown"}.get(intent)
        return (by_intent, sure) if by_intent in shown else (None, False)

    def _match_choice(self, text: str, options: tuple[str, ...]) -> str | None:
        found = self._match_multi(text, options)
        return found[0] if len(found) == 1 else None

    def _match_multi(self, text: str, options: tuple[str, ...]) -> list[str]:
        # One message is read against the same options several times in a step (is it an
        # option? a command? the answer?): the reading is pure, so it is kept for the step
        # (`step` forgets it: what a reporter wrote is not kept beyond their message).
        key = (text, options)
        found = self._matched.get(key)
        if found is None:
            found = tuple(
                self._strict_ids(text, options)
                or match_option(text, {o: self._labels.get(o, (o,)) for o in options})
            )
            if len(self._matched) >= _MATCH_MEMO:
                self._matched.clear()
            self._matched[key] = found
        return list(found)

    @staticmethod
    def _strict_ids(text: str, options: tuple[str, ...]) -> list[str]:
        """Option ids or 1-based numbers (either digit set), separated by commas."""
        parts = [
            p.strip().rstrip(".)").strip()
            for p in to_ascii_digits(text).replace("،", ",").split(",")
        ]
        parts = [p for p in parts if p]
        if not parts or not all(
            p.lower() in options or (p.isdecimal() and p.isascii() and 1 <= int(p) <= len(options))
            for p in parts
        ):
            return []
        ids = [p.lower() if p.lower() in options else options[int(p) - 1] for p in parts]
        return list(dict.fromkeys(ids))

    def _summary(self, state: State) -> str:
        lines = [self._t(state, "sys.review.heading")]
        person = 0
        for entry in state.trail:
            ref, n = _split_ref(entry)
            step = self.flows.steps[ref]
            field = step.field or step.id
            group = self.flows.group_of(step)
            if group is not None and n:
                items = state.answers.get(group, [])
                if step.again or n > len(items) or field not in items[n - 1]:
                    continue
                if n != person:  # each other person under their number
                    if not person:
                        lines.append(self._t(state, "sys.repeat.heading"))
                    lines.append(self._t(state, "sys.repeat.person", n=n + 1))
                    person = n
                lines.append(
                    f"  ◦ {self._t(state, f'field.{field}')}: "
                    f"{self._show(state, step, items[n - 1][field])}"
                )
                continue
            if field == "language" or field not in state.answers:
                continue
            lines.append(
                f"• {self._t(state, f'field.{field}')}: "
                f"{self._show(state, step, state.answers[field])}"
            )
        for field in state.skipped:
            if f"field.{field}" in self.flows.catalog[state.lang]:
                lines.append(
                    f"• {self._t(state, f'field.{field}')}: {self._t(state, 'sys.review.skipped')}"
                )
        return "\n".join(lines)

    def _show(self, state: State, step: Step, value: Any) -> str:
        if step.kind in ("choice", "bool") and isinstance(value, str):
            return self._t(state, step.label_key(value))
        if step.kind == "multi" and isinstance(value, list):
            sep = "، " if state.lang == "ar" else ", "
            return sep.join(self._t(state, step.label_key(v)) for v in value)
        if step.kind == "date" and isinstance(value, dict):
            return str(value.get("raw", ""))
        if isinstance(value, list) or (isinstance(value, dict) and "attachments" in value):
            return self._t(state, "sys.review.files", n=len(_ids(value)))
        text = str(value)
        return text if len(text) <= SUMMARY_TEXT else text[:SUMMARY_TEXT] + "…"

    def _t(self, state: State, key: str, **params: object) -> str:
        return self.flows.text(state.lang, key, **params)


def _split_ref(entry: str) -> tuple[str, int]:
    """A trail entry: (step ref, entry number of a repeated block or 0)."""
    ref, sep, n = entry.partition(REPEAT_SEP)
    return ref, int(n) if sep and n.isdecimal() else 0


def is_child_reporter(answers: dict[str, Any]) -> bool:
    """A child reporting about what happened to themselves (the simpler wordings apply)."""
    return answers.get("reporter_is_child") == "yes" or (
        answers.get("reporter_role") == "victim" and answers.get("victim_age_group") == "child"
    )


def _ids(value: Any) -> list[str]:
    if isinstance(value, dict):
        return list(value.get("attachments", []))
    return list(value) if isinstance(value, list) else []


def _parse_date_answer(raw: str, lang: str, at: datetime) -> dict[str, Any]:
    """Keep the reporter's own words; add a normalised date where the parser finds one."""
    parsed = parse_date(raw, lang, now=at.replace(tzinfo=None))
    iso = parsed.iso if parsed else None
    if iso and iso > (at.replace(tzinfo=None) + timedelta(days=1)).date().isoformat():
        raise _Invalid  # a date in the future is a slip of the keyboard: ask again
    return {"raw": raw, "iso": iso, "precision": parsed.precision if parsed else None}
