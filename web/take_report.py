"""Reports taken by caseworkers (issue 18 item 3; San José 11: allegations made orally or in
writing; Kyiv-Copenhagen 19, II-هـ: visits to places of detention).

A caseworker interviewing someone in person, by phone, from a letter or on a detention visit
goes through the same flows and catalogues as the bot: the pure engine's questions are shown
one at a time as a form, in the language of the interview, and each answer is given to the
intake service exactly as a channel would (so triage, routing, sealing and the receipt are
the bot's own). The consent questions are read aloud and the person's answers recorded: the
report is sealed with its `source` and who recorded it, and every consent record says it was
read aloud and by whom. The receipt is shown once, to print and hand to the person.

    /intake                GET: choose the source and language; POST: start the interview
    /intake/{token}        GET: the current question; POST: the answer (or skip / back)
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caseworker import TAKEN_SOURCES, Principal
from storage import accounts

__all__ = ["SOURCES", "TakeReport"]

SOURCES = TAKEN_SOURCES  # the channels of reports a caseworker takes down
LANGS = ("ar", "en")
ROLES = ("caseworker", "supervisor")
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _src(who: Principal, token: str, source: str) -> Any:
    from intake import Incoming

    # The interview is this caseworker's own: another account cannot reach the draft.
    return Incoming(source, f"dashboard:{who.user_id}:{token}")


def _source_of(token: str) -> str | None:
    """The interview's token is SOURCE.RANDOM: nothing is kept in the dashboard process."""
    source, _, rest = token.partition(".")
    return source if source in SOURCES and len(rest) >= 16 else None


class TakeReport:
    def __init__(self, app: Any) -> None:
        self.app = app

    @property
    def intake(self) -> Any:
        return getattr(self.app.d, "intake", None)

    def routes(self) -> list[Route]:
        return [
            Route("/intake", self.start, methods=["GET", "POST"]),
            Route("/intake/{token}", self.step, methods=["GET", "POST"]),
        ]

    async def _who(self, request: Request) -> tuple[Any, Principal | None, Response | None]:
        s, who = await self.app.who(request)
        if who is None:
            return s, None, self.app.login_redirect(s)
        if who.role not in ROLES:
            return (
                s,
                None,
                self.app.page(request, s, "error.html", status=403, message_key="error.role"),
            )
        if self.intake is None:
            return (
                s,
                None,
                self.app.page(request, s, "error.html", status=503, message_key="take.unavailable"),
            )
        return s, who, None

    async def start(self, request: Request) -> Response:
        s, who, refused = await self._who(request)
        if refused is not None or who is None:
            return refused  # type: ignore[return-value]
        if request.method == "GET":
            return self.app.page(
                request, s, "take_start.html", sources=SOURCES, langs=LANGS, problem=None
            )
        data = await self.app.form(request, s)
        if data is None:
            return self.app.refuse_csrf(request, s)
        source, lang = data.get("source", ""), data.get("interview_lang", "")
        problem = None
        if source not in SOURCES:
            problem = "take.pick_source"
        elif lang not in LANGS:
            problem = "take.pick_lang"
        elif data.get("read_aloud") != "yes":
            problem = "take.must_read_aloud"
        if problem:
            return self.app.page(
                request,
                s,
                "take_start.html",
                status=400,
                sources=SOURCES,
                langs=LANGS,
                problem=problem,
            )
        token = f"{source}.{secrets.token_urlsafe(16)}"
        outcome = await run_in_threadpool(
            self.intake.open,
            _src(who, token, source),
            lang,
            {"source": source, "recorded_by": who.name},
        )
        return self._render(request, s, token, source, outcome)

    async def step(self, request: Request) -> Response:
        s, who, refused = await self._who(request)
        if refused is not None or who is None:
            return refused  # type: ignore[return-value]
        token = request.path_params["token"]
        source = _source_of(token)
        if source is None:
            return self.app.page(
                request, s, "error.html", status=404, message_key="take.no_interview"
            )
        src = _src(who, token, source)
        if request.method == "GET":
            outcome = await run_in_threadpool(self.intake.current, src)
            return self._render(request, s, token, source, outcome)
        data = await self.app.form(request, s)
        if data is None:
            return self.app.refuse_csrf(request, s)
        form = await request.form()
        command = data.get("command")
        if command in ("skip", "back"):
            outcome = await run_in_threadpool(self.intake.command, src, command)
        else:
            picked = [v for v in form.getlist("answer") if isinstance(v, str) and v.strip()]
            text = ", ".join(picked) if picked else ""
            if not text.strip():
                outcome = await run_in_threadpool(self.intake.current, src)
                s.flash.append(("warn", "take.empty", {}))
            else:
                outcome = await run_in_threadpool(self.intake.text, src, text)
        return self._render(request, s, token, source, outcome)

    def _render(self, request: Request, s: Any, token: str, source: str, outcome: Any) -> Response:
        replies = list(outcome.replies)
        receipt = next((r for r in replies if r.kind == "receipt"), None)
        if receipt is not None:
            case_ref = str(receipt.extra["case_ref"])
            self._audit(s.principal, case_ref, source)
            return self.app.page(
                request,
                s,
                "take_receipt.html",
                headers=NO_STORE,
                case_ref=case_ref,
                receipt=str(receipt.extra["receipt"]),
                text=receipt.text,
                lang_of=receipt.lang,
                source=source,
            )
        if outcome.finished or not any(r.kind != "info" for r in replies):
            return self.app.page(
                request,
                s,
                "take_done.html",
                headers=NO_STORE,
                said=[r for r in replies],
                source=source,
            )
        question = [r for r in replies if r.kind != "info"][-1]
        info = [r for r in replies if r is not question]
        return self.app.page(
            request,
            s,
            "take_step.html",
            headers=NO_STORE,
            token=token,
            source=source,
            info=info,
            q=question,
        )

    def _audit(self, who: Principal | None, case_ref: str, source: str) -> None:
        if who is None:
            return
        with self.app.d.db.transaction() as session:
            accounts.audit(
                session,
                who.name,
                "case.take_report",
                case_ref,
                "granted",
                self.app.d.now(),
                source=source,
            )
