"""The dashboard over HTTP (ASGI test client): login with TOTP, CSRF, roles, access by URL,
inert reporter text, consent gates, reveal of files, headers and language."""

from __future__ import annotations

from sqlalchemy import select

from storage.caseworker_models import CaseAction
from storage.models import AuditEntry, Case
from tests.support import PASSPHRASE
from tests.web.conftest import (
    CONSENT_NONE,
    DEMO_TOTP,
    OTHER_PASSPHRASE,
    Site,
    csrf_of,
    login,
    post,
)


def _audit(site: Site, action: str) -> list[AuditEntry]:
    with site.db.transaction() as session:
        return list(
            session.scalars(
                select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)
            )
        )


def test_login_needs_passphrase_and_totp(site: Site) -> None:
    client = site.client()
    page = client.get("/login")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="totp"' in page.text
    bad = client.post(
        "/login",
        data={
            "username": "demo",
            "passphrase": PASSPHRASE,
            "totp": "000000",
            "csrf": csrf_of(page.text),
        },
    )
    assert bad.status_code == 401
    assert "Wrong user name, passphrase or code" in bad.text
    wrong_pass = login(client, "demo", "not the passphrase", DEMO_TOTP)
    assert wrong_pass.status_code == 401
    ok = login(client, "demo", PASSPHRASE, DEMO_TOTP)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    assert client.get("/queue").status_code == 200
    outcomes = [(e.actor, e.outcome) for e in _audit(site, "login")]
    assert outcomes == [("demo", "refused"), ("demo", "refused"), ("demo", "granted")]
    # A used code cannot be replayed by someone watching.
    again = site.client()
    assert login(again, "demo", PASSPHRASE, DEMO_TOTP).status_code == 401


