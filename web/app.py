"""HTTP layer of the dashboard: routes, sessions, CSRF, language, headers. The rules live in
caseworker.dashboard; this module only translates requests and refusals."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import logging
import math
import time
import unicodedata
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from caseworker import Dashboard, Principal, i18n, integrity_text
from caseworker import dashboard as dash
from core import as_utc
from storage import Heartbeat, casework
from storage import identity as identity_store
from web import labels, security, workbench
from web._redis_sessions import RedisSessionStore
from web.health import health_routes
from web.referrals import Referrals
from web.render import FieldRenderer
from web.take_report import TakeReport

__all__ = [
    "HERE",
    "LIVE_SECONDS",
    "WebApp",
    "content_disposition",
    "create_app",
    "csv_cell",
    "safe_name",
]

HERE = Path(__file__).parent
# An open queue page asks every this many seconds whether cases arrived or changed (the
# script only; without it, the page shows what was true when it was loaded).
LIVE_SECONDS = 20.0

log = logging.getLogger(__name__)


class _CompiledTemplates(jinja2.BytecodeCache):
    """The templates' compiled code, kept for the process: every app made in it (a test's,
    one made again after a restart of its store) reuses it instead of compiling each page
    again; jinja compares the source's checksum, so a changed template is compiled anew.
    Only for the dashboard's one environment configuration (see WebApp.__init__)."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATE_CODE = _CompiledTemplates()
_CASE_OPS = (
    frozenset(
        {
            "note",
            "status",
            "priority",
            "action",
            "grant",
            "revoke",
            "release",
            "request_access",
            "share_team",
            "move_team",
            "identity_request",
            "state_response",
        }
    )
    | workbench.CASE_OPS
)


