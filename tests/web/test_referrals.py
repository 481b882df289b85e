"""Referrals followed up (issue 18 item 6), on the dashboard: a body of the register, a
deadline the alerts remind of (on-call before, supervisors after, once each, none once
answered), status and outcome, the reporter told only with consent; both languages."""

from __future__ import annotations

import re
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

import alerts
from caseworker import referrals
from storage import cases
from storage.referral_models import Referral
from tests.alerts.conftest import ENV, oncall_text
from tests.fakes.http_recorder import HttpRecorder
from tests.fakes.smtp_server import SmtpServer
from tests.web.conftest import CONSENT_NONE, Site, post


def _referral(site: Site, ref: str) -> Referral:
    with site.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        row = session.scalar(select(Referral).where(Referral.case_id == case.id))
        assert row is not None
        session.expunge(row)
        return row


def test_a_referrals_deadline_reminds_then_escalates_and_stops_when_answered(
    site: Site, demo, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    ref = site.make_case()  # the reporter consented to referral
    post(
        demo, f"/cases/{ref}/referrals", {"body": "sr_torture", "days": "10"}, page=f"/cases/{ref}"
    )
    page = demo.get(f"/cases/{ref}").text
    section = re.search(r'<section aria-labelledby="h-referrals".*?</section>', page, re.S)
    assert section and "UN Special Rapporteur on torture" in section.group(0)
    assert 'data-status="sent"' in section.group(0) and "Referral sent" in page
    sent = _referral(site, ref)
    assert sent.deadline is not None

    with (
        HttpRecorder() as tg,
        HttpRecorder(201, [{"timestamp": "1"}]) as sig,
        HttpRecorder(200, {}) as hook,
        SmtpServer() as smtp,
    ):
        servers = type("S", (), {"telegram": tg, "signal": sig, "webhook": hook, "smtp": smtp})
        path = tmp_path / "oncall.yaml"
        path.write_text(oncall_text(servers), encoding="utf-8")  # type: ignore[arg-type]
        config, senders = alerts.load_oncall(path), alerts.default_senders(ENV, timeout=2)
        start = datetime.now(UTC)
        assert alerts.dispatch(site.db, config, start + timedelta(days=5), senders).sent == 0
        due = alerts.dispatch(site.db, config, start + timedelta(days=9), senders)
        assert (due.reminded, due.sent) == (1, 3)  # the on-call routes
        text = urllib.parse.parse_qs(tg.requests[0].body.decode())["text"][0]
        assert text.startswith(f"Sanad: the deadline of a referral of case {ref} is in")
        assert hook.requests[0].json()["kind"] == "referral_due"
        assert (
            alerts.dispatch(site.db, config, start + timedelta(days=9, hours=2), senders).sent == 0
        )
        late = alerts.dispatch(site.db, config, start + timedelta(days=11), senders)
        assert (late.reminded, late.sent) == (1, 1)  # the supervisors, by mail
        assert "OVERDUE" in smtp.messages[0].data.decode("utf-8", "replace")
        assert "A short account" not in smtp.messages[0].data.decode("utf-8", "replace")

        # A second referral, answered before its deadline: never reminded.
        post(demo, f"/cases/{ref}/referrals", {"body": "npm", "days": "3"}, page=f"/cases/{ref}")
        with site.db.transaction() as session:
            npm = session.scalar(select(Referral).where(Referral.body == "npm"))
            assert npm is not None
            npm_id = npm.id
        post(
            demo,
            f"/cases/{ref}/referrals/{npm_id}",
            {"status": "answered", "outcome": "investigation_opened"},
            page=f"/cases/{ref}",
        )
        assert alerts.dispatch(site.db, config, start + timedelta(days=20), senders).sent == 0

    page = demo.get(f"/cases/{ref}").text
    assert "investigation opened" in page and "overdue reminder sent to the supervisors" in page
    arabic = demo.get(f"/cases/{ref}?lang=ar").text
    assert "الإحالات" in arabic and "المقرر الخاص المعني بالتعذيب" in arabic
    assert "فُتح تحقيق" in arabic


def test_no_referral_without_consent_and_the_reporter_told_only_with_a_way_back(
    site: Site, demo
) -> None:  # type: ignore[no-untyped-def]
    refused = site.make_case(consent=CONSENT_NONE)
    post(demo, f"/cases/{refused}/referrals", {"body": "cat"}, page=f"/cases/{refused}")
    page = demo.get(f"/cases/{refused}").text
    assert "did not consent to a referral" in page and "No referral yet." in page

    ref = site.make_case()  # consents, but came through no channel to write back to
    post(demo, f"/cases/{ref}/referrals", {"body": "cat"}, page=f"/cases/{ref}")
    rid = _referral(site, ref).id
    post(demo, f"/cases/{ref}/referrals/{rid}", {"tell": "1"}, page=f"/cases/{ref}")
    assert "cannot be written back to" in demo.get(f"/cases/{ref}").text
    assert _referral(site, ref).reporter_told_at is None
    # the register is data, in both languages
    assert all(b.name["ar"] and b.name["en"] for b in referrals.bodies().values())


def test_the_reporter_is_told_in_their_language_through_their_channel(
    site: Site, demo, make_service, clock
) -> None:  # type: ignore[no-untyped-def]
    import time
    from dataclasses import replace as dc_replace

    clock.now = time.time()  # the intake and the dashboard read the same time
    from tests.support import Chat

    service = make_service()
    chat = Chat(service, user="huda", lang="ar", open_now=False)
    chat.src = dc_replace(chat.src, route="chat-huda")
    chat.replies = service.open(chat.src, "ar").replies
    chat.run(
        [
            ("consent_store", "نعم"),
            ("consent_followup", "نعم"),
            ("consent_share_identity", "لا"),
            ("consent_refer", "نعم"),
            ("consent_stats", "لا"),
            ("consent_publish", "لا"),
            ("report_type", "complaint"),
            ("reporter_role", "victim"),
            ("reporter_is_child", "لا"),
            ("current_danger", "لا"),
        ]
    )
    while chat.question.field != "confirm_submit":
        chat.say("/skip")
    chat.say("نعم")
    ref = next(r for r in chat.replies if r.kind == "receipt").extra["case_ref"]
    post(demo, f"/cases/{ref}/referrals", {"body": "sr_torture"}, page=f"/cases/{ref}")
    rid = _referral(site, ref).id
    post(demo, f"/cases/{ref}/referrals/{rid}", {"tell": "1"}, page=f"/cases/{ref}")
    assert _referral(site, ref).reporter_told_at is not None
    clock.now = time.time() + 60  # the bot's next outbox round
    [item] = [i for i in service.pending_outbox("console") if i.route == "chat-huda"]
    assert "أحلناه بإذنك إلى المقرر الخاص المعني بالتعذيب" in item.replies[0].text
    assert "the reporter was told" in demo.get(f"/cases/{ref}?lang=en").text


REPORT = b"%PDF-1.7\n% medico-legal examination: fractures of the left wrist " * 40_000  # 2.6 MB


def test_a_medico_legal_report_is_kept_sealed_with_its_referral(  # type: ignore[no-untyped-def]
    site: Site, demo, monkeypatch
) -> None:
    """Issue 18 item 4: the medico-legal referral's report, uploaded by a caseworker, is kept
    with the case sealed like the reporter's files (never on disk in clear, not even while
    it is uploaded: above 1 MB a plain form parser would spool it to a temporary file), shown
    on the referral and in the files, and it opens again to the same bytes."""
    import hashlib

    from tests.web.conftest import csrf_of

    ref = site.make_case()
    post(demo, f"/cases/{ref}/referrals", {"body": "medico_legal"}, page=f"/cases/{ref}")
    rid = _referral(site, ref).id
    token = csrf_of(demo.get(f"/cases/{ref}").text)
    url = f"/cases/{ref}/referrals/{rid}/report"

    def no_spooling(*args: object, **kwargs: object) -> None:
        raise AssertionError("the upload went through a parser that spools to disk")

    monkeypatch.setattr("starlette.formparsers.SpooledTemporaryFile", no_spooling)
    answer = demo.post(
        url, data={"csrf": token}, files={"file": ("exam-2026-11.pdf", REPORT, "application/pdf")}
    )
    assert answer.status_code == 303 and answer.headers["location"].endswith("#referrals")
    page = demo.get(f"/cases/{ref}").text
    assert "The report was sealed and kept with the case." in page
    section = re.search(r'<section aria-labelledby="h-referrals".*?</section>', page, re.S)
    assert section and "Report received" in section.group(0)
    assert "exam-2026-11.pdf" in section.group(0)
    assert hashlib.sha256(REPORT).hexdigest() in page  # listed with the case's files
    att = re.search(r'data-report="([0-9a-f-]+)"', section.group(0))
    assert att
    # stored only as ciphertext, and opens to the same bytes once revealed
    stored = b"".join(
        p.read_bytes() for p in site.settings.attachments_dir.rglob("*") if p.is_file()
    )
    assert b"fractures of the left wrist" not in stored and len(stored) > len(REPORT)
    post(demo, f"/cases/{ref}/files/{att.group(1)}/reveal", page=f"/cases/{ref}")
    assert demo.get(f"/cases/{ref}/files/{att.group(1)}?download=1").content == REPORT
    assert "A report received from a referral was kept" in demo.get(f"/cases/{ref}").text

    # refused, and said why, in the reader's language: not a report's type, no CSRF token
    token = csrf_of(demo.get(f"/cases/{ref}").text)
    demo.post(
        url,
        data={"csrf": token},
        files={"file": ("notes.html", b"<script>alert(1)</script>", "application/pdf")},
    )
    assert "a report is a PDF, JPEG or PNG file" in demo.get(f"/cases/{ref}").text
    token = csrf_of(demo.get(f"/cases/{ref}?lang=ar").text)
    demo.post(
        url, data={"csrf": token}, files={"file": ("x.exe", b"MZ\x90\x00", "application/pdf")}
    )
    assert "التقرير ملف PDF أو JPEG أو PNG" in demo.get(f"/cases/{ref}").text
    assert demo.post(url, files={"file": ("a.pdf", REPORT, "application/pdf")}).status_code == 403
    with site.db.transaction() as session:
        case = cases.by_ref(session, ref)
        assert case is not None
        assert len(referrals.of_case(session, case.id)) == 1
        from storage.models import Attachment

        assert (
            len(list(session.scalars(select(Attachment).where(Attachment.case_id == case.id)))) == 1
        )  # the refused ones left nothing
