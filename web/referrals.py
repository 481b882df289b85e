"""The case page's referrals (issue 18 item 6): send to a body of the register, follow its
status and outcome, tell the reporter (caseworker/referrals.py holds the rules).

    POST /cases/{ref}/referrals               body, days: a referral sent today
    POST /cases/{ref}/referrals/{rid}         status | outcome, or tell=1: tell the reporter
    POST /cases/{ref}/referrals/{rid}/report  file (multipart): the report the body sent
                                              back (a medico-legal examination's), sealed
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from caseworker import dashboard as dash
from caseworker import referrals
from storage import REFERRAL_OUTCOMES, REFERRAL_STATUSES, cases, casework, crypto
from web import security
from web.render import builtin_flows
from web.uploads import UploadRefused, read_form_with_file

__all__ = ["Referrals"]


class Referrals:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.flows = builtin_flows()
        app.env.globals.update(
            referral_bodies=referrals.bodies(),
            referral_statuses=REFERRAL_STATUSES,
            referral_outcomes=REFERRAL_OUTCOMES,
        )

    def routes(self) -> list[Route]:
        return [
            Route("/cases/{ref}/referrals", self.create, methods=["POST"]),
            Route("/cases/{ref}/referrals/{rid}", self.change, methods=["POST"]),
            Route("/cases/{ref}/referrals/{rid}/report", self.report, methods=["POST"]),
        ]

    def rows(self, case_ref: str) -> list[dict[str, Any]]:
        """For the case page, already opened by its reader: codes and dates only."""
        with self.app.d.db.transaction() as session:
            case = cases.by_ref(session, case_ref)
            return referrals.of_case(session, case.id) if case is not None else []

    def _sealed(self, session: Any, case: Any, who: Any) -> dict[str, str]:
        try:
            opened = cases.open_case(session, case, who.private_key, who.key_id)
        except crypto.CryptoError as exc:
            raise dash.Forbidden("this case cannot be opened with your key") from exc
        return cases.sealed_consent(opened)

    async def _do(self, request: Request, action: str, body: Any) -> Response:
        checked = await self.app.posted(request)
        if isinstance(checked, Response):
            return checked
        s, who, data = checked
        return await self._apply(
            request,
            s,
            who,
            action,
            lambda session, case: body(session, case, who, data),
            "referral.saved",
        )

    async def _apply(
        self, request: Request, s: Any, who: Any, action: str, body: Any, saved: str
    ) -> Response:
        """Run `body(session, case)` as the dashboard's audited case action; say it was
        saved or why it was refused, back on the case's referrals."""
        ref = request.path_params["ref"].upper()
        try:
            await run_in_threadpool(self.app.d._run, who, ref, action, body)
            s.flash.append(("ok", saved, {}))
        except dash.Refused as exc:
            self.app.flash_refused(request, s, exc)
        except dash.Forbidden:
            return self.app.page(
                request, s, "error.html", status=403, message_key="error.forbidden"
            )
        return self.app.redirect(s, f"/cases/{ref}#referrals")

    async def create(self, request: Request) -> Response:
        def body(session: Any, case: Any, who: Any, data: dict[str, Any]) -> None:
            days = str(data.get("days") or "").strip()
            if days and not days.isdigit():
                raise referrals.ReferralError("bad_days", "the deadline is a number of days")
            referrals.create(
                session,
                case,
                str(data.get("body", "")),
                who.name,
                self.app.d.now(),
                self._sealed(session, case, who),
                int(days) if days else None,
            )

        return await self._do(request, "case.referral", body)

    async def change(self, request: Request) -> Response:
        rid = request.path_params["rid"]

        def body(session: Any, case: Any, who: Any, data: dict[str, Any]) -> None:
            now = self.app.d.now()
            if data.get("tell"):
                row = next((r for r in referrals.of_case(session, case.id) if r["id"] == rid), None)
                if row is None:
                    raise referrals.ReferralError("no_referral", "no such referral")
                lang = case.lang if case.lang in self.flows.catalog else "ar"
                name = (
                    referrals.bodies()[row["body"]].name[lang]
                    if row["body"] in referrals.bodies()
                    else row["body"]
                )
                text = self.flows.text(lang, "sys.referral.told", body=name)
                referrals.told(
                    session,
                    case,
                    rid,
                    self.app.d.pepper,
                    self._sealed(session, case, who),
                    who.name,
                    now,
                    text,
                )
                return
            referrals.update(
                session,
                case,
                rid,
                who.name,
                now,
                status=data.get("status") or None,
                outcome=data.get("outcome") or None,
            )

        return await self._do(request, "case.referral", body)

    async def report(self, request: Request) -> Response:
        """The report a body sent back, read into memory only (web.uploads), sealed under
        the case's report key and kept with the case, linked to its referral."""
        s, who = await self.app.who(request)
        if who is None:
            return self.app.login_redirect(s)
        ref, rid = request.path_params["ref"].upper(), request.path_params["rid"]
        try:
            posted = await read_form_with_file(request, referrals.MAX_REPORT_BYTES)
        except UploadRefused as exc:
            self.app.flash_refused(request, s, dash.Refused(str(exc), exc.code))
            return self.app.redirect(s, f"/cases/{ref}#referrals")
        try:
            if not security.csrf_ok(s, posted.fields.get("csrf")):
                return self.app.refuse_csrf(request, s)

            def body(session: Any, case: Any) -> None:
                key = casework.report_key(session, case, who.private_key, who.key_id)
                referrals.attach_report(
                    session,
                    case,
                    rid,
                    key,
                    self.app.d.objects,
                    posted.name or "",
                    posted.data,
                    who.name,
                    self.app.d.now(),
                )

            return await self._apply(
                request, s, who, "case.referral_report", body, "referral.report_saved"
            )
        finally:
            posted.wipe()