class WebApp:
    def __init__(
        self,
        dashboard: Dashboard,
        secure_cookies: bool = False,
        limiter: security.LoginLimiter | None = None,
        trusted_proxies: tuple[str, ...] = (),
        idle_seconds: float = security.IDLE_SECONDS,
        absolute_seconds: float = security.ABSOLUTE_SECONDS,
        clock: Callable[[], float] = time.time,
        sweep_seconds: float = security.SWEEP_SECONDS,
        session_store_url: str | None = None,
        session_namespace: str = "sanad",
        live_seconds: float = LIVE_SECONDS,
    ) -> None:
        self.d = dashboard
        self.live_seconds = live_seconds  # how often an open queue asks what changed
        from caseworker import AccessDesk

        self.access = AccessDesk(dashboard)
        from caseworker import Workbench

        self.bench = Workbench(dashboard)
        from caseworker import Canned

        self.canned = Canned(dashboard)
        self.trusted_proxies = tuple(trusted_proxies)
        self.sessions: security.SessionStore | RedisSessionStore
        if session_store_url:  # several instances: sealed sessions in Redis
            self.sessions = RedisSessionStore(
                session_store_url,
                clock=clock,
                on_expire=lambda p: self.d.logout(p, reason="expired"),
                idle_seconds=idle_seconds,
                absolute_seconds=absolute_seconds,
                sweep_seconds=sweep_seconds,
                namespace=session_namespace,
            )
        else:
            self.sessions = security.SessionStore(
                clock=clock,
                on_expire=lambda p: self.d.logout(p, reason="expired"),
                idle_seconds=idle_seconds,
                absolute_seconds=absolute_seconds,
                sweep_seconds=sweep_seconds,
            )
        self.login_forms = security.LoginForms(clock)
        self.limiter = limiter or security.LoginLimiter()
        self.secure_cookies = secure_cookies
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            bytecode_cache=_TEMPLATE_CODE,
        )
        self.fields = FieldRenderer()
        from caseworker import rule_for  # issue 18: children (case page)

        self.env.globals["child_rule"] = rule_for
        self.referrals = Referrals(self)  # issue 18: the case page's referrals

    # ------------------------------------------------------------ sessions

    def end_sessions_of(self, username: str, reason: str = "disabled") -> int:
        """End every dashboard session of `username` now (for the account-disable code):
        each unlocked key is dropped and each end audited. The number of sessions ended."""
        ended = self.sessions.end_sessions_of(username)
        for principal in ended:
            self.d.logout(principal, reason=reason)
        return len(ended)

    def sweep(self) -> int:
        """Expired sessions, and sessions of accounts disabled since they logged in (for
        instance by `sanad users disable` in another process): the number ended."""
        ended = self.sessions.sweep()
        for name in {p.name for p in self.sessions.principals() if not self.d.active(p)}:
            ended += self.end_sessions_of(name)
        return ended

    def _session(self, request: Request, touch: bool = True) -> security.WebSession:
        """This request's session, or a visitor who is stored nowhere (no session for
        anonymous requests, finding 15). Runs in a worker thread: it may sweep, audit an
        expiry and asks the database whether the account was disabled. `touch=False`: the
        request is not the caseworker's doing (the live queue polling)."""
        sid = request.cookies.get(security.COOKIE)
        s = self.sessions.get(sid, touch)
        if s is not None and s.principal is not None and not self.d.active(s.principal):
            self.end_sessions_of(s.principal.name)  # disabled: the session ends at once
            s = None
        lang = request.query_params.get("lang")
        if s is None:
            remembered = request.cookies.get(security.LANG_COOKIE)
            s = self.login_forms.visitor(
                request.cookies.get(security.LOGIN_COOKIE),
                lang if lang in i18n.LANGS else remembered if remembered in i18n.LANGS else None,
                self.sessions.now(),
            )
            s.ended = bool(sid)
        elif lang in i18n.LANGS:
            s.lang = lang
        return s

    async def session(self, request: Request) -> security.WebSession:
        return await run_in_threadpool(self._session, request)

    # ------------------------------------------------------------ plumbing

    def lang(self, request: Request, s: security.WebSession) -> str:
        return s.lang or i18n.negotiate(request.headers.get("accept-language"))

    def page(
        self,
        request: Request,
        s: security.WebSession,
        template: str,
        status: int = 200,
        headers: dict[str, str] | None = None,
        **ctx: Any,
    ) -> Response:
        t = i18n.Translator(self.lang(request, s))
        flash, s.flash = list(s.flash), []
        other = "en" if t.lang == "ar" else "ar"
        html = self.env.get_template(template).render(
            t=t,
            lang=t.lang,
            dir=t.dir,
            csrf=s.csrf,
            me=s.principal,
            flash=flash,
            switch_url=f"{request.url.path}?{urlencode({**request.query_params, 'lang': other})}",
            fmt_time=_fmt_time,
            age=lambda d: _age(t, d),
            deadline=lambda d: _deadline(t, d),
            **labels.globals_for(t),
            **ctx,
        )
        response = HTMLResponse(html, status_code=status, headers=headers)
        self.cookie(response, s)
        return response

    def cookie(self, response: Response, s: security.WebSession) -> None:
        flags: dict[str, Any] = {
            "httponly": True,
            "samesite": "strict",
            "secure": self.secure_cookies,
            "path": "/",
        }
        if s.lang:  # kept after logout too: the login page stays in the chosen language
            response.set_cookie(security.LANG_COOKIE, s.lang, max_age=365 * 86400, **flags)
        if s.stored:
            self.sessions.save(s)
            response.set_cookie(security.COOKIE, s.id, **flags)
            return
        assert s.preauth is not None
        response.set_cookie(
            security.LOGIN_COOKIE, s.preauth, max_age=int(self.login_forms.max_age), **flags
        )
        if s.ended:
            response.delete_cookie(security.COOKIE, **flags)

    def redirect(self, s: security.WebSession, url: str) -> Response:
        response = RedirectResponse(url, status_code=303)
        self.cookie(response, s)
        return response

    async def form(self, request: Request, s: security.WebSession) -> dict[str, Any] | None:
        """The posted form, or None when its CSRF token is missing or wrong."""
        form = await request.form()
        data = {k: v for k, v in form.items() if isinstance(v, str)}
        if not security.csrf_ok(s, data.get("csrf")):
            return None
        return data

    async def posted(
        self, request: Request
    ) -> tuple[security.WebSession, Principal, dict[str, Any]] | Response:
        """Every state-changing POST: a logged-in user and a valid CSRF token, or a refusal."""
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        data = await self.form(request, s)
        if data is None:
            return self.refuse_csrf(request, s)
        return s, who, data

    def flash_refused(self, request: Request, s: security.WebSession, exc: dash.Refused) -> None:
        """Say why an action was refused, in the reader's language when the reason is known."""
        t = i18n.Translator(self.lang(request, s))
        key = f"refused.{exc.code}"
        s.flash.append(("error", "case.refused", {"reason": t(key) if t.has(key) else str(exc)}))

    def refuse_csrf(self, request: Request, s: security.WebSession) -> Response:
        return self.page(request, s, "error.html", status=403, message_key="error.csrf")

    async def who(self, request: Request) -> tuple[security.WebSession, Principal | None]:
        s = await self.session(request)
        return s, s.principal

    def client(self, request: Request) -> str:
        """The client's address, through the trusted proxies only (SANAD_TRUSTED_PROXIES)."""
        return security.client_address(
            request.client.host if request.client else None,
            request.headers.get("x-forwarded-for"),
            self.trusted_proxies,
        )

    def login_redirect(self, s: security.WebSession) -> Response:
        """To the login page; saying so when the session this request named has ended."""
        return self.redirect(s, "/login?ended=1" if s.ended else "/login")

    # ------------------------------------------------------------ login

    async def login(self, request: Request) -> Response:
        s = await self.session(request)
        if request.method == "GET":
            if s.principal is not None:
                return self.redirect(s, "/")
            ended = s.ended or request.query_params.get("ended") == "1"
            return self.page(request, s, "login.html", notice="login.expired" if ended else None)
        data = await self.form(request, s)
        if data is None:
            return self.refuse_csrf(request, s)
        name = str(data.get("username", "")).strip()[:64]
        keys = (f"user:{name.lower()}", f"ip:{self.client(request)}")
        wait = self.limiter.wait_all(*keys)
        if wait > 0:  # refused before the slow derivation runs (finding 11)
            seconds = max(1, math.ceil(wait))
            t = i18n.Translator(self.lang(request, s))
            return self.page(
                request,
                s,
                "login.html",
                status=429,
                headers={"Retry-After": str(seconds)},
                error_text=t.count("login.limited", seconds),
            )
        try:  # Argon2id (about 0.8 s) in a worker thread: the loop keeps serving (finding 11)
            principal = await run_in_threadpool(
                self.d.login, name, str(data.get("passphrase", "")), str(data.get("totp", ""))
            )
        except dash.LoginFailed:
            self.limiter.failed(*keys)
            return self.page(request, s, "login.html", status=401, error="login.failed")
        self.limiter.succeeded(keys[0])
        if s.stored:  # logging in again from a live session: that one ends
            self.sessions.drop(s)
        fresh = await run_in_threadpool(self.sessions.new, s.lang, principal)  # may sweep
        return self.redirect(fresh, "/")

    async def logout(self, request: Request) -> Response:
        s, who = await self.who(request)
        data = await self.form(request, s)
        if data is None:
            return self.refuse_csrf(request, s)
        if s.stored:
            self.sessions.drop(s)  # the unlocked key goes first
        if who is not None:
            await run_in_threadpool(self.d.logout, who)
        visitor = self.login_forms.visitor(None, s.lang, self.sessions.now())
        visitor.ended = True  # clears the session cookie
        return self.redirect(visitor, "/login")

    async def home(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        if who.role in dash.CASE_ROLES:
            return self.redirect(s, "/queue")
        if who.role == "custodian":
            return self.redirect(s, "/identity")
        return self.redirect(s, "/audit" if who.role in dash.AUDIT_ROLES else "/stats")

    # ------------------------------------------------------------ queue

    # Pages that decrypt or walk the database (a case, a file, the audit chain, statistics)
    # run in a worker thread, so one slow page does not hold up everyone else's requests.

    async def queue(self, request: Request) -> Response:
        """The queue: search, filters, saved views, sorting and pages (web.workbench)."""
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            parsed = workbench.parse(request.query_params, casework.STATUSES)
        except workbench.BadQuery as exc:
            t = i18n.Translator(self.lang(request, s))
            s.flash.append(("error", "case.refused", {"reason": t(f"refused.{exc.code}")}))
            parsed = workbench.parse({}, casework.STATUSES)
        try:
            found = await run_in_threadpool(self.d.find, who, parsed.query)
            labels_known = await run_in_threadpool(self.d.labels, who)
            assignable = await run_in_threadpool(self.bench.assignable, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        q = parsed.query
        filters: dict[str, Any] = {
            "status": q.status,
            "report_type": q.report_type,
            "priority": q.priority,
            "mine": q.mine,
            "unassigned": q.unassigned,
        }
        return self.page(
            request,
            s,
            "queue.html",
            rows=found.rows,
            found=found,
            filters=filters,
            params=parsed.params,
            view=parsed.view,
            views=workbench.VIEWS,
            channels=workbench.CHANNELS,
            reporter_langs=workbench.REPORTER_LANGS,
            labels_known=labels_known,
            link=lambda **kw: workbench.link(parsed.params, **kw),
            sort_link=lambda col: workbench.sort_link(parsed.params, col),
            page_numbers=workbench.page_numbers(found.page, found.pages),
            assignable=assignable,
            close_reasons=casework.REASONS_FOR_STATUS["closed"],
            here=workbench.link(parsed.params, page=found.page if found.page > 1 else None),
            statuses=casework.STATUSES,
            now=datetime.now(UTC),
            live_every=self.live_seconds,
            changes_url="/queue/changes?"
            + urlencode({**parsed.params, "since": self.d.now().isoformat()}),
        )

    async def queue_changes(self, request: Request) -> Response:
        """GET /queue/changes?since=ISO&<the queue page's parameters>: how many cases of that
        view arrived or changed since the page was made and were not opened since, with the
        sentence to show (the live queue, web/static/app.js). Polling is not activity: the
        session is not kept alive by it, and nothing is stored or audited."""
        s = await run_in_threadpool(self._session, request, False)
        who = s.principal
        if who is None:  # every answer is no-store (_Headers)
            return JSONResponse({"error": "login"}, status_code=401)
        try:
            since = datetime.fromisoformat(request.query_params.get("since", ""))
            if since.tzinfo is None:
                raise ValueError("a time zone is needed")
            parsed = workbench.parse(request.query_params, casework.STATUSES)
        except (ValueError, workbench.BadQuery):
            return JSONResponse({"error": "bad_query"}, status_code=400)
        try:
            n = await run_in_threadpool(self.d.changes, who, parsed.query, since)
        except dash.Forbidden:
            return JSONResponse({"error": "role"}, status_code=403)
        t = i18n.Translator(self.lang(request, s))
        text = (
            ""
            if n == 0
            else labels.counted(t, "queue.live.changed", n)
            if n <= dash.CHANGES_CAP
            else t("queue.live.many", n=labels.digits(dash.CHANGES_CAP, t.lang))
        )
        return JSONResponse({"changed": n, "text": text})

    async def bulk(self, request: Request) -> Response:
        """POST /queue/bulk: assign, unassign, label or close the ticked cases."""
        from caseworker import audit_bulk

        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        refs = [str(v) for v in (await request.form()).getlist("refs")]
        op = str(data.get("op", ""))
        value = str(data.get({"assign": "to", "label": "label", "close": "reason"}.get(op, ""), ""))
        try:
            result = await run_in_threadpool(self.bench.bulk, who, refs, op, value)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
            return self.redirect(s, str(data.get("back", "")) or "/queue")
        await run_in_threadpool(audit_bulk, self.d, who, op, result)
        lang = self.lang(request, s)
        s.flash.append(
            (
                "ok" if not result["refused"] else "warn",
                "bulk.done",
                {
                    "done": labels.digits(len(result["done"]), lang),
                    "refused": labels.digits(len(result["refused"]), lang),
                },
            )
        )
        back = str(data.get("back", ""))
        return self.redirect(s, back if back.startswith("/queue") else "/queue")

    # ------------------------------------------------------------ canned replies (issue 16)

    async def canned_page(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            replies = await run_in_threadpool(self.canned.all, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        return self.page(request, s, "canned.html", replies=replies)

    async def canned_post(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        op = request.path_params["op"]
        try:
            if op == "add":
                await run_in_threadpool(
                    self.canned.add,
                    who,
                    str(data.get("lang", "")),
                    str(data.get("title", "")),
                    str(data.get("body", "")),
                )
            elif op == "remove":
                await run_in_threadpool(
                    self.canned.remove, who, _small_int(str(data.get("id", "")), 1, 10**6) or 0
                )
            else:
                return Response(status_code=404)
            s.flash.append(("ok", "canned.saved", {}))
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
        return self.redirect(s, "/canned")

    async def claim(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        ref = request.path_params["ref"]
        try:
            won = await run_in_threadpool(self.d.claim, who, ref)
        except dash.Refused as exc:  # e.g. held for a caseworker of the gender asked for
            self.flash_refused(request, s, exc)
            return self.redirect(s, "/queue")
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.forbidden")
        s.flash.append(
            (
                "ok" if won else "warn",
                "queue.claimed" if won else "queue.claim_lost",
                {"case_ref": ref.upper()},
            )
        )
        target = f"/cases/{ref.upper()}" if data.get("next") == "case" else "/queue"
        return self.redirect(s, target)

    async def claim_next(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _data = checked
        try:
            ref = await run_in_threadpool(self.d.claim_next, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        if ref is None:
            s.flash.append(("warn", "queue.nothing_to_claim", {}))
            return self.redirect(s, "/queue")
        s.flash.append(("ok", "queue.claimed", {"case_ref": ref}))
        return self.redirect(s, f"/cases/{ref}")

    # ------------------------------------------------------------ the case

    async def case(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        ref = request.path_params["ref"]

        def reads() -> tuple[Any, ...]:  # one worker-thread hop for the page's reads
            view = self.d.open_case(who, ref)
            return (
                view,
                self.d.colleagues(who),
                self.referrals.rows(view.case_ref),
                self.access.case_teams(who, ref),
                self._workbench_of(who, ref),
            )

        try:
            view, colleagues, referral_rows, case_teams, workbench = await run_in_threadpool(reads)
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409, message_key="error.tampered")
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=404, message_key="error.forbidden")
        t = i18n.Translator(self.lang(request, s))
        response = self.page(
            request,
            s,
            "case.html",
            c=view,
            # the identity section's values are in the view only once a custodian approved
            fields=self.fields.rows({**view.fields, **view.identity}, t.lang),
            identity_purposes=identity_store.PURPOSES,
            revealed=s.revealed,
            colleagues=colleagues,
            reasons_for_status=casework.REASONS_FOR_STATUS,
            priority_reasons=casework.PRIORITY_REASONS,
            fields_label=lambda k: self.fields.label(k, t.lang),
            action_kinds=list(casework.ACTION_CONSENT),
            consent_keys=sorted(set(casework.ACTION_CONSENT.values())),
            consented=lambda k: casework.consented_map(view.consent, k),
            integrity=[integrity_text(t, p) for p in view.integrity],
            case_teams=case_teams,
            referrals=referral_rows,
            prefill=_small_int(request.query_params.get("canned"), 1, 10**6),
            **workbench,
        )
        return response

    def _workbench_of(self, who: Principal, ref: str) -> dict[str, Any]:
        """The case page's workbench parts: labels, links both ways, possible duplicates."""
        from caseworker import LINK_KINDS

        return {
            **self.bench.case_extras(who, ref),
            "canned": self.canned.all(who),
            "link_kinds": LINK_KINDS,
            "term_kinds": ("place", "person", "country"),
        }

    async def case_pdf(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        ref = request.path_params["ref"]
        redacted = request.query_params.get("redacted") == "1"
        try:
            view = await run_in_threadpool(
                self.d.open_case, who, ref, "case.export_redacted" if redacted else "case.export"
            )
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409, message_key="error.tampered")
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=404, message_key="error.forbidden")
        from web.pdf import Export, case_pdf

        t = i18n.Translator(self.lang(request, s))
        content = await run_in_threadpool(
            case_pdf,
            view,
            self.fields.rows({**view.fields, **view.identity}, t.lang),
            t,
            Export(who.name, self.d.now(), redacted),
        )
        kind = "-redacted" if redacted else ""
        return Response(
            content,
            media_type="application/pdf",
            headers={
                "Content-Disposition": "attachment; "
                f'filename="case-{view.case_ref}-{t.lang}{kind}.pdf"'
            },
        )

    async def case_post(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        ref = request.path_params["ref"].upper()
        op = request.path_params["op"]
        if op not in _CASE_OPS:
            return self.page(request, s, "error.html", status=404, message_key="error.not_found")
        try:  # database and crypto work in a worker thread (issue 14, item 6)
            back = await run_in_threadpool(self._case_op, request, s, who, ref, op, data)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.forbidden")
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
            back = f"/cases/{ref}"
        return self.redirect(s, back)

    def _case_op(
        self,
        request: Request,
        s: security.WebSession,
        who: Principal,
        ref: str,
        op: str,
        data: dict[str, Any],
    ) -> str:
        """One change to a case (blocking: run it in a thread); the page to go back to."""
        back = f"/cases/{ref}"
        if op in workbench.CASE_OPS:  # labels, links, search words, merge (issue 16)
            return workbench.case_op(self.bench, s.flash, who, ref, op, data)
        if op == "note":
            self.d.add_note(who, ref, str(data.get("text", "")))
            s.flash.append(("ok", "case.note_saved", {}))
        elif op == "status":
            self.d.change_status(who, ref, str(data.get("to", "")), str(data.get("reason", "")))
            s.flash.append(("ok", "case.status_saved", {}))
        elif op == "priority":
            value = _small_int(str(data.get("priority", "")), 1, 9)
            self.d.override_priority(who, ref, value or 0, str(data.get("reason", "")))
            s.flash.append(("ok", "case.priority_saved", {}))
        elif op == "action":
            days = str(data.get("days", "")).strip()
            if days and _small_int(days, 1, casework.INTERIM_MAX_DAYS) is None:
                raise dash.Refused("the deadline is 1 to 90 days", "bad_days")
            result = self.d.act(
                who,
                ref,
                str(data.get("kind", "")),
                str(data.get("target", "")).strip()[:200] or None,
                str(data.get("message", "")),
                _small_int(days, 1, casework.INTERIM_MAX_DAYS),
            )
            if result.done:
                s.flash.append(("ok", "case.action_done", {}))
            else:
                s.flash.append(
                    (
                        "error",
                        "case.action_refused",
                        {"consent": self.fields.label(result.consent_key, self.lang(request, s))},
                    )
                )
        elif op == "grant":
            self.d.grant(who, ref, str(data.get("colleague", "")))
            s.flash.append(("ok", "case.granted", {}))
        elif op == "revoke":
            self.d.revoke(who, ref, str(data.get("colleague", "")))
            s.flash.append(("ok", "case.revoked", {}))
        elif op == "state_response":
            self.d.state_response(who, ref, str(data.get("step", "")), str(data.get("answer", "")))
            s.flash.append(("ok", "case.state_response_saved", {}))
        elif op == "identity_request":
            self.d.identity_request(who, ref, str(data.get("purpose", "")))
            s.flash.append(("ok", "identity.requested", {}))
            back = f"/cases/{ref}#identity"
        elif op == "request_access":
            self.access.request(who, ref, str(data.get("reason", "")))
            s.flash.append(("ok", "access.requested", {"case_ref": ref}))
            back = "/access"
        elif op in ("share_team", "move_team"):
            self.access.share(who, ref, str(data.get("team", "")), op == "move_team")
            s.flash.append(
                ("ok", "case.team_" + op.split("_")[0], {"team": str(data.get("team", ""))})
            )
        elif op == "release":
            self.d.release(who, ref, str(data.get("to", "")).strip() or None)
            s.flash.append(("ok", "case.released", {}))
            back = "/queue"
        return back

    async def reveal(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _data = checked
        ref, att = request.path_params["ref"].upper(), request.path_params["att"]
        try:
            await run_in_threadpool(self.d.attachment, who, ref, att, True)
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409, message_key="error.tampered")
        except (dash.Forbidden, dash.Refused):
            return self.page(request, s, "error.html", status=404, message_key="error.forbidden")
        s.revealed.add(att)
        return self.redirect(s, f"/cases/{ref}#file-{att}")

    async def file(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        ref, att = request.path_params["ref"].upper(), request.path_params["att"]
        if att not in s.revealed:  # only after the audited choice to see it
            return self.page(request, s, "error.html", status=403, message_key="error.forbidden")
        try:
            content, ctype, name = await run_in_threadpool(self.d.attachment, who, ref, att)
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409, message_key="error.tampered")
        except (dash.Forbidden, dash.Refused):
            return self.page(request, s, "error.html", status=404, message_key="error.forbidden")
        inline = ctype in dash.INLINE_TYPES and request.query_params.get("download") != "1"
        return Response(
            content,
            media_type=ctype if inline else "application/octet-stream",
            headers={
                "Content-Disposition": content_disposition(
                    "inline" if inline else "attachment", name
                ),
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    # ------------------------------------------------------------ access requests, accounts

    async def access_page(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        if who.role not in dash.CASE_ROLES:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        mine = await run_in_threadpool(self.access.mine, who)
        pending = await run_in_threadpool(self.access.to_decide, who)
        ask = str(request.query_params.get("case", "")).strip().upper()[:16]
        return self.page(request, s, "access.html", mine=mine, pending=pending, ask=ask)

    async def access_decide(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _data = checked
        if request.path_params["verdict"] not in ("approve", "refuse"):
            return self.page(request, s, "error.html", status=404, message_key="error.not_found")
        approve = request.path_params["verdict"] == "approve"
        try:
            ref = await run_in_threadpool(
                self.access.decide, who, request.path_params["rid"], approve
            )
            s.flash.append(
                ("ok", "access.approved" if approve else "access.refused", {"case_ref": ref})
            )
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
        return self.redirect(s, "/access")

    async def users_page(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            rows = await run_in_threadpool(self.access.users, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        return self.page(request, s, "users.html", users=rows)

    async def user_disable(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _data = checked
        name = request.path_params["name"]
        try:
            done = await run_in_threadpool(self.access.disable, who, name)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
            return self.redirect(s, "/admin/users")
        await run_in_threadpool(self.end_sessions_of, name)  # their sessions end now
        s.flash.append(("ok", "users.disabled", {"name": name, "keys": str(done.keys_deleted)}))
        if done.recovery_only:
            s.flash.append(
                ("warn", "users.recovery_only", {"cases": ", ".join(done.recovery_only)})
            )
        return self.redirect(s, "/admin/users")

    async def passphrase_page(self, request: Request) -> Response:
        """Change one's own passphrase (every role)."""
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        if request.method == "GET":
            return self.page(request, s, "passphrase.html")
        data = await self.form(request, s)
        if data is None:
            return self.refuse_csrf(request, s)
        new = str(data.get("new", ""))
        t = i18n.Translator(self.lang(request, s))
        if new != str(data.get("repeat", "")):
            s.flash.append(("error", "case.refused", {"reason": t("refused.repeat_differs")}))
            return self.redirect(s, "/account/passphrase")
        try:
            await run_in_threadpool(
                self.access.change_passphrase, who, str(data.get("current", "")), new
            )
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
            return self.redirect(s, "/account/passphrase")
        s.flash.append(("ok", "passphrase.changed", {}))
        return self.redirect(s, "/")

    async def user_reset_totp(self, request: Request) -> Response:
        """An administrator resets NAME's second factor: the new secret is shown once, the
        person's open sessions end, and they enrol it at their next login."""
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _data = checked
        name = request.path_params["name"]
        try:
            secret = await run_in_threadpool(self.access.reset_totp, who, name)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
            return self.redirect(s, "/admin/users")
        await run_in_threadpool(self.end_sessions_of, name, "totp_reset")
        return self.page(
            request,
            s,
            "totp_reset.html",
            name=name,
            secret=secret,
            uri=dash.totp_uri(secret, name),
            headers={"Cache-Control": "no-store"},
        )

    # ------------------------------------------------------------ protected identity

    async def identity(self, request: Request) -> Response:
        """The custodian's page: requests waiting for a decision (never report content)."""
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            pending = await run_in_threadpool(self.d.identity_pending, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        return self.page(
            request, s, "identity.html", pending=pending, reasons=identity_store.REFUSAL_REASONS
        )

    async def identity_post(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        op, request_id = request.path_params["op"], request.path_params["id"]
        if op not in ("approve", "refuse"):
            return self.page(request, s, "error.html", status=404, message_key="error.not_found")
        try:
            done = await run_in_threadpool(
                self.d.identity_decide,
                who,
                request_id,
                op == "approve",
                str(data.get("reason", "")),
            )
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        except dash.Refused as exc:
            self.flash_refused(request, s, exc)
            return self.redirect(s, "/identity")
        s.flash.append(
            (
                "ok",
                "identity.approved" if op == "approve" else "identity.refused",
                {"requester": done["requester"], "case_ref": done["case_ref"] or ""},
            )
        )
        return self.redirect(s, "/identity")

    # ------------------------------------------------------------ audit and statistics

    async def audit(self, request: Request) -> Response:
        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            verification = await run_in_threadpool(self.d.verify_audit, who)
            entries = await run_in_threadpool(self.d.audit_entries, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        return self.page(request, s, "audit.html", entries=entries, verification=verification)

    async def stats(self, request: Request) -> Response:
        """GET /stats[?from=YYYY-MM&to=YYYY-MM][&format=csv]: web.stats_view, a range of the
        canonical release (caseworker.release)."""
        from web import stats_view

        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        params = request.query_params
        t = i18n.Translator(self.lang(request, s))
        try:
            first, last = stats_view.parse_range(params.get("from"), params.get("to"))
        except stats_view.RangeError as exc:
            return self.page(request, s, "error.html", status=400, message_key=exc.code)
        try:
            table = await run_in_threadpool(self.d.statistics, who, first, last)
            months = await run_in_threadpool(self.d.stats_months, who)
            counted = await run_in_threadpool(self.d.stats_counted, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        if params.get("format") == "csv":
            return _csv_response(table)
        for row in table:
            row["label"] = stats_view.label(row, t, self.fields)
        one_way = [r for r in table if " × " not in r["dimension"]]
        cross = []
        for dim in stats_view.CROSS_TABLES:
            rows, cols, cells = stats_view.cross_rows(table, dim, t, self.fields)
            if cells:
                cross.append(
                    {
                        "dim": dim,
                        "title": stats_view.dimension_label(dim, t),
                        "rows": rows,
                        "cols": cols,
                        "cells": cells,
                        "src": "/stats/cross/" + dim.replace(" × ", "/") + ".svg",
                    }
                )
        query = urlencode({k: v for k, v in (("from", first), ("to", last)) if v})
        return self.page(
            request,
            s,
            "stats.html",
            table=one_way,
            cross=cross,
            months=months,
            first=first or "",
            last=last or "",
            counted_at=stats_view.local_digits(
                counted["at"].strftime("%Y-%m-%d %H:%M UTC"), t.lang
            ),
            updating=counted["updating"],
            query=("&" + query) if query else "",
            digits=lambda text: stats_view.local_digits(str(text), t.lang),
        )

    async def stats_chart(self, request: Request) -> Response:
        """One dimension (or, under /stats/cross/A/B.svg, a cross-table) of the statistics
        for the chosen range as an SVG chart (an image: no script can run)."""
        from caseworker import bar_chart, cross_chart
        from web import stats_view

        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            first, last = stats_view.parse_range(
                request.query_params.get("from"), request.query_params.get("to")
            )
            table = await run_in_threadpool(self.d.statistics, who, first, last)
        except stats_view.RangeError:
            return Response(status_code=400)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        t = i18n.Translator(self.lang(request, s))
        params = request.path_params
        dim = f"{params['a']} × {params['b']}" if "a" in params else params["dim"]
        title = stats_view.dimension_label(dim, t)
        if " × " in dim:
            rows_, cols, cells = stats_view.cross_rows(table, dim, t, self.fields)
            if not cells:
                return Response(status_code=404)
            svg = cross_chart(
                title,
                rows_,
                cols,
                cells,
                t("stats.suppressed"),
                lambda text: stats_view.local_digits(text, t.lang),
                (lambda n: t("stats.below", n=stats_view.local_digits(n, "ar")))
                if t.lang == "ar"
                else None,
            )
        else:
            rows = [
                {"label": stats_view.label(row, t, self.fields), "count": row["count"]}
                for row in table
                if row["dimension"] == dim
            ]
            if not rows:
                return Response(status_code=404)
            svg = bar_chart(title, rows, t("stats.suppressed"))
        return Response(
            svg,
            media_type="image/svg+xml",
            headers={"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'"},
        )

    # ------------------------------------------------------------ the periodic report

    async def periodic_report(self, request: Request) -> Response:
        """GET /reports/periodic?from=YYYY-MM-DD&to=YYYY-MM-DD[&format=csv|pdf]: the annual
        (or periodic) report of caseworker.reports, for supervisors, auditors and admins."""
        from caseworker import reports

        s, who = await self.who(request)
        if who is None:
            return self.login_redirect(s)
        if who.role not in reports.REPORT_ROLES:
            try:
                await run_in_threadpool(
                    self.d._require, who, reports.REPORT_ROLES, "report.periodic"
                )
            except dash.Forbidden:
                return self.page(request, s, "error.html", status=403, message_key="error.role")
        params = request.query_params
        start, end = params.get("from", ""), params.get("to", "")
        ctx: dict[str, Any] = {
            "start": start,
            "end": end,
            "tables": [],
            "error": None,
            "threshold": self.d.stats_threshold,
            "exports": who.role == "supervisor",
        }
        if not start and not end:
            return self.page(request, s, "report.html", **ctx)
        try:
            first, last = reports.parse_period(start, end)
        except reports.PeriodError as exc:
            return self.page(
                request, s, "report.html", status=400, **{**ctx, "error": f"refused.{exc.code}"}
            )
        report = await run_in_threadpool(
            reports.periodic_report,
            self.d.db,
            who.name,
            who.role,
            first,
            last,
            self.d.now(),
            self.d.stats_threshold,
            snapshot=self.d.stats_snapshot,
        )  # the statistics page's release: the same figures
        name = f"sanad-report-{report.first_month}-{report.last_month}"
        t = i18n.Translator(self.lang(request, s))
        if params.get("format") == "csv":
            return Response(
                reports.report_csv(report),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
            )
        from web.periodic_pdf import labelled, local_digits, report_pdf

        if params.get("format") == "pdf":
            content = await run_in_threadpool(report_pdf, report, t, self.d.now())
            return Response(
                content,
                media_type="application/pdf",
                headers={"Content-Disposition": f'attachment; filename="{name}-{t.lang}.pdf"'},
            )
        period = local_digits(
            t("report.period", first=report.first_month, last=report.last_month), t.lang
        )
        return self.page(
            request,
            s,
            "report.html",
            **{
                **ctx,
                "tables": labelled(report, t, self.fields),
                "period": period,
                "query": urlencode({"from": first.isoformat(), "to": last.isoformat()}),
            },
        )

    async def export(self, request: Request) -> Response:
        """POST /reports/export/{uwazi|openevsys}: a supervisor's consent-gated export,
        streamed as the response and never written on the server (caseworker.exports)."""
        from caseworker import exports

        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _ = checked
        kind = request.path_params["kind"]
        if kind not in exports.EXPORT_KINDS:
            return Response(status_code=404)
        exporter = exports.Exporter(who.name, who.role, who.key_id, who.private_key)
        try:
            result = await run_in_threadpool(
                exports.export_cases, self.d.db, exporter, kind, None, None, self.d.now()
            )
        except PermissionError:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        ext = "csv" if kind == "uwazi" else "json"
        return Response(
            result.data,
            media_type=result.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="sanad-{kind}.{ext}"',
                "X-Sanad-Exported": str(result.exported),
                "X-Sanad-Skipped": str(result.skipped_no_access),
                "X-Sanad-Refused": str(result.refused_tampered),
            },
        )

    # ------------------------------------------------------------ the app

    def build(self) -> Starlette:
        routes = [
            Route("/", self.home),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/queue", self.queue),
            Route("/queue/changes", self.queue_changes),
            Route("/queue/claim-next", self.claim_next, methods=["POST"]),
            Route("/queue/bulk", self.bulk, methods=["POST"]),
            Route("/canned", self.canned_page),
            Route("/canned/{op}", self.canned_post, methods=["POST"]),
            Route("/cases/{ref}", self.case),
            Route("/cases/{ref}/claim", self.claim, methods=["POST"]),
            Route("/cases/{ref}/pdf", self.case_pdf),
            Route("/cases/{ref}/files/{att}/reveal", self.reveal, methods=["POST"]),
            Route("/cases/{ref}/files/{att}", self.file),
            *self.referrals.routes(),  # before /cases/{ref}/{op} (web/referrals.py)
            Route("/cases/{ref}/{op}", self.case_post, methods=["POST"]),
            Route("/access", self.access_page),
            Route("/access/{rid}/{verdict:str}", self.access_decide, methods=["POST"]),
            Route("/admin/users", self.users_page),
            Route("/admin/users/{name}/disable", self.user_disable, methods=["POST"]),
            Route("/admin/users/{name}/reset-totp", self.user_reset_totp, methods=["POST"]),
            Route("/account/passphrase", self.passphrase_page, methods=["GET", "POST"]),
            Route("/identity", self.identity),
            Route("/identity/{id}/{op}", self.identity_post, methods=["POST"]),
            Route("/audit", self.audit),
            Route("/stats", self.stats),
            Route("/stats/chart/{dim}.svg", self.stats_chart),
            Route("/stats/cross/{a}/{b}.svg", self.stats_chart),
            Route("/reports/periodic", self.periodic_report),
            Route("/reports/export/{kind}", self.export, methods=["POST"]),
            *TakeReport(self).routes(),  # reports taken by caseworkers (web/take_report.py)
            *health_routes(self.d.db),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        app = Starlette(routes=routes, lifespan=self._lifespan)
        return _Headers(app)  # type: ignore[return-value]

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        """Sweep sessions every `sweep_seconds` even when no request comes (finding 15)."""

        async def sweeper() -> None:
            while True:
                await asyncio.sleep(self.sessions.sweep_seconds)
                try:
                    await run_in_threadpool(self.sweep)
                except Exception:  # a database outage must not end the sweeping for good
                    log.exception("session sweep failed; trying again at the next interval")

        task = asyncio.create_task(sweeper())
        beat = Heartbeat(self.d.db, "dashboard").start()  # `sanad status` sees it alive
        try:
            yield
        finally:
            task.cancel()
            await run_in_threadpool(beat.stop)


class _Headers:
    """Security headers on every response; no caching of anything but static files."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = scope.get("path", "").startswith("/static/")

        async def wrapped(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() != b"content-security-policy" or static is False
                ]
                names = {k.lower() for k, _ in headers}
                extra = [
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                    (b"cross-origin-opener-policy", b"same-origin"),
                    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
                ]
                if b"content-security-policy" not in names:
                    extra.append((b"content-security-policy", security.CSP.encode()))
                if not static:
                    extra.append((b"cache-control", b"no-store"))
                    extra.append((b"pragma", b"no-cache"))
                message = {**message, "headers": headers + extra}
            await send(message)

        await self.app(scope, receive, wrapped)


def _small_int(raw: str | None, low: int, high: int) -> int | None:
    """A whole number in [low, high] typed in ASCII or Arabic-Indic digits; None for anything
    else (`²`, `1e9`, 22 digits), so an odd value is refused instead of raising (finding 21)."""
    text = (raw or "").strip()
    if not text or len(text) > 6 or not text.isdecimal():
        return None
    value = int(text)
    return value if low <= value <= high else None


def _fmt_time(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _deadline(t: i18n.Translator, deadline: datetime) -> dict[str, str]:
    """A deadline's state (overdue | soon | later, for the CSS class) and a sentence saying
    how long until, or since, it."""
    now = datetime.now(UTC)
    state = dash.deadline_state(deadline, now)
    deadline = as_utc(deadline)
    span = _span(t, abs(int((deadline - now).total_seconds() // 60)))
    return {"state": state, "text": t(f"deadline.{state}", span=span)}


def _age(t: i18n.Translator, received: datetime) -> str:
    return _span(t, max(0, int((datetime.now(UTC) - received).total_seconds() // 60)))


def _span(t: i18n.Translator, minutes: int) -> str:
    # in the reader's digits: "٣ أيام" in Arabic (issue 16), the plural form as before
    if minutes < 60:
        return labels.counted(t, "age.minutes", minutes)
    if minutes < 48 * 60:
        return labels.counted(t, "age.hours", minutes // 60)
    return labels.counted(t, "age.days", minutes // 1440)


def safe_name(name: str) -> str:
    """An ASCII file name for the `filename=` parameter (HTTP headers are Latin-1): letters,
    digits and `._-` only, never starting with a dot."""

    def keep(text: str) -> str:
        return "".join(ch for ch in text if (ch.isascii() and ch.isalnum()) or ch in "_-")

    stem, dot, ext = name.rpartition(".")
    stem, ext = (keep(stem), keep(ext)[:10]) if dot else (keep(name), "")
    if not any(ch.isalnum() for ch in stem):
        stem = "file"
    return stem[:80] + (f".{ext}" if ext else "")


def content_disposition(kind: str, name: str) -> str:
    """`inline`/`attachment` with an ASCII fallback name and the real (e.g. Arabic) name in
    RFC 5987 form, `filename*=UTF-8''...`: bidi and other control characters dropped."""
    clean = (
        "".join(ch for ch in name if unicodedata.category(ch)[0] != "C" and ch not in '/\\"').strip(
            ". "
        )[:120]
        or "file"
    )
    return f"{kind}; filename=\"{safe_name(name)}\"; filename*=UTF-8''{quote(clean, safe='')}"


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "|", "%")


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix with a quote)."""
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _csv_response(table: list[dict[str, Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["dimension", "value", "count"])
    for row in table:
        writer.writerow(
            [csv_cell(row["dimension"]), csv_cell(row["value"]), csv_cell(row["count"])]
        )
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="sanad-stats.csv"'},
    )


def create_app(
    dashboard: Dashboard,
    secure_cookies: bool = False,
    limiter: security.LoginLimiter | None = None,
    trusted_proxies: tuple[str, ...] = (),
    idle_seconds: float = security.IDLE_SECONDS,
    absolute_seconds: float = security.ABSOLUTE_SECONDS,
    session_store_url: str | None = None,
    live_seconds: float = LIVE_SECONDS,
) -> Any:
    return WebApp(
        dashboard,
        secure_cookies,
        limiter,
        trusted_proxies,
        idle_seconds,
        absolute_seconds,
        session_store_url=session_store_url,
        live_seconds=live_seconds,
    ).build()