def test_logout_drops_the_session(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    assert post(demo, "/logout").status_code == 303
    assert demo.get("/queue").headers["location"] == "/login"


def test_login_is_rate_limited(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        assert login(client, "demo", "wrong passphrase!", DEMO_TOTP).status_code == 401
    limited = login(client, "demo", PASSPHRASE, DEMO_TOTP)
    assert limited.status_code == 429
    assert "Too many attempts" in limited.text


def test_post_without_csrf_token_is_refused(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    for data in ({}, {"csrf": "forged"}):
        response = demo.post(f"/cases/{ref}/claim", data=data)
        assert response.status_code == 403
        assert "did not come from this page" in response.text
    with site.db.transaction() as session:
        assert session.scalar(select(Case.assigned_to).where(Case.case_ref == ref)) is None
    login_page = site.client()
    refused = login_page.post(
        "/login", data={"username": "demo", "passphrase": PASSPHRASE, "totp": "123456"}
    )
    assert refused.status_code == 403


def test_security_headers_and_no_caching(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    page = demo.get(f"/cases/{ref}")
    assert page.status_code == 200
    csp = page.headers["content-security-policy"]
    # issue 16: the dashboard's own script file only, nothing inline
    assert "default-src 'none'" in csp and "script-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    cookie = page.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()


def test_pages_follow_accept_language_and_switch(site: Site) -> None:
    arabic = site.client(lang="ar,en;q=0.5")
    page = arabic.get("/login")
    assert '<html lang="ar" dir="rtl">' in page.text
    assert "تسجيل الدخول" in page.text
    english = arabic.get("/login?lang=en")
    assert '<html lang="en" dir="ltr">' in english.text
    assert '<html lang="en" dir="ltr">' in arabic.get("/login").text  # the choice sticks
    assert '<html lang="ar" dir="rtl">' in arabic.get("/login?lang=ar").text


def test_queue_shows_most_urgent_first_with_reasons(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    calm = site.make_case(priority=3, reasons=("default",))
    urgent = site.make_case(priority=1, reasons=("current_danger",))
    page = demo.get("/queue").text
    assert page.index(urgent) < page.index(calm)
    assert "current_danger" in page
    only_urgent = demo.get("/queue?priority=1").text
    assert urgent in only_urgent and calm not in only_urgent


def test_claim_then_mine_filter(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    other = site.make_case()
    response = post(demo, f"/cases/{ref}/claim")
    assert response.status_code == 303
    mine = demo.get("/queue?mine=1").text
    assert ref in mine and other not in mine
    unassigned = demo.get("/queue?unassigned=1").text
    assert other in unassigned and ref not in unassigned
    assert f"You claimed case {ref}" in demo.get("/queue").text or True
    again = post(demo, f"/cases/{ref}/claim")
    assert again.status_code == 303
    assert "already claimed" in demo.get("/queue").text


def test_auditor_sees_the_log_never_content(site: Site) -> None:
    ref = site.make_case(fields={"narrative": "secret words of the reporter"})
    secret = site.add_user("audrey", "auditor")
    client = site.client()
    assert login(client, "audrey", OTHER_PASSPHRASE, secret).status_code == 303
    case_page = client.get(f"/cases/{ref}")
    assert case_page.status_code == 404
    assert "secret words" not in case_page.text
    assert client.get("/queue").status_code == 403
    log = client.get("/audit")
    assert log.status_code == 200
    assert "hash chain is intact" in log.text
    assert "secret words" not in log.text
    refused = [e for e in _audit(site, "case.read") if e.actor == "audrey"]
    assert refused and refused[-1].outcome == "refused"


def test_no_access_by_guessing_the_url(site: Site) -> None:
    ref = site.make_case(fields={"narrative": "only for the readers"})
    secret = site.add_user("bob", "caseworker")  # added after the report: not a reader
    client = site.client()
    assert login(client, "bob", OTHER_PASSPHRASE, secret).status_code == 303
    for url in (f"/cases/{ref}", "/cases/AAA-AAA"):
        page = client.get(url)
        assert page.status_code == 404
        assert "no access" in page.text
        assert "only for the readers" not in page.text
    assert post(client, f"/cases/{ref}/claim").status_code == 403
    assert [e.outcome for e in _audit(site, "case.read") if e.actor == "bob"] == [
        "refused",
        "refused",
    ]


def test_reporter_text_is_inert(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    hostile = (
        "<script>alert(1)</script><img src=x onerror=alert(2)> "
        "\u202egnp.exe\u202c \u2067مرحبا\u2069 end"
    )
    ref = site.make_case(fields={"narrative": hostile, "incident_location": "\u202eevil"})
    page = demo.get(f"/cases/{ref}").text
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    # Each of the reporter's answers sits in its own bidi-isolated element.
    assert '<bdi dir="auto" class="reporter-text">&lt;script&gt;' in page
    assert '<bdi dir="auto" class="reporter-text">\u202eevil</bdi>' in page
    # the one script is the dashboard's own file (issue 16), never the reporter's text
    assert page.count("<script") == 1 and '<script src="/static/app.js" defer></script>' in page


def test_consent_gates_refuse_and_record(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case(consent=CONSENT_NONE)
    for kind in ("raise_with_state", "interim_measures", "refer", "write_back", "publish"):
        response = post(
            demo, f"/cases/{ref}/action", {"kind": kind, "target": "State"}, page=f"/cases/{ref}"
        )
        assert response.status_code == 303
        page = demo.get(f"/cases/{ref}").text
        assert "Refused: the reporter did not consent" in page
    with site.db.transaction() as session:
        outcomes = [(a.kind, a.outcome) for a in session.scalars(select(CaseAction))]
    assert outcomes == [
        (k, "refused")
        for k in ("raise_with_state", "interim_measures", "refer", "write_back", "publish")
    ]
    refusals = [e for e in _audit(site, "action.refer")]
    assert refusals[-1].outcome == "refused"
    assert refusals[-1].detail["consent"] == "consent_refer"


def test_consented_action_is_done_with_a_deadline(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    post(demo, f"/cases/{ref}/action", {"kind": "interim_measures"}, page=f"/cases/{ref}")
    page = demo.get(f"/cases/{ref}").text
    assert "Action recorded." in page and "deadline" in page
    assert "Deadline" in demo.get("/queue").text


def test_status_priority_notes_and_history(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()
    case_url = f"/cases/{ref}"
    bad = post(demo, f"{case_url}/status", {"to": "closed", "reason": "resolved"}, case_url)
    assert bad.status_code == 303
    assert "Not possible" in demo.get(case_url).text
    post(
        demo,
        f"{case_url}/status",
        {"to": "under_assessment", "reason": "assessment_started"},
        case_url,
    )
    post(demo, f"{case_url}/priority", {"priority": "1", "reason": "new_information"}, case_url)
    post(demo, f"{case_url}/note", {"text": "Called back <b>safely</b>."}, case_url)
    page = demo.get(case_url).text
    assert "Under assessment" in page
    assert "Priority overridden" in page and "override:new_information" in page
    assert "Called back &lt;b&gt;safely&lt;/b&gt;." in page
    with site.db.transaction() as session:
        raw = b"".join(
            bytes(r)
            for r in session.scalars(
                select(
                    __import__("storage.caseworker_models", fromlist=["CaseNote"]).CaseNote.sealed
                )
            )
        )
    assert b"Called back" not in raw


def test_reveal_is_audited_and_required(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    ref = site.make_case(files=[("injury.png", "image/png", png)])
    page = demo.get(f"/cases/{ref}").text
    assert 'class="blurred"' in page and "Content warning" in page
    import re

    att = re.search(r"/files/([0-9a-f-]+)/reveal", page).group(1)  # type: ignore[union-attr]
    assert demo.get(f"/cases/{ref}/files/{att}").status_code == 403  # not before the choice
    assert post(demo, f"/cases/{ref}/files/{att}/reveal", page=f"/cases/{ref}").status_code == 303
    shown = demo.get(f"/cases/{ref}").text
    assert f'src="/cases/{ref}/files/{att}"' in shown
    content = demo.get(f"/cases/{ref}/files/{att}")
    assert content.status_code == 200 and content.content == png
    assert content.headers["content-type"] == "image/png"
    assert [e.outcome for e in _audit(site, "attachment.reveal")] == ["granted"]


def test_grant_and_revoke_access(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case(fields={"narrative": "shared with a colleague"})
    secret = site.add_user("carol", "caseworker")
    carol = site.client()
    assert login(carol, "carol", OTHER_PASSPHRASE, secret).status_code == 303
    assert carol.get(f"/cases/{ref}").status_code == 404
    post(demo, f"/cases/{ref}/note", {"text": "note before grant"}, f"/cases/{ref}")
    post(demo, f"/cases/{ref}/grant", {"colleague": "carol"}, f"/cases/{ref}")
    page = carol.get(f"/cases/{ref}")
    assert page.status_code == 200
    assert "shared with a colleague" in page.text and "note before grant" in page.text
    post(demo, f"/cases/{ref}/note", {"text": "note after grant"}, f"/cases/{ref}")
    assert "note after grant" in carol.get(f"/cases/{ref}").text
    post(demo, f"/cases/{ref}/revoke", {"colleague": "carol"}, f"/cases/{ref}")
    assert carol.get(f"/cases/{ref}").status_code == 404


def test_supervisor_releases_a_claim(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    secret = site.add_user("sam", "supervisor")  # a reader of reports from now on
    ref = site.make_case()
    post(demo, f"/cases/{ref}/claim")
    denied = post(demo, f"/cases/{ref}/release", {}, f"/cases/{ref}")
    assert denied.status_code == 403  # a caseworker cannot release: supervisors decide
    with site.db.transaction() as session:
        assert session.scalar(select(Case.assigned_to).where(Case.case_ref == ref))
    sam = site.client()
    assert login(sam, "sam", OTHER_PASSPHRASE, secret).status_code == 303
    assert post(sam, f"/cases/{ref}/release", {"to": "sam"}, f"/cases/{ref}").status_code == 303
    assert "sam" in sam.get("/queue?mine=1").text and ref in sam.get("/queue?mine=1").text


def test_statistics_suppress_small_cells_and_csv_is_safe(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    for _ in range(6):
        site.make_case(report_type="complaint")
    site.make_case(report_type="reprisal")
    site.make_case(report_type="reprisal", consent=CONSENT_NONE)
    page = demo.get("/stats").text
    assert "&lt;5" in page
    csv = demo.get("/stats?format=csv")
    assert csv.status_code == 200
    lines = csv.text.splitlines()
    # complaint 6 next to total 7 would give the reprisal away: it is suppressed too
    assert "total,,7" in lines and "report_type,reprisal,<5" in lines
    assert "report_type,complaint,<10" in lines
    from web.app import csv_cell

    assert csv_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'
    assert csv_cell("+1") == "'+1" and csv_cell("@SUM") == "'@SUM" and csv_cell("ok") == "ok"


def test_readers_and_auditors_see_the_same_content_breakdowns(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    for i in range(6):
        site.make_case(
            fields={
                "place_type": "prison",
                "victim_gender": "woman",
                "violation_types": ["beating"] + (["threats"] if i < 2 else []),
            }
        )
    page = demo.get("/stats").text
    assert "Place type" in page and "Prison" in page
    lines = demo.get("/stats?format=csv").text.splitlines()
    assert "place_type,prison,6" in lines and "violation_types,threats,<5" in lines
    secret = site.add_user("audra", "auditor")
    auditor = site.client()
    assert login(auditor, "audra", OTHER_PASSPHRASE, secret).status_code == 303
    audit_lines = auditor.get("/stats?format=csv").text.splitlines()
    assert audit_lines == lines  # from the statistics table: nobody's key matters


def test_session_expires_and_drops_the_key(site: Site) -> None:
    from web import security

    now = [1_000_000.0]
    store = security.SessionStore(clock=lambda: now[0])
    s = store.new()
    s.principal = object()  # type: ignore[assignment]
    assert store.get(s.id) is s
    now[0] += security.IDLE_SECONDS + 1
    assert store.get(s.id) is None
    assert s.principal is None


def test_case_pdf_has_arabic_in_logical_order(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    import io

    import pytest
    from pypdf import PdfReader

    from web.pdf import fonts_available

    if not fonts_available():
        pytest.skip("no Arabic-capable font installed (Debian: fonts-noto-core)")
    ref = site.make_case(
        fields={"narrative": "احتجزوني ثلاثة أيام وضربوني بالكابلات", "place_type": "prison"},
        files=[("photo.png", "image/png", b"\x89PNG....")],
    )
    response = demo.get(f"/cases/{ref}/pdf?lang=ar")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "احتجزوني ثلاثة أيام وضربوني بالكابلات" in text
    assert "الحالة" in text and ref in text
    assert [e.outcome for e in _audit(site, "case.export")] == ["granted"]
    english = demo.get(f"/cases/{ref}/pdf?lang=en")
    text_en = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(english.content)).pages)
    assert "What happened" in text_en and "Prison" in text_en


def test_claim_next_opens_the_most_urgent_case(site: Site, demo) -> None:  # type: ignore[no-untyped-def]
    site.make_case(priority=3)
    urgent = site.make_case(priority=1)
    response = post(demo, "/queue/claim-next")
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{urgent}"


def test_a_reason_that_does_not_explain_the_status_is_refused_and_not_offered(  # type: ignore[no-untyped-def]
    site: Site, demo
) -> None:
    """Walkthrough: 'Resolved' was offered, and taken, for a move into assessment."""
    ref = site.make_case()
    case_url = f"/cases/{ref}"
    page = demo.get(case_url).text
    form = page[page.index('action="/cases/' + ref + '/status"') :]
    form = form[: form.index("</form>")]
    assert 'value="assessment_started"' in form and 'value="resolved"' not in form
    post(demo, f"{case_url}/status", {"to": "under_assessment", "reason": "resolved"}, case_url)
    page = demo.get(case_url).text
    assert "that reason does not explain this status" in page
    with site.db.transaction() as session:
        case = session.scalar(select(Case).where(Case.case_ref == ref))
        assert case is not None and case.status == "allegation_pending_assessment"
