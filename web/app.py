"""HTTP layer of the dashboard: routes, sessions, CSRF, language, headers. The rules live in
caseworker.dashboard; this module only translates requests and refusals."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import unicodedata
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from caseworker import dashboard as dash
from caseworker.cases import integrity_text
from caseworker.dashboard import Dashboard, Principal
from storage import casework
from storage import identity as identity_store
from web import i18n, security
from web.render import FieldRenderer

HERE = Path(__file__).parent


class WebApp:
    def __init__(self, dashboard: Dashboard, secure_cookies: bool = False,
                 limiter: security.LoginLimiter | None = None,
                 trusted_proxies: tuple[str, ...] = ()) -> None:
        self.d = dashboard
        self.trusted_proxies = tuple(trusted_proxies)
        self.sessions = security.SessionStore(
            on_expire=lambda p: self.d.logout(p, reason="expired"))
        self.limiter = limiter or security.LoginLimiter()
        self.secure_cookies = secure_cookies
        self.env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                      autoescape=True, undefined=jinja2.StrictUndefined)
        self.fields = FieldRenderer()

    # ------------------------------------------------------------ plumbing

    def session(self, request: Request) -> tuple[security.WebSession, bool]:
        s = self.sessions.get(request.cookies.get(security.COOKIE))
        fresh = s is None
        if s is None:
            s = self.sessions.new()
        lang = request.query_params.get("lang")
        if lang in i18n.LANGS:
            s.lang = lang
        return s, fresh

    def lang(self, request: Request, s: security.WebSession) -> str:
        return s.lang or i18n.negotiate(request.headers.get("accept-language"))

    def page(self, request: Request, s: security.WebSession, template: str,
             status: int = 200, **ctx: Any) -> Response:
        t = i18n.Translator(self.lang(request, s))
        flash, s.flash = list(s.flash), []
        other = "en" if t.lang == "ar" else "ar"
        html = self.env.get_template(template).render(
            t=t, lang=t.lang, dir=t.dir, csrf=s.csrf, me=s.principal, flash=flash,
            switch_url=f"{request.url.path}?{urlencode({**request.query_params, 'lang': other})}",
            fmt_time=_fmt_time, age=lambda d: _age(t, d),
            deadline=lambda d: _deadline(t, d), **ctx)
        response = HTMLResponse(html, status_code=status)
        self.cookie(response, s)
        return response

    def cookie(self, response: Response, s: security.WebSession) -> None:
        response.set_cookie(security.COOKIE, s.id, httponly=True, samesite="strict",
                            secure=self.secure_cookies, path="/")

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

    async def posted(self, request: Request) -> tuple[security.WebSession, Principal,
                                                      dict[str, Any]] | Response:
        """Every state-changing POST: a logged-in user and a valid CSRF token, or a refusal."""
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        data = await self.form(request, s)
        if data is None:
            return self.refuse_csrf(request, s)
        return s, who, data

    def refuse_csrf(self, request: Request, s: security.WebSession) -> Response:
        return self.page(request, s, "error.html", status=403, message_key="error.csrf")

    def who(self, request: Request) -> tuple[security.WebSession, Principal | None]:
        s, _ = self.session(request)
        return s, s.principal

    def client(self, request: Request) -> str:
        """The client's address, through the trusted proxies only (SANAD_TRUSTED_PROXIES)."""
        return security.client_address(request.client.host if request.client else None,
                                       request.headers.get("x-forwarded-for"),
                                       self.trusted_proxies)

    def login_redirect(self, s: security.WebSession) -> Response:
        return self.redirect(s, "/login")

    # ------------------------------------------------------------ login

    async def login(self, request: Request) -> Response:
        s, _ = self.session(request)
        if request.method == "GET":
            if s.principal is not None:
                return self.redirect(s, "/")
            return self.page(request, s, "login.html")
        data = await self.form(request, s)
        if data is None:
            return self.refuse_csrf(request, s)
        name = str(data.get("username", "")).strip()[:64]
        keys = (f"user:{name.lower()}", f"ip:{self.client(request)}")
        if not self.limiter.allowed(*keys):
            return self.page(request, s, "login.html", status=429, error="login.limited")
        try:  # Argon2id (about 0.8 s) in a worker thread: the loop keeps serving (finding 11)
            principal = await run_in_threadpool(
                self.d.login, name, str(data.get("passphrase", "")), str(data.get("totp", "")))
        except dash.LoginFailed:
            self.limiter.failed(*keys)
            return self.page(request, s, "login.html", status=401, error="login.failed")
        self.limiter.succeeded(keys[0])
        s = self.sessions.rotate(s)
        s.principal = principal
        return self.redirect(s, "/")

    async def logout(self, request: Request) -> Response:
        s, who = self.who(request)
        data = await self.form(request, s)
        if data is None:
            return self.refuse_csrf(request, s)
        if who is not None:
            self.d.logout(who)
        lang = s.lang
        self.sessions.drop(s)
        fresh = self.sessions.new(lang)
        return self.redirect(fresh, "/login")

    async def home(self, request: Request) -> Response:
        s, who = self.who(request)
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
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        q = request.query_params
        filters: dict[str, Any] = {
            "status": q.get("status") or None, "report_type": q.get("type") or None,
            "priority": _small_int(q.get("priority"), 1, 9),
            "mine": q.get("mine") == "1", "unassigned": q.get("unassigned") == "1"}
        try:
            rows = await run_in_threadpool(
                self.d.queue, who, status=filters["status"],
                report_type=filters["report_type"], priority=filters["priority"],
                mine=filters["mine"], unassigned=filters["unassigned"])
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        return self.page(request, s, "queue.html", rows=rows, filters=filters,
                         statuses=casework.STATUSES, now=datetime.now(UTC))

    async def claim(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        ref = request.path_params["ref"]
        try:
            won = self.d.claim(who, ref)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.forbidden")
        s.flash.append(("ok" if won else "warn", "queue.claimed" if won else "queue.claim_lost",
                        {"case_ref": ref.upper()}))
        target = f"/cases/{ref.upper()}" if data.get("next") == "case" else "/queue"
        return self.redirect(s, target)

    async def claim_next(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _data = checked
        try:
            ref = self.d.claim_next(who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        if ref is None:
            s.flash.append(("warn", "queue.nothing_to_claim", {}))
            return self.redirect(s, "/queue")
        s.flash.append(("ok", "queue.claimed", {"case_ref": ref}))
        return self.redirect(s, f"/cases/{ref}")

    # ------------------------------------------------------------ the case

    async def case(self, request: Request) -> Response:
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        ref = request.path_params["ref"]
        try:
            view = await run_in_threadpool(self.d.open_case, who, ref)
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409,
                             message_key="error.tampered")
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=404,
                             message_key="error.forbidden")
        t = i18n.Translator(self.lang(request, s))
        response = self.page(
            request, s, "case.html", c=view,
            # the identity section's values are in the view only once a custodian approved
            fields=self.fields.rows({**view.fields, **view.identity}, t.lang),
            identity_purposes=identity_store.PURPOSES,
            revealed=s.revealed, colleagues=self.d.colleagues(who),
            status_reasons=casework.STATUS_REASONS, priority_reasons=casework.PRIORITY_REASONS,
            fields_label=lambda k: self.fields.label(k, t.lang),
            action_kinds=list(casework.ACTION_CONSENT),
            consent_keys=sorted(set(casework.ACTION_CONSENT.values())),
            consented=lambda k: casework.consented_map(view.consent, k),
            integrity=[integrity_text(t, p) for p in view.integrity])
        return response

    async def case_pdf(self, request: Request) -> Response:
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        ref = request.path_params["ref"]
        try:
            view = await run_in_threadpool(self.d.open_case, who, ref, "case.export")
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409,
                             message_key="error.tampered")
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=404,
                             message_key="error.forbidden")
        from web.pdf import case_pdf

        t = i18n.Translator(self.lang(request, s))
        content = case_pdf(view, self.fields.rows({**view.fields, **view.identity}, t.lang), t)
        return Response(content, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="case-{view.case_ref}-{t.lang}.pdf"'})

    async def case_post(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        ref = request.path_params["ref"].upper()
        op = request.path_params["op"]
        back = f"/cases/{ref}"
        try:
            if op == "note":
                self.d.add_note(who, ref, str(data.get("text", "")))
                s.flash.append(("ok", "case.note_saved", {}))
            elif op == "status":
                self.d.change_status(who, ref, str(data.get("to", "")),
                                     str(data.get("reason", "")))
                s.flash.append(("ok", "case.status_saved", {}))
            elif op == "priority":
                value = _small_int(str(data.get("priority", "")), 1, 9)
                self.d.override_priority(who, ref, value or 0, str(data.get("reason", "")))
                s.flash.append(("ok", "case.priority_saved", {}))
            elif op == "action":
                days = str(data.get("days", "")).strip()
                if days and _small_int(days, 1, casework.INTERIM_MAX_DAYS) is None:
                    raise dash.Refused("the deadline is 1 to 90 days", "bad_days")
                result = self.d.act(who, ref, str(data.get("kind", "")),
                                    str(data.get("target", "")).strip()[:200] or None,
                                    str(data.get("message", "")),
                                    _small_int(days, 1, casework.INTERIM_MAX_DAYS))
                if result.done:
                    s.flash.append(("ok", "case.action_done", {}))
                else:
                    s.flash.append(("error", "case.action_refused",
                                    {"consent": self.fields.label(result.consent_key,
                                                                  self.lang(request, s))}))
            elif op == "grant":
                self.d.grant(who, ref, str(data.get("colleague", "")))
                s.flash.append(("ok", "case.granted", {}))
            elif op == "revoke":
                self.d.revoke(who, ref, str(data.get("colleague", "")))
                s.flash.append(("ok", "case.revoked", {}))
            elif op == "identity_request":
                self.d.identity_request(who, ref, str(data.get("purpose", "")))
                s.flash.append(("ok", "identity.requested", {}))
                back = f"/cases/{ref}#identity"
            elif op == "release":
                self.d.release(who, ref, str(data.get("to", "")).strip() or None)
                s.flash.append(("ok", "case.released", {}))
                back = "/queue"
            else:
                return self.page(request, s, "error.html", status=404,
                                 message_key="error.not_found")
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.forbidden")
        except dash.Refused as exc:
            t = i18n.Translator(self.lang(request, s))
            key = f"refused.{exc.code}"
            s.flash.append(("error", "case.refused",
                            {"reason": t(key) if t.has(key) else str(exc)}))
        return self.redirect(s, back)

    async def reveal(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, _data = checked
        ref, att = request.path_params["ref"].upper(), request.path_params["att"]
        try:
            await run_in_threadpool(self.d.attachment, who, ref, att, True)
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409,
                             message_key="error.tampered")
        except (dash.Forbidden, dash.Refused):
            return self.page(request, s, "error.html", status=404,
                             message_key="error.forbidden")
        s.revealed.add(att)
        return self.redirect(s, f"/cases/{ref}#file-{att}")

    async def file(self, request: Request) -> Response:
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        ref, att = request.path_params["ref"].upper(), request.path_params["att"]
        if att not in s.revealed:  # only after the audited choice to see it
            return self.page(request, s, "error.html", status=403,
                             message_key="error.forbidden")
        try:
            content, ctype, name = await run_in_threadpool(self.d.attachment, who, ref, att)
        except dash.Tampered:
            return self.page(request, s, "error.html", status=409,
                             message_key="error.tampered")
        except (dash.Forbidden, dash.Refused):
            return self.page(request, s, "error.html", status=404,
                             message_key="error.forbidden")
        inline = ctype in dash.INLINE_TYPES and request.query_params.get("download") != "1"
        return Response(content, media_type=ctype if inline else "application/octet-stream",
                        headers={"Content-Disposition":
                                 content_disposition("inline" if inline else "attachment",
                                                     name),
                                 "Content-Security-Policy": "default-src 'none'; sandbox"})

    # ------------------------------------------------------------ protected identity

    async def identity(self, request: Request) -> Response:
        """The custodian's page: requests waiting for a decision (never report content)."""
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            pending = await run_in_threadpool(self.d.identity_pending, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        return self.page(request, s, "identity.html", pending=pending,
                         reasons=identity_store.REFUSAL_REASONS)

    async def identity_post(self, request: Request) -> Response:
        checked = await self.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        op, request_id = request.path_params["op"], request.path_params["id"]
        if op not in ("approve", "refuse"):
            return self.page(request, s, "error.html", status=404,
                             message_key="error.not_found")
        try:
            done = await run_in_threadpool(self.d.identity_decide, who, request_id,
                                           op == "approve", str(data.get("reason", "")))
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        except dash.Refused as exc:
            t = i18n.Translator(self.lang(request, s))
            key = f"refused.{exc.code}"
            s.flash.append(("error", "case.refused",
                            {"reason": t(key) if t.has(key) else str(exc)}))
            return self.redirect(s, "/identity")
        s.flash.append(("ok", "identity.approved" if op == "approve" else "identity.refused",
                        {"requester": done["requester"], "case_ref": done["case_ref"] or ""}))
        return self.redirect(s, "/identity")

    # ------------------------------------------------------------ audit and statistics

    async def audit(self, request: Request) -> Response:
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            verification = await run_in_threadpool(self.d.verify_audit, who)
            entries = await run_in_threadpool(self.d.audit_entries, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        return self.page(request, s, "audit.html", entries=entries, verification=verification)

    async def stats(self, request: Request) -> Response:
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            table = await run_in_threadpool(self.d.statistics, who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        if request.query_params.get("format") == "csv":
            return _csv_response(table)
        t = i18n.Translator(self.lang(request, s))
        for row in table:
            key = row["label_key"]
            if key and key.startswith("opt."):
                row["label"] = self.fields.option(row["value"], t.lang) or row["value"]
            else:
                row["label"] = t(key) if key and t.has(key) else row["value"]
        return self.page(request, s, "stats.html", table=table)

    async def stats_chart(self, request: Request) -> Response:
        """One dimension of the statistics as an SVG chart (an image: no script can run)."""
        from caseworker.charts import bar_chart
        s, who = self.who(request)
        if who is None:
            return self.login_redirect(s)
        try:
            table = self.d.statistics(who)
        except dash.Forbidden:
            return self.page(request, s, "error.html", status=403, message_key="error.role")
        t = i18n.Translator(self.lang(request, s))
        dim = request.path_params["dim"]
        rows = []
        for row in table:
            if row["dimension"] != dim:
                continue
            key = row["label_key"]
            label = (self.fields.option(row["value"], t.lang) or row["value"]
                     if key and key.startswith("opt.")
                     else t(key) if key and t.has(key) else row["value"])
            if row["value"] == "none" and t.has("stats.unanswered"):
                label = t("stats.unanswered")
            rows.append({"label": label, "count": row["count"]})
        if not rows:
            return Response(status_code=404)
        title = t("dim." + dim) if t.has("dim." + dim) else dim
        return Response(bar_chart(title, rows, t("stats.suppressed")),
                        media_type="image/svg+xml",
                        headers={"Content-Security-Policy":
                                 "default-src 'none'; style-src 'unsafe-inline'"})

    # ------------------------------------------------------------ the app

    def build(self) -> Starlette:
        routes = [
            Route("/", self.home),
            Route("/login", self.login, methods=["GET", "POST"]),
            Route("/logout", self.logout, methods=["POST"]),
            Route("/queue", self.queue),
            Route("/queue/claim-next", self.claim_next, methods=["POST"]),
            Route("/cases/{ref}", self.case),
            Route("/cases/{ref}/claim", self.claim, methods=["POST"]),
            Route("/cases/{ref}/pdf", self.case_pdf),
            Route("/cases/{ref}/files/{att}/reveal", self.reveal, methods=["POST"]),
            Route("/cases/{ref}/files/{att}", self.file),
            Route("/cases/{ref}/{op}", self.case_post, methods=["POST"]),
            Route("/identity", self.identity),
            Route("/identity/{id}/{op}", self.identity_post, methods=["POST"]),
            Route("/audit", self.audit),
            Route("/stats", self.stats),
            Route("/stats/chart/{dim}.svg", self.stats_chart),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]
        app = Starlette(routes=routes, lifespan=self._lifespan)
        return _Headers(app)  # type: ignore[return-value]

    @contextlib.asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        """Sweep expired sessions every minute even when no request comes (finding 15)."""
        async def sweeper() -> None:
            while True:
                await asyncio.sleep(security.SWEEP_SECONDS)
                await run_in_threadpool(self.sessions.sweep)
        task = asyncio.create_task(sweeper())
        try:
            yield
        finally:
            task.cancel()


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
                headers = [(k, v) for k, v in message.get("headers", [])
                           if k.lower() != b"content-security-policy" or static is False]
                names = {k.lower() for k, _ in headers}
                extra = [(b"x-content-type-options", b"nosniff"),
                         (b"referrer-policy", b"no-referrer"),
                         (b"x-frame-options", b"DENY"),
                         (b"cross-origin-opener-policy", b"same-origin"),
                         (b"permissions-policy", b"camera=(), microphone=(), geolocation=()")]
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
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _deadline(t: i18n.Translator, deadline: datetime) -> dict[str, str]:
    """A deadline's state (overdue | soon | later, for the CSS class) and a sentence saying
    how long until, or since, it."""
    now = datetime.now(UTC)
    state = dash.deadline_state(deadline, now)
    if deadline.tzinfo is None:
        deadline = deadline.replace(tzinfo=UTC)
    span = _span(t, abs(int((deadline - now).total_seconds() // 60)))
    return {"state": state, "text": t(f"deadline.{state}", span=span)}


def _age(t: i18n.Translator, received: datetime) -> str:
    return _span(t, max(0, int((datetime.now(UTC) - received).total_seconds() // 60)))


def _span(t: i18n.Translator, minutes: int) -> str:
    if minutes < 60:
        return t.count("age.minutes", minutes)
    if minutes < 48 * 60:
        return t.count("age.hours", minutes // 60)
    return t.count("age.days", minutes // 1440)


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
    clean = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C"
                    and ch not in '/\\"').strip(". ")[:120] or "file"
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
        writer.writerow([csv_cell(row["dimension"]), csv_cell(row["value"]),
                         csv_cell(row["count"])])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="sanad-stats.csv"'})


def create_app(dashboard: Dashboard, secure_cookies: bool = False,
               limiter: security.LoginLimiter | None = None,
               trusted_proxies: tuple[str, ...] = ()) -> Any:
    return WebApp(dashboard, secure_cookies, limiter, trusted_proxies).build()
